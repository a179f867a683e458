"""Référentiel services: load the shipped files, list frameworks, find a criterion's neighbours."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..models import Criterion, CriterionMapping, Framework, Section
from .importer import FrameworkSpec, parse_yaml, save_framework, save_mapping

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass
class LoadReport:
    added: list[str]
    already_there: list[str]
    mappings_added: int


@cache
def shipped_specs() -> tuple[FrameworkSpec, ...]:
    """The shipped framework files, parsed and checked once per process."""
    return tuple(parse_yaml(p.read_text(encoding="utf-8")) for p in sorted(DATA_DIR.glob("*.yaml")))


@cache
def shipped_mappings() -> tuple[dict, ...]:
    return tuple(
        yaml.safe_load(p.read_text("utf-8")) for p in sorted((DATA_DIR / "mappings").glob("*.yaml"))
    )


def load_shipped_referentiels(session: Session) -> LoadReport:
    """Add the shipped frameworks and mappings that are not in the database yet (idempotent)."""
    report = LoadReport(added=[], already_there=[], mappings_added=0)
    for spec in shipped_specs():
        exists = session.scalar(
            select(Framework.id).where(
                Framework.code == spec.code, Framework.version == spec.version
            )
        )
        label = f"{spec.code} v{spec.version}"
        if exists:
            report.already_there.append(label)
            continue
        save_framework(session, spec)
        report.added.append(label)
    for mapping in shipped_mappings():
        report.mappings_added += save_mapping(session, mapping)
    return report


@dataclass
class FrameworkSummary:
    framework: Framework
    criteria_count: int
    indispensable_count: int


def list_frameworks(session: Session) -> list[FrameworkSummary]:
    """Every framework version with its counts, newest version of each code first."""
    counts = (
        select(
            Criterion.framework_id,
            func.count(Criterion.id).label("criteria"),
            func.count(Criterion.id).filter(Criterion.indispensable.is_(True)).label("indisp"),
        )
        .group_by(Criterion.framework_id)
        .subquery()
    )
    rows = session.execute(
        select(Framework, func.coalesce(counts.c.criteria, 0), func.coalesce(counts.c.indisp, 0))
        .outerjoin(counts, counts.c.framework_id == Framework.id)
        .order_by(Framework.code, Framework.id.desc())
    ).all()
    return [FrameworkSummary(f, criteria, indisp) for f, criteria, indisp in rows]


def latest_versions(session: Session, codes: list[str] | None = None) -> list[Framework]:
    """The latest imported version of every framework (or of those ``codes``), by code: what a
    school chooses to follow, and what its new campaign is proposed on."""
    newest = select(func.max(Framework.id)).group_by(Framework.code)
    statement = select(Framework).where(Framework.id.in_(newest))
    if codes is not None:
        statement = statement.where(Framework.code.in_(codes))
    return list(session.scalars(statement.order_by(Framework.code)))


def framework_with_criteria(session: Session, framework_id: int) -> Framework | None:
    """A framework with its sections and criteria loaded in two queries, ready to render."""
    return session.scalar(
        select(Framework)
        .where(Framework.id == framework_id)
        .options(selectinload(Framework.sections).selectinload(Section.criteria))
    )


def related_criteria(session: Session, criterion: Criterion) -> list[tuple[Criterion, str]]:
    """Criteria of other frameworks mapped to this one, either direction, with the mapping note."""
    rows = session.execute(
        select(CriterionMapping)
        .where(
            or_(
                CriterionMapping.from_criterion_id == criterion.id,
                CriterionMapping.to_criterion_id == criterion.id,
            )
        )
        .options(
            selectinload(CriterionMapping.from_criterion).selectinload(Criterion.framework),
            selectinload(CriterionMapping.to_criterion).selectinload(Criterion.framework),
        )
    ).scalars()
    related = []
    for mapping in rows:
        other = (
            mapping.to_criterion
            if mapping.from_criterion_id == criterion.id
            else mapping.from_criterion
        )
        related.append((other, mapping.note))
    related.sort(key=lambda pair: (pair[0].framework.code, pair[0].position))
    return related

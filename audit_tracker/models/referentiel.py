"""Référentiels (frameworks): sections, criteria, finding scale, categories, cross-mappings.

Frameworks are reference data shared by every school of the network: the E2C grid and Qualiopi
are the same for all. Each (code, version) is its own row, so importing a new version leaves the
old one, and everything linked to its criteria, untouched.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, enum_column, utcnow


class FindingKind(enum.StrEnum):
    STRENGTH = "strength"
    NEUTRAL = "neutral"
    PROGRESS = "progress"
    WATCH = "watch"
    NONCONFORMITY = "nonconformity"


class Framework(Model):
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    provisional: Mapped[bool] = mapped_column(default=False)
    cycle_years: Mapped[int | None]
    published_on: Mapped[date | None]
    source: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    section_label: Mapped[str] = mapped_column(String(40), default="Section")
    criterion_label: Mapped[str] = mapped_column(String(40), default="Critère")
    # The levels a school rates itself with in its self-assessment grid, lowest first:
    # [{"code": "en_cours", "label": "En cours de déploiement"}, …]. Data, like the finding
    # scale: a framework brings its own.
    self_assessment_scale: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Rules of the scale and of the cycle that are not one finding type's (docs/referentiel-
    # format.md, « rules »): the accompaniment margin, « 5 NC mineures = 1 NC majeure », the
    # label's cycle, the criteria a non-certifying campaign does not answer.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    sections: Mapped[list[Section]] = relationship(
        back_populates="framework", order_by="Section.position", cascade="all, delete-orphan"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="framework",
        order_by="Criterion.position",
        cascade="all, delete-orphan",
        overlaps="section,criteria",
    )
    categories: Mapped[list[FrameworkCategory]] = relationship(
        order_by="FrameworkCategory.position", cascade="all, delete-orphan"
    )
    finding_types: Mapped[list[FindingType]] = relationship(
        order_by="FindingType.position", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        """Name and version: two versions of one framework may be imported side by side."""
        return f"{self.name} · v{self.version}"

    def __repr__(self) -> str:
        return f"<Framework {self.code} v{self.version}>"


class FrameworkCategory(Model):
    """A category of application, e.g. Qualiopi's actions de formation or apprentissage."""

    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)


class FindingType(Model):
    """One step of the framework's finding scale (point fort … non-conformité majeure)."""

    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    kind: Mapped[FindingKind] = enum_column(FindingKind)
    severity: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)
    # How a finding of this type must be answered (see docs/referentiel-format.md).
    plan_days: Mapped[int | None]  # the certifier's delay to receive the action plan
    action_months: Mapped[int | None]
    verify_months: Mapped[int | None]
    before_next_audit: Mapped[bool] = mapped_column(default=False)
    escalates_to: Mapped[str | None] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(Text, default="")

    @property
    def is_nonconformity(self) -> bool:
        """Only a non-conformity must be answered by a corrective action and its proof."""
        return self.kind is FindingKind.NONCONFORMITY


class Section(Model):
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    guidance: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    framework: Mapped[Framework] = relationship(back_populates="sections")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="section", order_by="Criterion.position", overlaps="criteria,framework"
    )


class Criterion(Model):
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    guidance: Mapped[str] = mapped_column(Text, default="")
    expected_evidence: Mapped[str] = mapped_column(Text, default="")
    obligations: Mapped[str] = mapped_column(Text, default="")
    indispensable: Mapped[bool] = mapped_column(default=False)
    new_provider_adapted: Mapped[bool] = mapped_column(default=False)
    # Category codes the criterion applies to; empty means every category.
    applies_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Finding type codes allowed on this criterion; None means the whole scale.
    finding_types: Mapped[list[str] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)

    framework: Mapped[Framework] = relationship(back_populates="criteria", overlaps="criteria")
    section: Mapped[Section] = relationship(back_populates="criteria", overlaps="criteria")

    @property
    def label(self) -> str:
        """Each framework names its criteria its own way: « Indicateur 12 », « Critère A1 »."""
        return f"{self.framework.criterion_label} {self.code}"

    def __repr__(self) -> str:
        return f"<Criterion {self.framework_id}:{self.code}>"


class CriterionMapping(Model):
    """Two criteria of different frameworks that one proof can serve at once."""

    __table_args__ = (UniqueConstraint("from_criterion_id", "to_criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"), index=True)
    to_criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    from_criterion: Mapped[Criterion] = relationship(foreign_keys=[from_criterion_id])
    to_criterion: Mapped[Criterion] = relationship(foreign_keys=[to_criterion_id])

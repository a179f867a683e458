"""The audit day (« programme d'audit »): slots per day and site, the paper proofs to have at hand
per slot, the on-the-day checklist, and the samples the auditor asks for, pseudonymised. Plain
functions over a session; the caller commits."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import tables
from ..domain.errors import DomainError, flush_or_conflict
from ..models import (
    SLOT_ROLES,
    AuditSample,
    AuditSlot,
    Campaign,
    Criterion,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Finding,
    Milestone,
    ReviewStatus,
    Role,
    Site,
    User,
)
from .cycle import label_framework

CHECK_STATES = ("shown", "missing", "later")
MAX_SAMPLES = 500


class ProgrammeError(DomainError):
    """Why a slot, a tick or a sample import was refused (French)."""


class SampleImportRefused(ProgrammeError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class SlotInput:
    day: date
    starts_at: time
    ends_at: time | None = None
    site: Site | None = None
    place: str = ""
    topic: str = ""
    criteria: str = ""
    roles: list[Role] = field(default_factory=list)  # the school's roles met (SLOT_ROLES)
    people: str = ""  # the others met: partners, trainers, learners
    auditor: str = ""


def add_slot(session: Session, event: Milestone, data: SlotInput) -> AuditSlot:
    if not event.kind.is_certification_audit and event.kind.value != "pre_audit":
        raise ProgrammeError(_("Un programme se prépare pour un audit ou un pré-audit."))
    topic = _check_slot(event, data)
    slot = AuditSlot(milestone=event, day=data.day, starts_at=data.starts_at,
                     ends_at=data.ends_at, site=data.site, place=data.place.strip()[:200],
                     topic=topic[:300], criteria=data.criteria.strip()[:300],
                     roles=_role_values(data.roles), people=data.people.strip()[:2000],
                     auditor=data.auditor.strip()[:200], checklist={})
    session.add(slot)
    flush_or_conflict(session)
    return slot


def _check_slot(event: Milestone, data: SlotInput) -> str:
    if not event.starts_on <= data.day <= event.last_day:
        raise ProgrammeError(_("Le créneau doit tomber pendant l’audit (du %(start)s au "
                               "%(end)s).", start=event.starts_on.strftime("%d/%m/%Y"),
                               end=event.last_day.strftime("%d/%m/%Y")))
    if data.ends_at is not None and data.ends_at <= data.starts_at:
        raise ProgrammeError(_("La fin du créneau doit suivre son début."))
    topic = (data.topic or "").strip()
    if not topic:
        raise ProgrammeError(_("Indiquez le thème du créneau."))
    if data.site is not None and data.site.school_id != event.campaign.school_id:
        raise ProgrammeError(_("Ce site n’appartient pas à votre école."))
    if any(role not in SLOT_ROLES for role in data.roles):
        raise ProgrammeError(_("Rôle inconnu parmi les personnes rencontrées."))
    return topic


def _role_values(roles: list[Role]) -> list[str]:
    """The roles as stored: their values, once each, in the order of ``SLOT_ROLES``."""
    return [role.value for role in SLOT_ROLES if role in set(roles)]


def update_slot(session: Session, slot: AuditSlot, data: SlotInput) -> None:
    """A proposed or typed slot corrected: same rules as a new one."""
    topic = _check_slot(slot.milestone, data)
    slot.day, slot.starts_at, slot.ends_at = data.day, data.starts_at, data.ends_at
    slot.site, slot.place, slot.topic = data.site, data.place.strip()[:200], topic[:300]
    slot.criteria, slot.people = data.criteria.strip()[:300], data.people.strip()[:2000]
    slot.roles = _role_values(data.roles)
    slot.auditor = data.auditor.strip()[:200]
    flush_or_conflict(session)


def delete_slot(session: Session, slot: AuditSlot) -> None:
    """The findings seen at it stay, without their slot."""
    for finding in session.scalars(select(Finding).where(Finding.slot_id == slot.id)):
        finding.slot = None
    session.delete(slot)
    flush_or_conflict(session)


def propose_programme(session: Session, event: Milestone, sites: list[Site]) -> list[AuditSlot]:
    """A first programme from the référentiel and the sites, to correct afterwards: the opening
    meeting, one slot per section on the first site, a half-day visit of each other site, the
    closing meeting. Only on an empty programme."""
    if not event.kind.is_certification_audit and event.kind.value != "pre_audit":
        raise ProgrammeError(_("Un programme se prépare pour un audit ou un pré-audit."))
    if slots_of(session, event):
        raise ProgrammeError(_("Le programme a déjà des créneaux : modifiez-les un par un."))
    days = [event.starts_on + timedelta(days=n)
            for n in range((event.last_day - event.starts_on).days + 1)]
    sites = sorted(sites, key=lambda s: (s.opened_on or date.max, s.name))  # the first opened
    first_site = sites[0] if sites else None
    leads = [Role.DIRECTOR, Role.QUALITY_LEAD]
    plan: list[SlotInput] = [SlotInput(days[0], time(9, 0), time(9, 30), None,
                                       topic=_("Réunion d’ouverture"), roles=leads)]
    # The sections from 9:30 on the first site, an hour each, lunch 12:30-14:00, until 17:00.
    day_index, minutes = 0, 9 * 60 + 30
    framework = label_framework(event.campaign) or next(iter(event.campaign.frameworks), None)
    sections = framework.sections if framework is not None else []
    for section in sections:
        if minutes == 12 * 60 + 30:
            minutes = 14 * 60
        if minutes + 60 > 17 * 60:
            day_index, minutes = min(day_index + 1, len(days) - 1), 9 * 60
        codes = ", ".join(c.code for c in section.criteria)
        plan.append(SlotInput(
            days[day_index], _clock(minutes), _clock(minutes + 60), first_site,
            topic=f"{section.framework.section_label} {section.code} — {section.title}"[:300],
            criteria=codes[:300], roles=leads))
        minutes += 60
    # Each other site: a half-day visit, in the half-days after the sections.
    half_days = [(day, morning) for day in days for morning in (True, False)]
    position = 2 * day_index + (1 if minutes <= 12 * 60 + 30 else 2)
    for site in sites[1:]:
        day, morning = half_days[min(position, len(half_days) - 1)]
        start, end = (time(9, 0), time(12, 0)) if morning else (time(14, 0), time(16, 30))
        plan.append(SlotInput(day, start, end, site,
                              topic=_("Visite : %(name)s", name=site.name),
                              roles=[Role.SITE_MANAGER],
                              people=_("formateurs, stagiaires")))
        position += 1
    plan.append(SlotInput(days[-1], time(16, 30), time(17, 30), None,
                          topic=_("Réunion de clôture"), roles=leads))
    return [add_slot(session, event, data) for data in plan]


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def slots_of(session: Session, event: Milestone) -> list[AuditSlot]:
    return list(session.scalars(select(AuditSlot).where(AuditSlot.milestone_id == event.id)
                                .order_by(AuditSlot.day, AuditSlot.starts_at, AuditSlot.id)))


def by_day(slots: list[AuditSlot]) -> list[tuple[date, list[AuditSlot]]]:
    days: dict[date, list[AuditSlot]] = {}
    for slot in slots:
        days.setdefault(slot.day, []).append(slot)
    return sorted(days.items())


def criterion_codes(slot: AuditSlot) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", slot.criteria or "") if c]


def paper_proofs(session: Session, slot: AuditSlot) -> list[Evidence]:
    """The paper proofs (not refused) linked to the slot's criteria, with place and custodian,
    the slot's site's and the school-wide ones."""
    codes = criterion_codes(slot)
    campaign = slot.milestone.campaign
    if not codes:
        return []
    framework_ids = [f.id for f in campaign.frameworks]
    statement = (
        select(Evidence).join(EvidenceLink, EvidenceLink.evidence_id == Evidence.id)
        .join(Criterion, EvidenceLink.criterion_id == Criterion.id)
        .where(Evidence.school_id == campaign.school_id, Evidence.kind == EvidenceKind.PAPER,
               Evidence.status != ReviewStatus.REFUSED, Criterion.code.in_(codes),
               Criterion.framework_id.in_(framework_ids))
        .order_by(Evidence.title).distinct()
    )
    if slot.site_id is not None:
        statement = statement.where(Evidence.site_id.is_(None) | (Evidence.site_id == slot.site_id))
    return list(session.scalars(statement))


def tick(session: Session, slot: AuditSlot, evidence: Evidence, state: str) -> None:
    """On the day: a paper proof shown, missing, or to send after."""
    if state not in CHECK_STATES:
        raise ProgrammeError(_("État inconnu."))
    if evidence.id not in {e.id for e in paper_proofs(session, slot)}:
        raise ProgrammeError(_("Cette preuve n’est pas attendue à ce créneau."))
    slot.checklist = {**(slot.checklist or {}), str(evidence.id): state}
    flush_or_conflict(session)


# ------------------------------------------------------------------------------------ samples


def _normalise(name: Any) -> str:
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


COLUMNS = {
    "reference": {"identifiant", "id", "reference", "dossier", "numero"},
    "site": {"site"},
    "entered_on": {"entree", "date entree", "date d entree"},
    "qpv": {"qpv"},
    "diploma_level": {"niveau", "niveau de diplome", "diplome"},
    "exit_kind": {"type sortie", "type de sortie", "sortie type"},
    "exited_on": {"sortie", "date sortie", "date de sortie"},
}
YES = {"oui", "o", "yes", "1", "true", "vrai", "x"}
NO = {"non", "n", "no", "0", "false", "faux", ""}


@dataclass
class SampleImport:
    created: int = 0
    updated: int = 0
    ignored_columns: list[str] = field(default_factory=list)  # never stored (names…)


def _day(value: Any) -> date | None | str:
    """A date from a cell; « bad » when it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return "bad"


def import_samples(session: Session, event: Milestone, name: str, raw: bytes,
                   sites: list[Site]) -> SampleImport:
    """Add or update the samples of a CSV/XLSX file; one bad row refuses the whole file."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix not in {"csv", "xlsx"}:
        raise SampleImportRefused([_("Format non pris en charge (CSV ou XLSX).")])
    try:
        rows = tables.csv_rows(raw) if suffix == "csv" else tables.xlsx_rows(raw)
    except tables.UnreadableTable as error:
        raise SampleImportRefused([error.reason]) from error
    rows = [r for r in rows if any(str(c or "").strip() for c in r)]
    if len(rows) < 2:
        raise SampleImportRefused([_("Le fichier est vide.")])
    if len(rows) > MAX_SAMPLES + 1:
        raise SampleImportRefused([_("Au plus %(max)s dossiers par import.", max=MAX_SAMPLES)])
    header = [_normalise(c) for c in rows[0]]
    result = SampleImport()
    index: dict[str, int] = {}
    for position, title in enumerate(header):
        column = next((k for k, names in COLUMNS.items() if title in names), None)
        if column and column not in index:
            index[column] = position
        elif title:
            result.ignored_columns.append(str(rows[0][position]))
    if "reference" not in index:
        raise SampleImportRefused([_("Colonne « identifiant » manquante.")])
    by_site = {_normalise(s.code): s for s in sites} | {_normalise(s.name): s for s in sites}
    existing = {s.reference: s for s in session.scalars(
        select(AuditSample).where(AuditSample.milestone_id == event.id))}
    problems: list[str] = []
    parsed = []
    for line, row in enumerate(rows[1:], start=2):
        def cell(column: str, row: list[Any] = row) -> Any:
            position = index.get(column)
            return row[position] if position is not None and position < len(row) else None

        reference = str(cell("reference") or "").strip()
        if not reference or len(reference) > 40:
            problems.append(_("ligne %(line)s : identifiant manquant ou trop long (40 "
                              "caractères au plus).", line=line))
            continue
        site = None
        if str(cell("site") or "").strip():
            site = by_site.get(_normalise(cell("site")))
            if site is None:
                problems.append(_("ligne %(line)s : site inconnu « %(site)s ».", line=line,
                                  site=str(cell("site"))[:60]))
        entered, exited = _day(cell("entered_on")), _day(cell("exited_on"))
        if entered == "bad" or exited == "bad":
            problems.append(_("ligne %(line)s : date invalide (AAAA-MM-JJ ou JJ/MM/AAAA).",
                              line=line))
            continue
        qpv_text = _normalise(cell("qpv"))
        if qpv_text not in YES | NO:
            problems.append(_("ligne %(line)s : QPV attendu oui ou non.", line=line))
        assert not isinstance(entered, str) and not isinstance(exited, str)
        parsed.append((reference, site, entered, exited, None if not qpv_text
                       else qpv_text in YES, str(cell("diploma_level") or "").strip()[:40],
                       str(cell("exit_kind") or "").strip()[:100]))
    if problems:
        raise SampleImportRefused(problems)
    for reference, site, entered, exited, qpv, level, exit_kind in parsed:
        sample = existing.get(reference)
        if sample is None:
            sample = AuditSample(milestone=event, reference=reference, ready=False)
            session.add(sample)
            existing[reference] = sample
            result.created += 1
        else:
            result.updated += 1
        sample.site, sample.entered_on, sample.exited_on = site, entered, exited
        sample.qpv, sample.diploma_level, sample.exit_kind = qpv, level, exit_kind
    flush_or_conflict(session)
    return result


def samples_of(session: Session, event: Milestone) -> list[AuditSample]:
    return list(session.scalars(select(AuditSample).where(AuditSample.milestone_id == event.id)
                                .order_by(AuditSample.reference)))


def sample_preparers(session: Session, campaign: Campaign) -> list[User]:
    """The school's active staff, who may be asked to prepare a sampled file (not auditors)."""
    return list(session.scalars(
        select(User).where(User.school_id == campaign.school_id, User.active.is_(True),
                           User.role.in_({Role.DIRECTOR, Role.QUALITY_LEAD, Role.SITE_MANAGER}))
        .order_by(User.full_name)))


def set_sample(session: Session, sample: AuditSample, ready: bool,
               prepared_by: User | None) -> None:
    if prepared_by is not None and prepared_by.school_id != sample.milestone.campaign.school_id:
        raise ProgrammeError(_("Cette personne n’appartient pas à votre école."))
    sample.ready, sample.prepared_by = ready, prepared_by
    flush_or_conflict(session)

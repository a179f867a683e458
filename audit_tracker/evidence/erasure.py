"""Personal data erased for good: a proof or one of its versions, by direction or once past its
retention date.

The rows go (the session hook journals their deletion as any other), the files are erased from
storage, and one tombstone entry in the journal says what was erased, by whom and why: ids,
version numbers, sizes and SHA-256 hashes, never the file's name or text. The journal's earlier
entries stay as they are (its chain forbids rewriting them); they never held a file's text.

The files are erased after the commit (``erase_files``), so a rollback never leaves a row
without its file; a file left behind by a crash after the commit is an orphan that
``flask evidence verify`` reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from ..journal import service as journal_kinds
from ..journal.service import record_event
from ..models import Evidence, EvidenceVersion, JournalEntry, Role, User
from ..models.campaign import Meeting, Milestone
from ..models.evidence import SEARCH_TABLE
from ..models.findings import Action
from ..models.notes import ProgressNote
from ..models.school import SchoolProfile
from ..storage import Storage
from .service import EvidenceError, mirror_search_index, search_text_of

TOMBSTONE = "erasure"
ERASERS = (Role.DIRECTOR, Role.ADMIN)
WARNING_DAYS = 31


@dataclass
class Erased:
    """What a call erased: the tombstone's ids and the storage keys to erase after commit."""

    evidence_id: int
    versions: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def _check_eraser(user: User | None) -> None:
    if user is not None and user.role not in ERASERS:
        raise EvidenceError(_("Seule la direction peut effacer une preuve ou une version."))


def _version_facts(version: EvidenceVersion) -> dict[str, object]:
    return {"id": version.id, "number": version.number, "size": version.size,
            "sha256": version.sha256}


def erase_version(session: Session, version: EvidenceVersion, reason: str,
                  by: User | None = None) -> Erased:
    """Delete one version's row and (after commit) its file; the proof keeps its others."""
    _check_eraser(by)
    evidence = version.evidence
    if len(evidence.versions) <= 1:
        raise EvidenceError(_("C’est la seule version de cette preuve : effacez la preuve "
                              "entière."))
    erased = Erased(evidence.id, [version.id], [version.storage_key])
    detail = {"reason": reason[:500], "versions": [_version_facts(version)]}
    evidence.versions.remove(version)  # delete-orphan: the row goes at the flush
    session.flush()
    evidence.search_text = search_text_of(evidence)
    session.flush()
    mirror_search_index(session, evidence)
    record_event(session, TOMBSTONE, table_name="evidence_version", record_id=version.id,
                 detail=detail, school_id=evidence.school_id)
    return erased


#: Every column pointing to a proof, outside its own versions, links and trail.
_REFERENCES: tuple[tuple[Any, Any], ...] = (
    (Action, Action.closing_evidence_id),
    (Milestone, Milestone.report_evidence_id),
    (Meeting, Meeting.minutes_evidence_id),
    (ProgressNote, ProgressNote.evidence_id),
    (SchoolProfile, SchoolProfile.organigramme_evidence_id),
)


def erase_evidence(session: Session, evidence: Evidence, reason: str,
                   by: User | None = None) -> Erased:
    """Delete a proof with its versions, links and review trail; what pointed to it forgets it."""
    _check_eraser(by)
    erased = Erased(evidence.id, [v.id for v in evidence.versions],
                    [v.storage_key for v in evidence.versions])
    detail: dict[str, object] = {"reason": reason[:500],
                                 "versions": [_version_facts(v) for v in evidence.versions],
                                 "unlinked": {}}
    unlinked: dict[str, list[int]] = {}
    for model, column in _REFERENCES:
        key = next(iter(model.__table__.primary_key.columns))
        ids = list(session.scalars(select(key).where(column == evidence.id)))
        if ids:
            session.execute(update(model).where(column == evidence.id).values({column: None}),
                            execution_options={"synchronize_session": "fetch"})
            unlinked[f"{model.__table__.name}.{column.key}"] = ids
    detail["unlinked"] = unlinked
    school_id, evidence_id = evidence.school_id, evidence.id
    session.delete(evidence)
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid = :id"),  # noqa: S608
                        {"id": evidence_id})
    record_event(session, TOMBSTONE, table_name="evidence", record_id=evidence_id,
                 detail=detail, school_id=school_id)
    return erased


def erase_files(storage: Storage, erased: Iterable[Erased]) -> int:
    """Erase the files of committed erasures; how many were erased."""
    count = 0
    for item in erased:
        for key in item.keys:
            storage.delete(key)
            count += 1
    return count


def past_retention(session: Session, today: date) -> list[Evidence]:
    """Proofs holding personal data whose retention date has passed: to erase."""
    return list(session.scalars(
        select(Evidence).where(Evidence.personal_data.is_(True),
                               Evidence.retention_until.is_not(None),
                               Evidence.retention_until < today)
        .order_by(Evidence.retention_until, Evidence.id)))


def due_within(session: Session, today: date, days: int = WARNING_DAYS,
               school_id: int | None = None) -> list[Evidence]:
    """Proofs whose retention ends within ``days``: what the quality lead is warned of."""
    query = select(Evidence).where(Evidence.personal_data.is_(True),
                                   Evidence.retention_until >= today,
                                   Evidence.retention_until <= today + timedelta(days=days))
    if school_id is not None:
        query = query.where(Evidence.school_id == school_id)
    return list(session.scalars(query.order_by(Evidence.retention_until, Evidence.id)))


# ------------------------------------------------------------------ the month's warning by e-mail

#: The journal's record that a proof's coming erasure was e-mailed (and for which date): it is
#: sent once per retention date, however often ``flask retention run`` runs.
RETENTION_WARNING = journal_kinds.RETENTION_WARNING


@dataclass
class RetentionWarning:
    """One e-mail: a quality lead (or, in a school without one, its direction) and the proofs
    of their school whose retention ends within a month, not yet announced."""

    recipient: User
    proofs: list[Evidence]


def _announced(session: Session, evidence: Evidence) -> bool:
    """Whether the erasure at this proof's current retention date was already announced."""
    assert evidence.retention_until is not None
    return session.scalar(select(JournalEntry.seq).where(
        JournalEntry.kind == RETENTION_WARNING, JournalEntry.table_name == "evidence",
        JournalEntry.record_id == str(evidence.id),
        JournalEntry.detail.contains(f'"{evidence.retention_until.isoformat()}"')).limit(1)
    ) is not None


def warnings_due(session: Session, today: date) -> list[RetentionWarning]:
    """The e-mails to send: per school, each active quality lead gets its proofs ending within
    ``WARNING_DAYS`` that no earlier run announced."""
    by_school: dict[int, list[Evidence]] = {}
    for evidence in due_within(session, today):
        if not _announced(session, evidence):
            by_school.setdefault(evidence.school_id, []).append(evidence)
    warnings = []
    for school_id, proofs in sorted(by_school.items()):
        people = list(session.scalars(select(User).where(
            User.school_id == school_id, User.active.is_(True),
            User.role.in_([Role.QUALITY_LEAD, Role.DIRECTOR])).order_by(User.email)))
        leads = [u for u in people if u.role is Role.QUALITY_LEAD] or people
        warnings += [RetentionWarning(lead, proofs) for lead in leads]
    return warnings


def warning_message(warning: RetentionWarning, sender: str,
                    link: Callable[[int], str]) -> EmailMessage:
    """The warning as a plain-text e-mail in French (the reminders' and invitation's style)."""
    count = len(warning.proofs)
    message = EmailMessage()
    message["Subject"] = ("[audit_tracker] " + (
        "1 preuve avec données personnelles bientôt effacée" if count == 1 else
        f"{count} preuves avec données personnelles bientôt effacées"))
    message["From"] = sender
    message["To"] = Address(warning.recipient.full_name, addr_spec=warning.recipient.email)
    message["Auto-Submitted"] = "auto-generated"
    lines = [f"- « {e.title} » : conservation jusqu’au {e.retention_until:%d/%m/%Y}\n"
             f"  {link(e.id)}" for e in warning.proofs]
    message.set_content(
        f"Bonjour {warning.recipient.full_name},\n\n"
        "Ces preuves contiennent des données personnelles d’apprenants ; leur durée de "
        "conservation se termine dans moins d’un mois. Elles seront effacées, fichiers "
        "compris, le lendemain de cette date :\n\n" + "\n".join(lines) + "\n\n"
        "S’il faut les garder plus longtemps, modifiez leur date de conservation avant cette "
        "échéance.\n")
    return message


def record_warned(session: Session, warning: RetentionWarning) -> None:
    """Journal that each proof's coming erasure was announced to the recipient."""
    for evidence in warning.proofs:
        record_event(session, RETENTION_WARNING, table_name="evidence", record_id=evidence.id,
                     detail={"retention_until": evidence.retention_until,
                             "to": warning.recipient.email},
                     school_id=evidence.school_id)

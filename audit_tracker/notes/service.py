"""Monthly progress notes: prepare a month's draft, edit its free parts, issue it.

A draft stores only the free parts; its computed parts (``compute.compute``) are worked out each
time it is read, as at its ``as_of``. Issuing freezes them as JSON with the SHA-256 of the whole
note's canonical form; an issued note never changes and a correction is a new note of the same
month that names the one it replaces. Services flush; the caller commits (issuing stores files,
see ``issue``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.permissions import Permission, has_permission
from ..domain.errors import DomainError, check_fresh, flush_or_conflict
from ..journal.service import head as journal_head
from ..models import Campaign, NoteStatus, ProgressNote, User
from ..school.service import presentation
from ..signing import seal, seal_matches
from .compute import compute, month_end

#: The free parts a user writes, with their French names (the form, the page, the files).
FREE_PARTS = {
    "governance_text": "Gouvernance",
    "financing": "Financements",
    "partnerships": "Partenariats / réseaux",
    "pedagogy": "Approche pédagogique",
}
MAX_TEXT = 10_000  # characters per free part: a page or two, never a dump
MAX_COFUNDING = 500


# Control characters (and bidirectional overrides) have no place in a note: dropped on save.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class NoteError(DomainError):
    """A user-facing reason why a note operation was refused (French message)."""


@dataclass
class FreeParts:
    """What the draft page posts."""

    governance_text: str = ""
    financing: str = ""
    partnerships: str = ""
    pedagogy: str = ""
    cofunding: str = ""


def parse_month(raw: str | None) -> date | None:
    """« 2018-02 » → 1 Feb 2018; None when unreadable."""
    try:
        year, month = (raw or "").strip().split("-")
        if len(year) != 4 or not 1 <= len(month) <= 2:
            return None
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def default_as_of(month: date, today: date) -> date:
    """The month's last day, or today for the month in progress."""
    return min(month_end(month), today)


def check_month(month: date, today: date, as_of: date | None = None) -> date:
    """Refuse a month not yet begun and a day outside the month or after today; the as-at day."""
    if month > today.replace(day=1):
        raise NoteError(_("Le mois %(month)s n’est pas encore commencé : on ne prépare la note "
                          "que d’un mois en cours ou passé.",
                          month=format_date(month, "MMMM yyyy")))
    if as_of is None:
        return default_as_of(month, today)
    if as_of.replace(day=1) != month:
        raise NoteError(_("La date de situation doit tomber dans le mois de la note."))
    if as_of > today:
        raise NoteError(_("La date de situation ne peut pas être dans le futur."))
    return as_of


def notes_of(session: Session, campaign: Campaign, *, issued_only: bool = False
             ) -> list[ProgressNote]:
    """The campaign's notes, newest month first (a correction before the note it replaces)."""
    statement = select(ProgressNote).where(ProgressNote.campaign_id == campaign.id)
    if issued_only:
        statement = statement.where(ProgressNote.status == NoteStatus.ISSUED)
    return list(session.scalars(
        statement.order_by(ProgressNote.month.desc(), ProgressNote.id.desc())))


def can_prepare(user: User) -> bool:
    return has_permission(user, Permission.PREPARE_NOTE)


def visible(user: User, note: ProgressNote) -> bool:
    """Drafts are for those who prepare notes; everyone reads the issued ones."""
    return note.is_issued or can_prepare(user)


def previous_issued(session: Session, campaign: Campaign, month: date) -> ProgressNote | None:
    """The latest issued note of an earlier month: what « change since the previous note » and
    the prefilled texts start from."""
    return session.scalar(
        select(ProgressNote).where(
            ProgressNote.campaign_id == campaign.id, ProgressNote.month < month,
            ProgressNote.status == NoteStatus.ISSUED,
        ).order_by(ProgressNote.month.desc(), ProgressNote.id.desc()).limit(1))


def school_cofunding(session: Session, campaign: Campaign) -> str:
    """The co-funding mention of the school's presentation (a school setting), trimmed to what
    a note holds; empty when the school has not written one."""
    statement = presentation(session, campaign.school).profile.cofunding_statement or ""
    return " ".join(statement.split())[:MAX_COFUNDING]


def _latest_before(session: Session, campaign: Campaign, month: date) -> ProgressNote | None:
    return previous_issued(session, campaign, month) or session.scalar(
        select(ProgressNote).where(ProgressNote.campaign_id == campaign.id,
                                   ProgressNote.month < month)
        .order_by(ProgressNote.month.desc(), ProgressNote.id.desc()).limit(1))


def prepare(session: Session, campaign: Campaign, month: date, author: User, today: date,
            as_of: date | None = None) -> ProgressNote:
    """The month's draft: the open one if there is one, else a new one prefilled with the
    previous note's texts (or, for a month already issued, a correction of its note) and the
    school's co-funding mention (the previous note's when the school has none)."""
    as_of = check_month(month, today, as_of)
    drafts = session.scalars(select(ProgressNote).where(
        ProgressNote.campaign_id == campaign.id, ProgressNote.month == month,
        ProgressNote.status == NoteStatus.DRAFT)).all()
    if drafts:
        return drafts[0]
    replaced = session.scalar(
        select(ProgressNote).where(ProgressNote.campaign_id == campaign.id,
                                   ProgressNote.month == month,
                                   ProgressNote.status == NoteStatus.ISSUED)
        .order_by(ProgressNote.id.desc()).limit(1))
    source = replaced or _latest_before(session, campaign, month)
    note = ProgressNote(
        campaign_id=campaign.id, month=month, as_of=as_of, status=NoteStatus.DRAFT,
        created_by_id=author.id, updated_by_id=author.id,
        replaces_id=replaced.id if replaced else None,
        cofunding=school_cofunding(session, campaign) or (source.cofunding if source else ""),
        **{name: getattr(source, name) if source else "" for name in FREE_PARTS},
    )
    session.add(note)
    flush_or_conflict(session)
    return note


def _check_parts(parts: FreeParts) -> FreeParts:
    problems = []
    for name, label in FREE_PARTS.items():
        value = _CONTROL.sub("", (getattr(parts, name) or "").replace("\r\n", "\n")).strip()
        if len(value) > MAX_TEXT:
            problems.append(_("« %(part)s » ne doit pas dépasser %(max)s caractères (%(count)s).",
                              part=_(label), max=MAX_TEXT, count=len(value)))
        setattr(parts, name, value)
    parts.cofunding = " ".join(_CONTROL.sub("", parts.cofunding or "").split())
    if len(parts.cofunding) > MAX_COFUNDING:
        problems.append(_("La mention de cofinancement ne doit pas dépasser %(max)s caractères.",
                          max=MAX_COFUNDING))
    if problems:
        raise NoteError(" ".join(problems))
    return parts


def refuse_if_issued(note: ProgressNote) -> None:
    if note.is_issued:
        raise NoteError(_("Cette note a été émise le %(day)s : elle ne change plus. Pour la "
                          "corriger, préparez une nouvelle note du même mois, qui la remplacera.",
                          day=format_date(note.issued_at, "dd/MM/yyyy")))


def save(session: Session, note: ProgressNote, parts: FreeParts, author: User,
         seen_lock_version: int | None) -> ProgressNote:
    """Write the free parts of a draft; a stale form is a ``Conflict``, an issued note refused."""
    refuse_if_issued(note)
    check_fresh(note, seen_lock_version, _(
        "Cette note a été modifiée par quelqu’un d’autre depuis que vous l’avez ouverte ; "
        "rechargez la page pour voir sa version actuelle. Vos changements n’ont pas été "
        "enregistrés."))
    parts = _check_parts(parts)
    for name in (*FREE_PARTS, "cofunding"):
        setattr(note, name, getattr(parts, name))
    note.updated_by_id = author.id
    flush_or_conflict(session)
    return note


def parts_of(session: Session, note: ProgressNote) -> dict[str, Any]:
    """The computed parts: frozen for an issued note, worked out now for a draft."""
    if note.is_issued and note.computed is not None:
        return note.computed
    previous = previous_issued(session, note.campaign, note.month)
    return compute(session, note.campaign, note.month, note.as_of, previous)


def content(session: Session, note: ProgressNote) -> dict[str, Any]:
    """The whole note as the files and the hash see it: computed parts, texts, mention."""
    replaced = note.replaces
    return {
        **parts_of(session, note),
        "texts": {name: getattr(note, name) for name in FREE_PARTS},
        "cofunding": note.cofunding,
        "replaces": None if replaced is None else {
            "id": replaced.id,
            "issued_at": format_date(replaced.issued_at, "dd/MM/yyyy")
            if replaced.issued_at else None,
            "sha256": replaced.sha256,
        },
        "issued_by": note.issued_by.full_name if note.issued_by else None,
        "issued_at": utc_iso(note.issued_at),
        "issued_label": format_date(note.issued_at, "dd/MM/yyyy") if note.issued_at else None,
    }


def utc_iso(moment: datetime | None) -> str | None:
    """A timestamp as the hash sees it, whatever the database gave back: UTC, to the second
    (SQLite returns it without its zone, PostgreSQL in the session's zone)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_sha256(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_fresh_for_issue(note: ProgressNote, seen_lock_version: int | None) -> None:
    """Issuing a draft someone changed since the page was shown is a ``Conflict``: the director
    issues what they read."""
    refuse_if_issued(note)
    check_fresh(note, seen_lock_version, _(
        "Cette note a été modifiée depuis que vous l’avez ouverte ; relisez-la avant de "
        "l’émettre. Rien n’a été émis."))


def freeze(session: Session, note: ProgressNote, author: User, now: Any) -> dict[str, Any]:
    """Mark the draft issued by ``author`` at ``now`` with its computed parts and hash (flushed
    by the caller with the files; see ``documents.issue``)."""
    refuse_if_issued(note)
    if not has_permission(author, Permission.ISSUE_NOTE):
        raise NoteError(_("Seule la direction émet la note d’avancement."))
    # The journal's head before the issuing is journaled (read first: a query flushes): printed
    # on the files, so that anyone holding the note can check the journal still holds that
    # entry (``flask journal verify``).
    head = journal_head(session)
    computed = parts_of(session, note)
    note.computed = computed
    note.status = NoteStatus.ISSUED
    note.issued_by_id = author.id
    note.issued_by = author
    note.issued_at = now
    data = content(session, note)
    note.sha256 = canonical_sha256(data)
    note.journal_seq, note.journal_hash = head
    return data


def is_intact(session: Session, note: ProgressNote) -> bool:
    """Whether an issued note's stored content still matches its hash."""
    return note.sha256 is not None and canonical_sha256(content(session, note)) == note.sha256


def sealed_content(note: ProgressNote) -> dict[str, Any]:
    """What an issued note's seal covers: its content hash, who issued it and when, its files'
    hashes and the journal's head it printed."""
    return {
        "id": note.id, "campaign_id": note.campaign_id, "sha256": note.sha256,
        "issued_by_id": note.issued_by_id, "issued_at": utc_iso(note.issued_at),
        "pdf_sha256": note.pdf_sha256, "docx_sha256": note.docx_sha256,
        "journal_seq": note.journal_seq, "journal_hash": note.journal_hash,
    }


def seal_note(note: ProgressNote) -> None:
    """Seal an issued note once its files are stored (``issuing.issue``)."""
    note.seal = seal(sealed_content(note))


INTACT = "intact"
ALTERED = "altered"
UNSEALED = "unsealed"


def seal_state(session: Session, note: ProgressNote) -> str:
    """``intact``; ``altered`` when the stored content no longer matches its hash or a sealed
    field (hash, issuer, date, files, journal head) changed in the database, or the signing key
    is not the one that sealed it; ``unsealed`` for a note issued before seals existed (only
    its hash can be checked)."""
    if not is_intact(session, note):
        return ALTERED
    if note.seal is None:
        return UNSEALED
    return INTACT if seal_matches(sealed_content(note), note.seal) else ALTERED

"""Issuing a note: freeze it, store its PDF and DOCX, file the PDF as a validated proof.

This meets things outside the database (two stored objects, and the proof library, which stores
its own file and commits), so it follows the evidence service's rule: objects first, rows
committed after, and the note's objects deleted again if anything fails before the commit.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..domain.errors import flush_or_conflict
from ..evidence import service as evidence
from ..models import Campaign, Criterion, Evidence, Framework, ProgressNote, User
from ..storage import NOTES, Storage, new_key
from . import service
from .compute import month_end
from .documents import note_docx, note_pdf

__all__ = ["NOTES", "issue"]

PDF = "pdf"
DOCX = "docx"
MEDIA_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

# The governance criteria the note demonstrates (a monthly report to the bodies and funders);
# codes missing from an imported grid are skipped.
GOVERNANCE_CRITERIA = {
    "e2c-label": ("A1", "A2"),
}


def governance_criteria(session: Session, campaign: Campaign) -> list[Criterion]:
    wanted = {(f.id, code) for f in campaign.frameworks
              for code in GOVERNANCE_CRITERIA.get(f.code, ())}
    if not wanted:
        return []
    criteria = session.scalars(
        select(Criterion).join(Framework)
        .where(Criterion.framework_id.in_({fid for fid, _code in wanted}))
        .order_by(Framework.code, Criterion.position))
    return [c for c in criteria if (c.framework_id, c.code) in wanted]


def filename(note: ProgressNote, which: str) -> str:
    return f"point-avancement-{note.month:%Y-%m}-n{note.id}.{which}"


def _store(storage: Storage, tmp_dir: Path, payload: bytes) -> tuple[str, int, str]:
    with tempfile.NamedTemporaryFile(dir=tmp_dir, delete=False) as handle:
        handle.write(payload)
        path = Path(handle.name)
    key = new_key()
    try:
        storage.put(key, path)
    finally:
        path.unlink(missing_ok=True)
    return key, len(payload), hashlib.sha256(payload).hexdigest()


def issue(session: Session, note_storage: Storage, evidence_storage: Storage, tmp_dir: Path,
          note: ProgressNote, director: User, seen_lock_version: int | None = None) -> Evidence:
    """Issue ``note``: frozen, its files stored, its PDF filed as a proof of the governance
    criteria validated by ``director``. The rows are committed by the proof library; the
    caller commits the proof's links and review."""
    service.check_fresh_for_issue(note, seen_lock_version)
    data = service.freeze(session, note, director, utcnow())
    journal = (note.journal_seq or 0, note.journal_hash or "")
    pdf = note_pdf(data, note.sha256, journal)
    docx = note_docx(data, note.sha256, journal)
    stored: list[str] = []
    try:
        for which, payload in ((PDF, pdf), (DOCX, docx)):
            key, size, digest = _store(note_storage, tmp_dir, payload)
            stored.append(key)
            setattr(note, f"{which}_key", key)
            setattr(note, f"{which}_size", size)
            setattr(note, f"{which}_sha256", digest)
        service.seal_note(note)
        flush_or_conflict(session)
        proof = _file_as_proof(session, evidence_storage, tmp_dir, note, director, pdf)
    except Exception:
        session.rollback()
        for key in stored:
            note_storage.delete(key)
        raise
    return proof


def _file_as_proof(session: Session, storage: Storage, tmp_dir: Path, note: ProgressNote,
                   director: User, pdf: bytes) -> Evidence:
    campaign = note.campaign
    upload = evidence.receive_file(io.BytesIO(pdf), filename(note, PDF), tmp_dir,
                                   20 * 1024 * 1024)
    month = format_date(note.month, "MMMM yyyy")
    proof = evidence.create_evidence(
        session, storage, school=campaign.school, author=director, upload=upload,
        fields=evidence.EvidenceFields(
            title=_("Note d’avancement de %(month)s", month=month),
            description=_("Point d’avancement mensuel émis le %(day)s par la direction "
                          "(SHA-256 de la note : %(hash)s).",
                          day=format_date(note.issued_at, "dd/MM/yyyy"), hash=note.sha256),
            covers_from=note.month, covers_to=min(month_end(note.month), note.as_of),
        ))
    note.evidence_id = proof.id
    for criterion in governance_criteria(session, campaign):
        evidence.link_criterion(session, proof, criterion,
                                _("Point d’avancement présenté à la gouvernance"), director)
    evidence.submit_for_review(session, proof, director)
    evidence.validate_on_issue(session, proof, director, _("Validée par l’émission de la note"))
    return proof

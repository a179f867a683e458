"""API v1 for the monthly progress notes: list, prepare a month's draft (its computed parts as
JSON), issue it, download its PDF and DOCX. The same services as the pages
(``notes.service``, ``notes.issuing``) and the same file sending (``web.files``)."""

from __future__ import annotations

from flask import abort, current_app, url_for
from flask_login import current_user

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..extensions import db
from ..models import ProgressNote
from ..notes import issuing, service
from ..storage import EVIDENCE, NOTES, storage_for, upload_tmp_dir
from ..web.files import send_note_file
from ..web.lookups import get_campaign_or_404, get_note_or_404
from . import bp, schemas
from .declare import Reply, endpoint


def note_json(note: ProgressNote) -> dict:
    issued = note.is_issued
    links = {
        which: url_for(f"api.note_{which}", campaign_id=note.campaign_id, note_id=note.id)
        if issued else None
        for which in (issuing.PDF, issuing.DOCX)
    }
    return {
        "id": note.id,
        "campaign_id": note.campaign_id,
        "month": f"{note.month:%Y-%m}",
        "as_of": note.as_of.isoformat(),
        "status": note.status.value,
        "status_label": note.status.label,
        "texts": {name: getattr(note, name) for name in service.FREE_PARTS},
        "cofunding": note.cofunding,
        "computed": service.parts_of(db.session, note),
        "replaces_id": note.replaces_id,
        "created_by": note.created_by.full_name if note.created_by else None,
        "issued_by": note.issued_by.full_name if note.issued_by else None,
        "issued_at": note.issued_at.isoformat() if note.issued_at else None,
        "sha256": note.sha256,
        "evidence_id": note.evidence_id,
        "lock_version": note.lock_version,
        "pdf_url": links[issuing.PDF],
        "docx_url": links[issuing.DOCX],
    }


@bp.get("/campaigns/<int:campaign_id>/notes")
@requires(Permission.READ)
@endpoint("Notes d’avancement de la campagne, les plus récentes d’abord",
          description="Brouillons compris pour la direction et le responsable qualité ; les "
          "autres comptes ne voient que les notes émises.",
          replies={200: list[schemas.ProgressNote]})
def note_list(campaign_id: int):
    """So a board tool can find the month's note without a browser."""
    campaign = get_campaign_or_404(campaign_id)
    issued_only = not service.can_prepare(current_user)
    return [note_json(n) for n in service.notes_of(db.session, campaign, issued_only=issued_only)]


@bp.post("/campaigns/<int:campaign_id>/notes")
@requires(Permission.PREPARE_NOTE)
@endpoint("Préparer la note d’un mois : le brouillon et ses parties calculées",
          description="Le brouillon ouvert du mois s’il existe ; sinon un nouveau, ses textes "
          "repris de la note précédente. Pour un mois déjà émis, le brouillon est une "
          "correction qui remplace la note émise (`replaces_id`). Un mois futur est refusé.",
          body=schemas.NoteRequest, replies={201: schemas.ProgressNote})
def note_prepare(campaign_id: int, body: schemas.NoteRequest):
    """The figures a director would retype, computed as at the month's end, for review."""
    campaign = get_campaign_or_404(campaign_id)
    try:
        note = service.prepare(db.session, campaign, body.month.replace(day=1), current_user,
                               local_today(), body.as_of)
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        abort(409 if isinstance(error, Conflict) else 400, str(error))
    return note_json(note), 201


@bp.post("/campaigns/<int:campaign_id>/notes/<int:note_id>/issue")
@requires(Permission.ISSUE_NOTE)
@endpoint("Émettre une note : figée, PDF et DOCX, versée validée dans la bibliothèque",
          description="Refusé (409) pour une note déjà émise : une note émise ne change plus.",
          replies={200: schemas.ProgressNote}, errors=(409,))
def note_issue(campaign_id: int, note_id: int):
    """Freezing is what makes the sent note the one the board can rely on."""
    campaign = get_campaign_or_404(campaign_id)
    note = get_note_or_404(campaign, note_id)
    try:
        service.refuse_if_issued(note)  # issuing twice: a 409, the note unchanged
    except DomainError as error:
        abort(409, str(error))
    try:
        issuing.issue(db.session, storage_for(current_app, NOTES),
                      storage_for(current_app, EVIDENCE), upload_tmp_dir(current_app), note,
                      current_user)
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        abort(409 if isinstance(error, Conflict) else 400, str(error))
    return note_json(note)


@bp.get("/campaigns/<int:campaign_id>/notes/<int:note_id>/note.pdf")
@requires(Permission.READ)
@endpoint("Télécharger la note émise en PDF", description="404 tant que la note n’est pas émise.",
          replies={200: Reply(None, "Le fichier", "application/pdf")})
def note_pdf(campaign_id: int, note_id: int):
    """The file the board and funders receive."""
    campaign = get_campaign_or_404(campaign_id)
    return send_note_file(get_note_or_404(campaign, note_id), issuing.PDF)


@bp.get("/campaigns/<int:campaign_id>/notes/<int:note_id>/note.docx")
@requires(Permission.READ)
@endpoint("Télécharger la note émise en DOCX (modifiable)",
          description="404 tant que la note n’est pas émise.",
          replies={200: Reply(None, "Le fichier", issuing.MEDIA_TYPES[issuing.DOCX])})
def note_docx(campaign_id: int, note_id: int):
    """Some funders want a document they can annotate: the same note, editable."""
    campaign = get_campaign_or_404(campaign_id)
    return send_note_file(get_note_or_404(campaign, note_id), issuing.DOCX)

"""API v1 for proofs: the same service calls as the evidence pages, answered in JSON.

Every change goes through ``evidence.service`` (file checks, storage, review trail, search index);
the file download is the pages' own ``web.files.send_version``, so the headers cannot drift
apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from flask import Response, abort, current_app, jsonify, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.permissions import Permission, requires
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..evidence import service
from ..evidence.filetypes import check_filename
from ..extensions import db
from ..models import (
    Campaign,
    Criterion,
    Evidence,
    EvidenceKind,
    Site,
    campaign_framework,
)
from ..storage import EVIDENCE, storage_for, upload_tmp_dir
from ..storage.spool import spool_stream
from ..web.files import send_version
from . import bp, inputs, schemas, serializers
from .declare import Reply, endpoint

# ------------------------------------------------------------------------------------ helpers


def _refuse(error: Exception) -> NoReturn:
    """A service refusal as JSON: 409 for a conflict, 400 otherwise, with its French message."""
    db.session.rollback()
    status = getattr(error, "status", 400)  # 507: storage full (domain.errors.StorageFull)
    if status == 507:
        abort(make_response(jsonify(error=str(error)), 507))
    abort(409 if isinstance(error, Conflict) else 400, str(error))


def _visible_or_404(evidence_id: int) -> Evidence:
    """Another school's proof, or another site's for a site manager, does not exist."""
    evidence = service.get_visible(db.session, current_user, evidence_id)
    if evidence is None:
        abort(404, _("Preuve introuvable."))
    return evidence


def _editable_or_403(evidence_id: int) -> Evidence:
    evidence = _visible_or_404(evidence_id)
    if not service.can_edit(current_user, evidence):
        abort(403, _("Vous ne pouvez pas modifier cette preuve."))
    return evidence


def _evidence_json(evidence: Evidence) -> dict:
    return serializers.evidence(evidence, service.can_download(current_user, evidence))


def _reloaded_json(evidence_id: int) -> dict:
    """After a commit: read the proof back with its versions and links loaded."""
    return _evidence_json(_visible_or_404(evidence_id))


def _receive(file) -> service.ReceivedFile:
    """Spool, hash and inspect the upload; RefusedFile (a user error) when it is refused."""
    return service.receive_file(
        file.stream,
        file.filename or "",
        upload_tmp_dir(current_app),
        current_app.config["MAX_CONTENT_LENGTH"],
    )


def _kind(form: schemas.NewEvidence) -> EvidenceKind:
    given = [
        kind
        for kind, present in (
            (EvidenceKind.FILE, form.file is not None),
            (EvidenceKind.LINK, bool((form.url or "").strip())),
            (EvidenceKind.PAPER, bool((form.paper_location or "").strip())),
        )
        if present
    ]
    if len(given) != 1:
        abort(
            400,
            _(
                "Indiquez exactement un des champs « file » (document), « url » (lien) ou "
                "« paper_location » (preuve papier)."
            ),
        )
    return given[0]


# -------------------------------------------------------------------------------------- routes


@bp.get("/evidence")
@requires(Permission.READ)
@endpoint(
    "Rechercher les preuves visibles (texte intégral et filtres)",
    description="Les preuves de l’école (pour un responsable de site : celles de son site et "
    "de toute l’école), les plus récemment modifiées d’abord, 200 au plus.",
    query=schemas.EvidenceQuery,
    replies={200: list[schemas.Evidence]},
)
def evidence_list(query: schemas.EvidenceQuery):
    """The library's search, so that a client finds what the page finds."""
    site_id = None
    if query.site:
        site = db.session.scalar(
            select(Site).where(
                Site.school_id == current_user.school_id, Site.code == query.site.strip()
            )
        )
        if site is not None:
            site_id = site.id
        elif query.site.strip() == "ecole":
            site_id = 0  # the whole school's proofs only
        else:
            abort(400, _("Site inconnu : %(code)s.", code=query.site[:80]))
    filters = service.SearchFilters(
        query=query.q,
        site_id=site_id,
        status=query.status,
        criterion_id=query.criterion_id,
        expiring_before=query.expiring_before,
    )
    items = service.search(db.session, current_user, filters)
    return [_evidence_json(e) for e in items]


@bp.post("/evidence")
@requires(Permission.EDIT_EVIDENCE)
@endpoint(
    "Déposer une preuve : document, lien ou preuve papier",
    description="Exactement un de `file`, `url`, `paper_location`. Le fichier est vérifié "
    "d’après son contenu (exécutables, scripts, archives suspectes, fichiers vides refusés). "
    "Un responsable de site dépose pour son site. Un fichier déjà dans la bibliothèque "
    "(même SHA-256) est refusé (409, avec `existing_id`) : rien n’est dupliqué.",
    form=schemas.NewEvidence,
    replies={
        201: Reply(schemas.Evidence, "Preuve créée (statut brouillon)"),
        200: Reply(schemas.Evidence, "Fichier déjà présent : la preuve existante, liée au "
                   "critère (`link_if_duplicate`)"),
    },
    errors=(409, 507),
)
def evidence_create(form: schemas.NewEvidence):
    """Multipart, as the page's form; the same bytes twice are a 409 or, on request, linked."""
    kind = _kind(form)
    return _create(form, kind, lambda: _receive(form.file) if kind is EvidenceKind.FILE else None)


# A route of its own rather than ``POST /evidence`` dispatched on the Content-Type: each route
# declares one input, so the document says exactly which parameters each way takes, and a
# multipart body sent here by mistake is refused (415) instead of stored as the file. POST, not
# PUT: the server names the new proof, as for the form. The file name and the metadata come in
# the query string (the one place every client can put them, percent-encoded UTF-8; a
# Content-Disposition header would need RFC 8187 decoding for a name with an accent), checked by
# the form's own schema (``EvidenceMetadata``). The body goes once into the spool folder, hashed
# on the way, with the multipart parts' own writer (``storage.spool``), then down the form's path
# unchanged (``service.receive_file`` in place, ``_create``).
@bp.post("/evidence/upload")
@requires(Permission.EDIT_EVIDENCE)
@endpoint(
    "Déposer un document envoyé comme corps de la requête (gros fichiers)",
    description="Le corps de la requête est le fichier lui-même, tel quel (`Content-Type` : "
    "celui du fichier ou `application/octet-stream` ; le contenu décide, pas lui), avec "
    "`Content-Length` (411 sinon, 413 au-delà de la taille maximale, sans rien lire). "
    "Le nom du fichier, extension comprise, et les champs du formulaire de `POST /evidence` "
    "(sauf `file`, `url`, `paper_location`, `paper_custodian`) vont dans la requête : "
    "`POST /evidence/upload?filename=rapport%20annuel.pdf&title=Rapport&site=tpm`. "
    "Mêmes vérifications et mêmes réponses que `POST /evidence` ; le fichier n’est écrit "
    "qu’une fois, haché au passage. Exemple : `curl --data-binary @rapport.pdf -H "
    "'Content-Type: application/pdf' -H 'Authorization: Bearer …' "
    "'…/api/v1/evidence/upload?filename=rapport.pdf'`.",
    query=schemas.NewEvidenceFile,
    file_body="Le fichier, octet pour octet.",
    replies={
        201: Reply(schemas.Evidence, "Preuve créée (statut brouillon)"),
        200: Reply(schemas.Evidence, "Fichier déjà présent : la preuve existante, liée au "
                   "critère (`link_if_duplicate`)"),
    },
    errors=(409, 411, 413, 415, 507),
)
def evidence_upload(query: schemas.NewEvidenceFile):
    """The file as the body: no multipart parsing on the way, for big files (issue 17)."""
    return _create(query, EvidenceKind.FILE, lambda: _raw_body(query.filename))


def _raw_body(filename: str) -> service.ReceivedFile:
    """The request body as the uploaded file, written once into the spool folder and hashed on
    the way, then taken as a multipart part would be (size, type, name; removed if refused).
    Refused before a byte is read: a multipart body, no length, too long, a bad name."""
    if request.mimetype.startswith("multipart/"):
        abort(415, _("Ici, le corps de la requête est le fichier lui-même ; un formulaire "
                     "multipart se dépose par POST %(path)s.",
                     path=request.path.removesuffix("/upload")))
    declared = request.content_length
    if declared is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        abort(411, _("Indiquez la taille du fichier (en-tête Content-Length) : le dépôt par "
                     "morceaux (chunked) n’est pas accepté ici."))
    declared = declared or 0  # neither header: an empty body (RFC 9112, 6.3)
    max_size = current_app.config["MAX_CONTENT_LENGTH"]
    if max_size is not None and declared > max_size:
        abort(413)  # before reading a byte; errors.py says the limit in French
    check_filename(filename)
    part = spool_stream(request.stream, upload_tmp_dir(current_app))
    if part.digest.size != declared:  # the server ended the body early: the client left
        part.discard()
        abort(400, _("Le fichier reçu est incomplet (%(received)s octets sur %(declared)s "
                     "annoncés) : rien n’a été enregistré.",
                     received=part.digest.size, declared=declared))
    return service.receive_file(part, filename, upload_tmp_dir(current_app), max_size)


def _create(
    form: schemas.EvidenceMetadata,
    kind: EvidenceKind,
    receive: Callable[[], service.ReceivedFile | None],
):
    """Both ways of depositing: every metadata field is checked before the file is even read,
    then the same service call stores it and its journal entry in one transaction."""
    criterion = _campaign_criterion(form.criterion_id) if form.criterion_id else None
    if form.link_if_duplicate and criterion is None:
        abort(400, _("« link_if_duplicate » demande « criterion_id » : le critère à lier."))
    extra = form if isinstance(form, schemas.NewEvidence) else None
    fields = service.EvidenceFields(
        title=form.title,
        kind=kind,
        description=form.description,
        site=inputs.site(form.site),
        url=extra.url if extra else None,
        paper_location=extra.paper_location if extra else None,
        paper_custodian=((extra.paper_custodian or "").strip() or None) if extra else None,
        covers_from=form.covers_from,
        covers_to=form.covers_to,
        valid_until=form.valid_until,
        personal_data=form.personal_data,
        retention_until=form.retention_until,
    )
    upload = None
    try:
        upload = receive()
        evidence = service.create_evidence(
            db.session,
            storage_for(current_app, EVIDENCE),
            school=current_user.school,
            author=current_user,
            fields=fields,
            upload=upload,
            criterion=criterion,
            note=form.note,
            refuse_duplicate=True,
        )
        commit_or_conflict(db.session)
    except service.DuplicateFile as error:
        return _duplicate(error, criterion, form.note if form.link_if_duplicate else None)
    except DomainError as error:
        _refuse(error)
    finally:
        if upload is not None:
            upload.discard()  # already moved into storage when it was accepted
    return _reloaded_json(evidence.id), 201


def _duplicate(error: service.DuplicateFile, criterion: Criterion | None, link_note: str | None):
    """The same bytes are already in the library: 409 naming the existing proof, as the pages
    say; or, asked to (``link_note`` given), the existing proof linked to the criterion."""
    db.session.rollback()
    existing = error.existing
    if link_note is None or criterion is None:
        abort(make_response(jsonify(
            error=str(error), existing_id=existing.id, existing_title=existing.title,
        ), 409))
    if not service.can_edit(current_user, existing):
        abort(403, _("Ce fichier est déjà dans la bibliothèque, dans une preuve que vous ne "
                     "pouvez pas modifier : demandez à la qualité de la lier."))
    if not any(link.criterion_id == criterion.id for link in existing.links):
        try:
            service.link_criterion(db.session, existing, criterion, link_note, current_user)
            commit_or_conflict(db.session)
        except DomainError as refusal:
            _refuse(refusal)
    return _reloaded_json(existing.id), 200


def _campaign_criterion(criterion_id: int) -> Criterion:
    """A criterion of the school's campaigns' frameworks: 404 if none, 400 if another one."""
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None:
        abort(404, _("Critère introuvable."))
    in_campaigns = (
        select(campaign_framework.c.framework_id)
        .join(Campaign, Campaign.id == campaign_framework.c.campaign_id)
        .where(Campaign.school_id == current_user.school_id)
    )
    if criterion.framework_id not in set(db.session.scalars(in_campaigns)):
        # The page offers these criteria only; the API keeps the same rule.
        abort(400, _("Choisissez un critère des référentiels de vos campagnes."))
    return criterion


@bp.get("/evidence/<int:evidence_id>")
@requires(Permission.READ)
@endpoint("Une preuve avec ses versions et ses critères", replies={200: schemas.Evidence})
def evidence_detail(evidence_id: int):
    """Another school's proof, or another site's for a site manager, is a 404."""
    return _evidence_json(_visible_or_404(evidence_id))


@bp.post("/evidence/<int:evidence_id>/versions")
@requires(Permission.EDIT_EVIDENCE)
@endpoint(
    "Déposer une nouvelle version du document",
    description="La preuve repasse « à valider ». Réservé à qui peut la modifier (un "
    "responsable de site : les preuves de son site seulement).",
    form=schemas.NewVersionForm,
    replies={201: Reply(schemas.NewVersion, "Version créée")},
    errors=(409, 507),
)
def evidence_add_version(evidence_id: int, form: schemas.NewVersionForm):
    """A new version sends the proof back to review, as on the page."""
    evidence = _editable_or_403(evidence_id)
    return _add_version(evidence, lambda: _receive(form.file))


@bp.post("/evidence/<int:evidence_id>/versions/upload")
@requires(Permission.EDIT_EVIDENCE)
@endpoint(
    "Déposer une nouvelle version envoyée comme corps de la requête (gros fichiers)",
    description="Le corps de la requête est le fichier lui-même, comme pour "
    "`POST /evidence/upload` (`Content-Length` obligatoire : 411 sinon, 413 au-delà de la "
    "taille maximale, sans rien lire) ; son nom, extension comprise, dans le paramètre "
    "`filename`. Mêmes vérifications et mêmes réponses que "
    "`POST /evidence/{evidence_id}/versions`. Exemple : `curl --data-binary @rapport-v2.pdf "
    "-H 'Authorization: Bearer …' '…/api/v1/evidence/12/versions/upload?"
    "filename=rapport-v2.pdf'`.",
    query=schemas.FileName,
    file_body="Le fichier, octet pour octet.",
    replies={201: Reply(schemas.NewVersion, "Version créée")},
    errors=(409, 411, 413, 415, 507),
)
def evidence_upload_version(evidence_id: int, query: schemas.FileName):
    """A new version as the body: the proof is checked before a byte of it is read."""
    evidence = _editable_or_403(evidence_id)
    return _add_version(evidence, lambda: _raw_body(query.filename))


def _add_version(evidence: Evidence, receive: Callable[[], service.ReceivedFile]):
    """Both ways of sending a version: the same service call, its file discarded when refused."""
    upload = None
    try:
        upload = receive()
        version = service.add_version(
            db.session, storage_for(current_app, EVIDENCE), evidence, upload, current_user
        )
    except DomainError as error:
        _refuse(error)
    finally:
        if upload is not None:
            upload.discard()
    data = serializers.evidence_version(version, service.can_download(current_user, evidence))
    data["evidence_status"] = evidence.status.value
    return data, 201


@bp.get("/evidence/<int:evidence_id>/versions/<int:number>/file")
@requires(Permission.READ)
@endpoint(
    "Télécharger le fichier d’une version (pièce jointe)",
    description="403 pour un fichier contenant des données personnelles quand le lecteur "
    "n’est ni la direction, ni le responsable qualité, ni le site concerné, ni son auteur.",
    replies={200: Reply(None, "Le fichier, tel que déposé", "application/octet-stream")},
)
def evidence_file(evidence_id: int, number: int) -> Response:
    """The page's own sending, so that headers and checks cannot drift apart."""
    evidence = _visible_or_404(evidence_id)
    if not service.can_download(current_user, evidence):
        abort(
            403,
            _(
                "Cette preuve contient des données personnelles : le fichier est réservé à la "
                "direction, au responsable qualité et au site concerné."
            ),
        )
    if not any(v.number == number for v in evidence.versions):
        abort(404, _("Version introuvable."))
    return send_version(next(v for v in evidence.versions if v.number == number))


@bp.post("/evidence/<int:evidence_id>/criteria")
@requires(Permission.EDIT_EVIDENCE)
@endpoint(
    "Lier la preuve à un critère d’un référentiel de vos campagnes",
    body=schemas.LinkRequest,
    replies={201: Reply(schemas.EvidenceLink, "Lien créé")},
)
def evidence_link(evidence_id: int, body: schemas.LinkRequest):
    """Only the criteria of the school's campaigns, as the page offers."""
    evidence = _editable_or_403(evidence_id)
    criterion = _campaign_criterion(body.criterion_id)
    try:
        link = service.link_criterion(db.session, evidence, criterion, body.note, current_user)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return serializers.evidence_link(link), 201


@bp.post("/evidence/<int:evidence_id>/review")
@requires(Permission.REVIEW_EVIDENCE)
@endpoint(
    "Valider ou refuser une preuve (direction, responsable qualité)",
    body=schemas.ReviewRequest,
    replies={200: schemas.Evidence},
    errors=(409, 507),
)
def evidence_review(evidence_id: int, body: schemas.ReviewRequest):
    """The review trail is the service's: the API adds no shortcut around it."""
    evidence = _visible_or_404(evidence_id)
    try:
        service.review(db.session, evidence, current_user, body.decision, body.reason)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return _reloaded_json(evidence_id)

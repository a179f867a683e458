"""API v1 for proofs: the same service calls as the evidence pages, answered in JSON.

Every change goes through ``evidence.service`` (file checks, storage, review trail, search index);
the file download is the pages' own ``web.files.send_version``, so the headers cannot drift
apart.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Response, abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.permissions import Permission, requires
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..evidence import service
from ..extensions import db
from ..models import (
    Campaign,
    Criterion,
    Evidence,
    EvidenceKind,
    ReviewStatus,
    Site,
    campaign_framework,
)
from ..storage import EVIDENCE, storage_for, upload_tmp_dir
from ..web.files import send_version
from . import bp, inputs, serializers

_DECISIONS = (ReviewStatus.VALIDATED, ReviewStatus.REFUSED)
_TEXT_LIMITS = {"paper_location": 300, "paper_custodian": 200}  # the columns' sizes


# ------------------------------------------------------------------------------------ helpers


def _refuse(error: Exception) -> NoReturn:
    """A service refusal as JSON: 409 for a conflict, 400 otherwise, with its French message."""
    db.session.rollback()
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


def _kind(form, files) -> EvidenceKind:
    given = [
        kind
        for kind, present in (
            (EvidenceKind.FILE, "file" in files),
            (EvidenceKind.LINK, bool((form.get("url") or "").strip())),
            (EvidenceKind.PAPER, bool((form.get("paper_location") or "").strip())),
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
def evidence_list():
    args = request.args
    site_id = None
    if args.get("site"):
        site = db.session.scalar(
            select(Site).where(
                Site.school_id == current_user.school_id, Site.code == args["site"].strip()
            )
        )
        if site is not None:
            site_id = site.id
        elif args["site"].strip() == "ecole":
            site_id = 0  # the whole school's proofs only
        else:
            abort(400, _("Site inconnu : %(code)s.", code=args["site"][:80]))
    status = None
    if args.get("status"):
        try:
            status = ReviewStatus(args["status"])
        except ValueError:
            abort(
                400,
                _(
                    "Statut inconnu : %(status)s ; valeurs possibles : %(values)s.",
                    status=args["status"][:40],
                    values=", ".join(s.value for s in ReviewStatus),
                ),
            )
    filters = service.SearchFilters(
        query=args.get("q", ""),
        site_id=site_id,
        status=status,
        criterion_id=inputs.integer(args["criterion_id"], "criterion_id")
        if args.get("criterion_id")
        else None,
        expiring_before=inputs.day(args.get("expiring_before"), "expiring_before"),
    )
    items = service.search(db.session, current_user, filters)
    return jsonify([_evidence_json(e) for e in items])


@bp.post("/evidence")
@requires(Permission.EDIT_EVIDENCE)
def evidence_create():
    form, files = request.form, request.files
    kind = _kind(form, files)
    # The service does not bound these two yet: past their column's size, PostgreSQL raises
    # a DataError (a 500) and SQLite stores them whole. Checked here until the service does.
    for name, limit in _TEXT_LIMITS.items():
        if len((form.get(name) or "").strip()) > limit:
            abort(
                400,
                _(
                    "« %(field)s » ne doit pas dépasser %(limit)s caractères.",
                    field=name,
                    limit=limit,
                ),
            )
    # Every metadata field is checked before the file is even spooled.
    fields = service.EvidenceFields(
        title=form.get("title", ""),
        kind=kind,
        description=form.get("description", ""),
        site=inputs.site(form.get("site")),
        url=form.get("url"),
        paper_location=form.get("paper_location"),
        paper_custodian=(form.get("paper_custodian") or "").strip() or None,
        covers_from=inputs.day(form.get("covers_from"), "covers_from"),
        covers_to=inputs.day(form.get("covers_to"), "covers_to"),
        valid_until=inputs.day(form.get("valid_until"), "valid_until"),
        personal_data=inputs.boolean(form.get("personal_data"), "personal_data"),
        retention_until=inputs.day(form.get("retention_until"), "retention_until"),
    )
    upload = None
    try:
        if kind is EvidenceKind.FILE:
            upload = _receive(files["file"])
        evidence = service.create_evidence(
            db.session,
            storage_for(current_app, EVIDENCE),
            school=current_user.school,
            author=current_user,
            fields=fields,
            upload=upload,
        )
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    finally:
        if upload is not None:
            upload.discard()  # already moved into storage when it was accepted
    return jsonify(_reloaded_json(evidence.id)), 201


@bp.get("/evidence/<int:evidence_id>")
@requires(Permission.READ)
def evidence_detail(evidence_id: int):
    return jsonify(_evidence_json(_visible_or_404(evidence_id)))


@bp.post("/evidence/<int:evidence_id>/versions")
@requires(Permission.EDIT_EVIDENCE)
def evidence_add_version(evidence_id: int):
    evidence = _editable_or_403(evidence_id)
    file = request.files.get("file")
    if file is None:
        abort(400, _("Joignez le fichier dans le champ « file »."))
    upload = None
    try:
        upload = _receive(file)
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
    return jsonify(data), 201


@bp.get("/evidence/<int:evidence_id>/versions/<int:number>/file")
@requires(Permission.READ)
def evidence_file(evidence_id: int, number: int) -> Response:
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
def evidence_link(evidence_id: int):
    evidence = _editable_or_403(evidence_id)
    body = inputs.json_body()
    criterion = db.session.get(Criterion, inputs.integer(body.get("criterion_id"), "criterion_id"))
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
    note = body.get("note") or ""
    if not isinstance(note, str):
        abort(400, _("« %(field)s » doit être un texte.", field="note"))
    try:
        link = service.link_criterion(db.session, evidence, criterion, note, current_user)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return jsonify(serializers.evidence_link(link)), 201


@bp.post("/evidence/<int:evidence_id>/review")
@requires(Permission.REVIEW_EVIDENCE)
def evidence_review(evidence_id: int):
    evidence = _visible_or_404(evidence_id)
    body = inputs.json_body()
    decision = next((d for d in _DECISIONS if d.value == body.get("decision")), None)
    if decision is None:
        abort(400, _("« decision » doit valoir « validee » ou « refusee »."))
    reason = body.get("reason") or ""
    if not isinstance(reason, str):
        abort(400, _("« %(field)s » doit être un texte.", field="reason"))
    try:
        service.review(db.session, evidence, current_user, decision, reason)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return jsonify(_reloaded_json(evidence_id))

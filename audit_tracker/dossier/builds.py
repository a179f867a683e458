"""What a dossier build is, as a background job: how one is requested, what it runs, how its
failures read, who may download it and under which name, and the list « what did we send? ».

The runner, the progress, the heartbeat and lost builds are the generic ``audit_tracker.jobs``;
the row is ``DossierBuild``. Outputs go to the ``DOSSIERS`` storage namespace (``instance/dossiers``
or the bucket's ``dossiers/`` prefix): generated dossiers are not proofs, and ``flask evidence
verify`` would report them as orphan objects among the proofs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from flask import Flask
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .. import jobs
from ..clock import as_utc, local_today
from ..models import Campaign, DossierBuild, JobRow, Role, Section, Site, User
from ..readiness.rules import default_reference_date
from ..signing import seal, seal_matches
from ..storage import DOSSIERS, Namespace, StorageError
from ..storage.digest import digest_file
from .builder import build_dossier, check_options
from .options import DossierOptions, DossierOptionsError, Edition

PDF, ZIP = "pdf", "zip"


class DossierBuildKind(jobs.JobKind[DossierBuild]):
    """A dossier built in the background: the PDF (and the ZIP), stored, sized and hashed."""

    name: ClassVar[str] = "dossier"
    model: ClassVar[type[JobRow]] = DossierBuild
    outputs: ClassVar[Namespace | None] = DOSSIERS

    def run(self, context: jobs.JobContext, row: DossierBuild) -> None:
        """Build the files in the work folder, store them, record their sizes and hashes."""
        options = options_of(row)
        pdf_path = context.workdir / "dossier.pdf"
        zip_path = context.workdir / "dossier.zip" if row.options.get("with_zip", True) else None
        result = build_dossier(context.session, row.campaign, options, pdf_path,
                               zip_path=zip_path, progress=context.progress)
        row.step = _("Enregistrement des fichiers")
        zip_digest = digest_file(result.zip_path) if result.zip_path else None
        row.pdf_key = context.store(result.pdf_path)
        if result.zip_path and zip_digest is not None:
            row.zip_key = context.store(result.zip_path)
            row.zip_size, row.zip_sha256 = zip_digest.size, zip_digest.sha256
        row.size, row.sha256 = result.size, result.sha256
        row.page_count, row.piece_count = result.page_count, result.piece_count
        seal_build(row)

    def failure_message(self, error: Exception) -> str:
        """What the director reads when a build fails: what happened, and that nothing was
        kept."""
        if isinstance(error, DossierOptionsError):
            detail = " ; ".join(str(m) for m in error.messages or [str(error)])
            return _("Options du dossier invalides : %(detail)s", detail=detail)
        if isinstance(error, StorageError):
            return _(
                "Le dossier a été construit mais n’a pas pu être enregistré dans le stockage "
                "(%(error)s). Rien n’a été conservé ; relancez la construction.",
                error=jobs.short_error(error),
            )
        if isinstance(error, SQLAlchemyError):
            return _(
                "La base de données n’a pas pu enregistrer le dossier (%(error)s). Rien n’a été "
                "conservé ; relancez la construction.",
                error=jobs.short_error(error),
            )
        return _(
            "La construction du dossier a échoué : %(error)s. Rien n’a été conservé ; "
            "relancez-la ou prévenez l’administrateur.",
            error=jobs.short_error(error),
        )

    def this_one(self) -> str:
        return _("ce dossier")


DOSSIER_BUILD = DossierBuildKind()


def sealed_content(build: DossierBuild) -> dict[str, Any]:
    """What a finished build's seal covers."""
    return {
        "id": build.id, "campaign_id": build.campaign_id, "options": build.options,
        "created_by_id": build.created_by_id,
        "created_at": as_utc(build.created_at).isoformat(timespec="microseconds"),
        "pdf_key": build.pdf_key, "sha256": build.sha256, "size": build.size,
        "zip_key": build.zip_key, "zip_sha256": build.zip_sha256, "zip_size": build.zip_size,
        "page_count": build.page_count, "piece_count": build.piece_count,
    }


def seal_build(build: DossierBuild) -> None:
    build.seal = seal(sealed_content(build))


def build_seal_state(build: DossierBuild) -> str:
    """``intact``, ``altered`` (a sealed column changed in the database, or another signing
    key), or ``unsealed`` (built before seals existed, or not finished)."""
    if build.seal is None:
        return "unsealed"
    return "intact" if seal_matches(sealed_content(build), build.seal) else "altered"


def request_build(session: Session, app: Flask, campaign: Campaign, options: DossierOptions,
                  author: User | None, *, with_zip: bool = True) -> DossierBuild:
    """The page's and the API's one way to ask for a dossier: the options are checked against
    the campaign (every problem listed: ``DossierOptionsError``), the reference date recorded
    (the next audit when none is given: the build says which day it judged), then the build is
    queued. Commits, as every submission does (``jobs.submit``); ``JobError`` if the runner
    refuses it."""
    check_options(session, campaign, options)
    if options.as_of is None:
        options = replace(options, as_of=default_reference_date(campaign, local_today()))
    build = DossierBuild(
        campaign_id=campaign.id,
        options={**options.to_json(), "with_zip": bool(with_zip)},
        created_by_id=author.id if author is not None else None,
    )
    return jobs.submit(session, app, DOSSIER_BUILD, build)


def options_of(build: DossierBuild) -> DossierOptions:
    """The build's DossierOptions (validated by the builder's own reader)."""
    data = {k: v for k, v in (build.options or {}).items() if k != "with_zip"}
    return DossierOptions.from_json(data)


def builds_of(session: Session, campaign: Campaign, app: Flask) -> list[DossierBuild]:
    """The campaign's builds, newest first, the lost ones shown failed (nothing written)."""
    builds = list(session.scalars(
        select(DossierBuild)
        .where(DossierBuild.campaign_id == campaign.id)
        .order_by(DossierBuild.created_at.desc(), DossierBuild.id.desc())))
    jobs.show_lost(builds, app)
    return builds


def describe_options(session: Session, build: DossierBuild) -> list[str]:
    """The build's options in words, for the build list: « what exactly did we send? »."""
    try:
        options = options_of(build)
    except Exception:  # an older or damaged record still lists, with what is readable
        return [_("options illisibles")]
    campaign = build.campaign
    frameworks = {f.id: f for f in campaign.frameworks}
    words: list[str] = [options.edition.label]
    if options.framework_ids:
        names = [
            frameworks[i].label if i in frameworks else _("référentiel n° %(id)s", id=i)
            for i in options.framework_ids
        ]
        words.append(_("référentiels : %(names)s", names=", ".join(names)))
    else:
        words.append(_("tous les référentiels de la campagne"))
    if options.section_ids:
        sections = session.scalars(select(Section).where(Section.id.in_(options.section_ids)))
        names = [f"{s.code} {s.title}".strip() for s in sections]
        words.append(_("sections : %(names)s", names=", ".join(names)))
    else:
        words.append(_("toutes les sections"))
    if options.site_ids:
        sites = session.scalars(select(Site).where(Site.id.in_(options.site_ids)))
        words.append(_("sites : %(names)s", names=", ".join(s.name for s in sites)))
    else:
        words.append(_("tous les sites"))
    words.append(_("avec annexes") if options.with_annexes else _("sans annexes"))
    words.append(
        _("données personnelles incluses")
        if options.include_personal_data
        else _("sans données personnelles")
    )
    if options.as_of:
        words.append(_("référence au %(day)s", day=format_date(options.as_of, "d MMMM yyyy")))
    if build.options.get("with_zip", True):
        words.append(_("archive ZIP"))
    return words


def status_of(build: DossierBuild) -> dict[str, Any]:
    """The build as JSON (the page's poll and the API's job), without URLs."""
    return {
        **jobs.status_json(build),
        "campaign_id": build.campaign_id,
        "options": build.options,
        "created_by": build.created_by.full_name if build.created_by else None,
        "size": build.size,
        "sha256": build.sha256,
        "zip_size": build.zip_size,
        "zip_sha256": build.zip_sha256,
        "page_count": build.page_count,
        "piece_count": build.piece_count,
    }


def download_refusal(user: User, build: DossierBuild) -> str | None:
    """Why ``user`` may not download ``build`` (French), or None when they may.

    A dossier carries its proofs, so it carries their limits: one that includes learners'
    personal data is for the direction and the quality lead only (as those proofs' files are,
    bar their owner and site); a site manager sees their own site's and the school-wide proofs,
    so only a dossier restricted to their own site.
    """
    options = build.options or {}
    if user.is_invited_auditor and (options.get("edition") != Edition.SCHOOL.value
                                    or build.campaign_id != user.access_campaign_id):
        return _("Seul le dossier que l’école envoie vous est accessible.")
    if options.get("include_personal_data") and user.role not in {Role.DIRECTOR, Role.QUALITY_LEAD}:
        return _(
            "Ce dossier contient des données personnelles d’apprenants : il est réservé à la "
            "direction et au responsable qualité."
        )
    if user.role is Role.SITE_MANAGER and list(options.get("site_ids") or []) != [user.site_id]:
        return _(
            "Ce dossier couvre d’autres sites que le vôtre : seuls les dossiers limités à votre "
            "site vous sont accessibles."
        )
    return None


def can_download(user: User, build: DossierBuild) -> bool:
    """Whether ``user`` may have the build's files (see :func:`download_refusal`)."""
    return download_refusal(user, build) is None


def output_filename(build: DossierBuild, which: str) -> str:
    """« dossier-E2C-Var-2018-04-10-n7.pdf »: the school, the build's day and its number."""
    school = build.campaign.school.short_name.replace(" ", "-")
    day = as_utc(build.created_at).date().isoformat()
    return f"dossier-{school}-{day}-n{build.id}.{which}"

"""Browse référentiels (sections → criteria, guidance, cross-framework links) and import one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.permissions import Permission, requires
from ..evidence.service import evidence_for_criterion
from ..extensions import db
from ..models import Criterion
from . import service
from .forms import ImportForm
from .importer import ImportRefused, parse_file, save_framework

bp = Blueprint("referentiel", __name__)


@bp.route("/")
@requires(Permission.READ)
def index():
    """Every imported framework and version, to pick the one to browse."""
    return render_template("referentiel/index.html", summaries=service.list_frameworks(db.session))


@bp.route("/<int:framework_id>")
@requires(Permission.READ)
def framework(framework_id: int):
    """Sections and criteria in the framework's order, as the auditors read them."""
    framework = service.framework_with_criteria(db.session, framework_id)
    if framework is None:
        abort(404)
    return render_template("referentiel/framework.html", framework=framework)


@bp.route("/criteres/<int:criterion_id>")
@requires(Permission.READ)
def criterion(criterion_id: int):
    """A criterion's guidance, the criteria it maps to elsewhere and the proofs filed under it."""
    criterion = db.session.scalar(
        select(Criterion)
        .where(Criterion.id == criterion_id)
        .options(selectinload(Criterion.framework), selectinload(Criterion.section))
    )
    if criterion is None:
        abort(404)
    return render_template(
        "referentiel/criterion.html",
        criterion=criterion,
        related=service.related_criteria(db.session, criterion),
        proofs=evidence_for_criterion(db.session, current_user, criterion.id),
    )


@bp.route("/import", methods=["GET", "POST"])
@requires(Permission.IMPORT_FRAMEWORK)
def import_file():
    """All or nothing: a file with a problem imports nothing and lists every problem at once."""
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        meta = {
            "code": form.code.data,
            "version": form.version.data,
            "name": form.name.data,
            "provisional": form.provisional.data,
        }
        try:
            spec = parse_file(upload.filename or "", upload.read(), meta)
            framework = save_framework(db.session, spec)
        except ImportRefused as refused:
            db.session.rollback()
            problems = refused.problems
            flash(
                _(
                    "Fichier refusé : rien n’a été importé. Corrigez les %(count)s problème(s) "
                    "ci-dessous puis renvoyez-le.",
                    count=len(problems),
                ),
                "danger",
            )
        else:
            db.session.commit()
            flash(
                _(
                    "Référentiel importé : %(name)s, %(count)s critères.",
                    name=framework.label,
                    count=spec.criteria_count,
                ),
                "success",
            )
            return redirect(url_for("referentiel.framework", framework_id=framework.id))
    return render_template("referentiel/import.html", form=form, problems=problems)

"""Key-indicator pages, in a campaign's context: the table per site with its gaps to target, the
per-month detail, the entry form, the import and the targets.

Indicators belong to the school; the campaign only gives the context (its page links here). A
site manager reads every site's figures and enters their own site's only.
"""

from __future__ import annotations

import re
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, has_permission, requires
from ..charts import to_svg
from ..clock import local_today
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..extensions import db
from ..models import COUNT_COLUMNS, Campaign, Comparison, Role, Site
from ..network.service import network_counts
from ..storage import EVIDENCE, storage_for, upload_tmp_dir
from ..web.lookups import get_campaign_or_404
from . import display, importer, service
from .charts import indicator_chart
from .forms import HOST_COMPANIES_HELP, EntryForm, ImportForm, TargetsForm
from .proof import file_as_proof
from .service import INDICATORS, Counts, IndicatorError

bp = Blueprint("indicators", __name__)

BLANK_TARGET_LINES = 2


@bp.context_processor
def _formatting():
    return {
        "format_value": display.format_value,
        "format_gap": display.format_gap,
        "format_target": display.format_target,
        "count_labels": service.COUNT_LABELS,
        "indicators": INDICATORS,
    }


# ------------------------------------------------------------------------------------ helpers


def _sites(campaign: Campaign) -> list[Site]:
    return list(db.session.scalars(
        select(Site).where(Site.school_id == campaign.school_id)
        .order_by(Site.opened_on, Site.name)
    ))


def _editable_sites(sites: list[Site]) -> list[Site]:
    return [s for s in sites if service.can_edit_site(current_user, s)]


def _month_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    month = importer.parse_month(raw)
    if month is None:
        flash(_("Mois illisible « %(value)s » : attendu AAAA-MM. Il n’a pas été retenu.",
                value=raw[:20]), "warning")
    return month


def _period() -> tuple[date | None, date | None]:
    return _month_arg("debut"), _month_arg("fin")


# ----------------------------------------------------------------------------------- reading


@bp.get("/")
@requires(Permission.READ)
def index(campaign_id: int):
    """The school's key figures against their targets over a period: the label's results."""
    campaign = get_campaign_or_404(campaign_id)
    start, end = _period()
    table = service.indicator_table(campaign.school, start=start, end=end)
    # Beside the school's total, the network's (weighted): never another school's figures.
    network, reporting = network_counts(db.session, start, end)
    charts = [
        to_svg(indicator_chart(table, code), str(INDICATORS[code].label))
        for code in INDICATORS
    ]
    return render_template(
        "indicators/index.html",
        campaign=campaign,
        table=table,
        network=network if reporting > 1 else None,
        network_schools=reporting,
        indicators=INDICATORS,
        charts=charts,
        site_names={s.id: s.name for s in table.sites},
        can_edit=has_permission(current_user, Permission.EDIT_INDICATORS),
        can_edit_targets=has_permission(current_user, Permission.EDIT_CAMPAIGN),
        can_file_proof=has_permission(current_user, Permission.EDIT_CAMPAIGN),
        host_companies_help=HOST_COMPANIES_HELP,
    )


@bp.post("/preuve")
@requires(Permission.EDIT_CAMPAIGN)
def file_proof(campaign_id: int):
    """Today's table filed in the library as a proof of the results criteria, sent for review."""
    # The quality lead's call: a site manager's proofs belong to their site, and this table is
    # the whole school's.
    campaign = get_campaign_or_404(campaign_id)
    try:
        proof = file_as_proof(db.session, storage_for(current_app, EVIDENCE),
                              upload_tmp_dir(current_app), campaign, current_user, local_today())
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for(".index", campaign_id=campaign.id))
    flash(_("Tableau versé dans la bibliothèque de preuves et envoyé en validation ; il est "
            "lié à %(num)s critères de résultats.", num=len(proof.links)), "success")
    return redirect(url_for("evidence.detail", evidence_id=proof.id))


@bp.get("/mois")
@requires(Permission.READ)
def months(campaign_id: int):
    """Month by month, one site or all: where a wrong count is found and then corrected."""
    campaign = get_campaign_or_404(campaign_id)
    start, end = _period()
    sites = _sites(campaign)
    chosen = request.args.get("site", "").strip()
    shown = [s for s in sites if s.code == chosen] or sites
    table = service.indicator_table(campaign.school, sites=shown, start=start, end=end)
    return render_template(
        "indicators/months.html",
        campaign=campaign,
        table=table,
        sites=sites,
        chosen=chosen if len(shown) == 1 and chosen else "",
        editable={s.id for s in _editable_sites(sites)},
        can_edit=has_permission(current_user, Permission.EDIT_INDICATORS),
        host_companies_help=HOST_COMPANIES_HELP,
    )


# ----------------------------------------------------------------------------------- entering


def _render_entry(campaign: Campaign, form: EntryForm, sites: list[Site], status: int = 200,
                  conflict: bool = False):
    return render_template(
        "indicators/entry.html",
        campaign=campaign,
        form=form,
        sites=sites,
        conflict=conflict,
        host_companies_help=HOST_COMPANIES_HELP,
    ), status


def _entry_choices(form: EntryForm, sites: list[Site]) -> None:
    form.site_id.choices = [SelectChoice(0, _("— choisir —"))] + [
        SelectChoice(s.id, s.name) for s in _editable_sites(sites)
    ]


@bp.get("/saisie")
@requires(Permission.EDIT_INDICATORS)
def entry(campaign_id: int):
    """A blank form, or the stored counts of ``?site=<id>&mois=AAAA-MM`` to correct them."""
    campaign = get_campaign_or_404(campaign_id)
    sites = _sites(campaign)
    form = EntryForm(formdata=None)
    _entry_choices(form, sites)
    site_id = request.args.get("site", type=int)
    site = next((s for s in sites if s.id == site_id), None)
    if site_id and site is None:
        abort(404)
    if site is not None and not service.can_edit_site(current_user, site):
        abort(403)
    if site is None and current_user.role is Role.SITE_MANAGER:
        site = next((s for s in sites if s.id == current_user.site_id), None)
    period = importer.parse_month(request.args.get("mois", "")) or service.month_start(
        local_today())
    form.site_id.data = site.id if site else 0
    form.period.data = f"{period:%Y-%m}"
    stored = service.get_entry(db.session, site, period) if site else None
    if stored is not None:
        for name in COUNT_COLUMNS:
            getattr(form, name).data = getattr(stored, name)
        form.lock_version.data = stored.lock_version
    return _render_entry(campaign, form, sites)


@bp.post("/saisie")
@requires(Permission.EDIT_INDICATORS)
def save_entry(campaign_id: int):
    """A stale form is a 409 that keeps what was typed; a site manager saves only their own site."""
    campaign = get_campaign_or_404(campaign_id)
    sites = _sites(campaign)
    form = EntryForm()
    _entry_choices(form, sites)
    if not form.validate_on_submit():
        flash(_("Vérifiez les champs signalés : rien n’a été enregistré."), "danger")
        return _render_entry(campaign, form, sites, 400)
    site = next((s for s in sites if s.id == form.site_id.data), None)
    period = importer.parse_month(form.period.data)
    try:
        if site is None:
            raise IndicatorError(_("Choisissez un site."))
        if period is None:
            raise IndicatorError(_("Indiquez le mois (AAAA-MM)."))
        counts = Counts(**{name: getattr(form, name).data for name in COUNT_COLUMNS})
        seen = form.lock_version.data
        service.save_entry(
            db.session, campaign.school, site, period, counts, current_user,
            seen_lock_version=int(seen) if seen and seen.isdigit() else None,
            today=local_today(),
        )
        commit_or_conflict(db.session)
    except Conflict as error:
        flash(str(error), "danger")
        return _render_entry(campaign, form, sites, 409, conflict=True)
    except IndicatorError as error:
        db.session.rollback()
        flash(str(error), "danger")
        status = 403 if site is not None and not service.can_edit_site(current_user, site) \
            else 400
        return _render_entry(campaign, form, sites, status)
    flash(_("Indicateurs enregistrés : %(site)s, %(month)s.", site=site.name,
            month=period.strftime("%m/%Y")), "success")
    return redirect(url_for("indicators.months", campaign_id=campaign.id, site=site.code,
                            _anchor=f"mois-{site.code}-{period:%Y-%m}"))


# ------------------------------------------------------------------------------------- import


@bp.route("/import", methods=["GET", "POST"])
@requires(Permission.EDIT_INDICATORS)
def import_file(campaign_id: int):
    """All or nothing: a sheet with a problem imports no month and lists every problem at once."""
    campaign = get_campaign_or_404(campaign_id)
    form = ImportForm()
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = importer.import_entries(
                db.session, campaign.school, upload.filename or "", upload.read(),
                current_user, today=local_today(),
            )
            commit_or_conflict(db.session)
        except importer.ImportRefused as refused:
            db.session.rollback()
            problems = refused.problems
            status = 400
            flash(_("Fichier refusé : rien n’a été importé. Corrigez les %(count)s problème(s) "
                    "ci-dessous puis renvoyez-le.", count=len(problems)), "danger")
        except DomainError as error:  # a concurrent save of the same month
            flash(str(error), "danger")
            status = 409
        else:
            flash(_("Import réussi : %(created)s mois ajouté(s), %(updated)s mis à jour.",
                    created=report.created, updated=report.updated), "success")
            return redirect(url_for("indicators.months", campaign_id=campaign.id))
    elif form.is_submitted():
        status = 400
    return render_template(
        "indicators/import.html",
        campaign=campaign,
        form=form,
        problems=problems,
        sites=_editable_sites(_sites(campaign)),
        header=importer.HEADER,
        host_companies_help=HOST_COMPANIES_HELP,
    ), status


@bp.get("/modele")
@requires(Permission.EDIT_INDICATORS)
def import_template(campaign_id: int):
    """The import template, XLSX by default, CSV with ``?format=csv``."""
    get_campaign_or_404(campaign_id)
    if request.args.get("format") == "csv":
        body, media_type, suffix = importer.template_csv(), "text/csv; charset=utf-8", "csv"
    else:
        body = importer.template_xlsx()
        media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        suffix = "xlsx"
    return Response(body, mimetype=media_type, headers={
        "Content-Disposition": f'attachment; filename="modele-indicateurs.{suffix}"'
    })


# ------------------------------------------------------------------------------------ targets


def _number(text: str | None) -> float | None:
    """« 40 », « 40,5 », « 40 % » → 40.0 / 40.5; None when not a number."""
    cleaned = re.sub(r"[\s\u00a0\u202f%]", "", text or "").replace(",", ".")
    try:
        return float(cleaned) if cleaned else None
    except ValueError:
        return None


def _target_choices(form: TargetsForm, sites: list[Site]) -> None:
    for line in form.lines:
        line.site_id.choices = [SelectChoice(0, _("Toute l’école"))] + [
            SelectChoice(s.id, s.name) for s in sites
        ]
        line.indicator.choices = [SelectChoice("", _("— choisir —"))] + [
            SelectChoice(i.code, i.label) for i in INDICATORS.values()
        ]
        line.comparison.choices = [SelectChoice(c.value, c.label) for c in Comparison]


def _render_targets(campaign: Campaign, form: TargetsForm, sites: list[Site], status: int = 200):
    return render_template("indicators/targets.html", campaign=campaign, form=form,
                           sites=sites), status


@bp.get("/objectifs")
@requires(Permission.EDIT_CAMPAIGN)
def targets(campaign_id: int):
    """Existing targets plus blank lines, so that several are set in one go."""
    campaign = get_campaign_or_404(campaign_id)
    sites = _sites(campaign)
    form = TargetsForm(formdata=None)
    for target in service.targets_of(db.session, campaign.school):
        indicator = INDICATORS.get(target.indicator)
        shown = target.value * 100 if indicator and indicator.is_rate else target.value
        form.lines.append_entry({
            "target_id": str(target.id),
            "site_id": target.site_id or 0,
            "indicator": target.indicator,
            "comparison": target.comparison.value,
            "value": f"{shown:g}".replace(".", ","),
            "source": target.source,
        })
    for _blank in range(BLANK_TARGET_LINES):
        form.lines.append_entry({"comparison": Comparison.MIN.value})
    _target_choices(form, sites)
    return _render_targets(campaign, form, sites)


@bp.post("/objectifs")
@requires(Permission.EDIT_CAMPAIGN)
def save_targets(campaign_id: int):
    """Rates are typed as percentages and stored as fractions; one bad line saves nothing."""
    campaign = get_campaign_or_404(campaign_id)
    sites = _sites(campaign)
    form = TargetsForm()
    _target_choices(form, sites)
    if not form.validate_on_submit():
        flash(_("Vérifiez les champs signalés : rien n’a été enregistré."), "danger")
        return _render_targets(campaign, form, sites, 400)
    by_id = {s.id: s for s in sites}
    lines: list[service.TargetInput] = []
    problems: list[str] = []
    for number, line in enumerate(form.lines, start=1):
        data = line.data
        target_id = int(data["target_id"]) if str(data["target_id"] or "").isdigit() else None
        if target_id is None and not data["indicator"] and not (data["value"] or "").strip():
            continue  # a blank line left for adding
        indicator = INDICATORS.get(data["indicator"] or "")
        value = _number(data["value"])
        if (data["value"] or "").strip() and value is None:
            problems.append(_("Objectif %(n)s : « %(value)s » n’est pas un nombre.", n=number,
                              value=data["value"]))
        if value is not None and indicator is not None and indicator.is_rate:
            value /= 100  # typed as a percentage, stored as a fraction
        try:
            comparison = Comparison(data["comparison"])
        except ValueError:
            comparison = Comparison.MIN
        lines.append(service.TargetInput(
            id=target_id, indicator=data["indicator"] or "", value=value,
            comparison=comparison, site=by_id.get(data["site_id"]),
            source=data["source"] or "", delete=bool(data["delete"]),
        ))
    try:
        if problems:
            raise IndicatorError(" ".join(problems))
        service.save_targets(db.session, campaign.school, lines, current_user)
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _render_targets(campaign, form, sites, 400)
    flash(_("Objectifs enregistrés."), "success")
    return redirect(url_for("indicators.index", campaign_id=campaign.id))

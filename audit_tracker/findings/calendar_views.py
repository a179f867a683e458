"""Calendar pages (a campaign's month grid and list), the personal feed and its settings page.
The API's calendar.ics of a campaign is in ``api/calendar.py``."""

from __future__ import annotations

import calendar as month_calendar
import re
from datetime import date, timedelta

from babel.dates import get_day_names
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
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import Permission, public, requires
from ..clock import local_today
from ..extensions import db
from ..web.files import send_calendar
from ..web.lookups import get_campaign_or_404
from . import calendar as service

bp = Blueprint("calendar", __name__)

LIST_DAYS = 90
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _first_of_month(value: str | None, today: date) -> date:
    """``?mois=2018-04`` as its first day; today's month when absent."""
    if not value:
        return today.replace(day=1)
    match = _MONTH.fullmatch(value.strip())
    if not match or not (1900 <= int(match[1]) <= 2999 and 1 <= int(match[2]) <= 12):
        abort(400, _("Mois invalide : indiquez-le sous la forme AAAA-MM, par exemple 2018-04."))
    return date(int(match[1]), int(match[2]), 1)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


@bp.route("/campagnes/<int:campaign_id>/calendrier")
@requires(Permission.READ)
def campaign(campaign_id: int):
    """Every dated thing of a campaign in one place, as a month grid or the coming 90 days."""
    the_campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    if request.args.get("vue") == "liste":
        return _list_view(the_campaign, today)
    first = _first_of_month(request.args.get("mois"), today)
    weeks = month_calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    entries = service.entries_for(db.session, the_campaign, current_user, weeks[0][0],
                                  weeks[-1][-1], today)
    by_day = {day: [e for e in entries if e.covers(day)] for week in weeks for day in week}
    day_names = get_day_names("wide", locale=get_locale())
    return render_template(
        "calendar/campaign.html",
        campaign=the_campaign,
        view="mois",
        today=today,
        first=first,
        month_label=_capitalised(format_date(first, "LLLL yyyy")),
        weeks=weeks,
        by_day=by_day,
        day_names=[_capitalised(day_names[i]) for i in range(7)],
        previous_month=f"{first - timedelta(days=1):%Y-%m}",
        next_month=f"{first + timedelta(days=31):%Y-%m}",
        kinds=list(service.EntryKind),
    )


def _list_view(the_campaign, today: date):
    end = today + timedelta(days=LIST_DAYS)
    coming = service.entries_for(db.session, the_campaign, current_user, today, end, today)
    late = [e for e in service.entries_for(db.session, the_campaign, current_user,
                                           today - service.FEED_PAST, today - timedelta(days=1),
                                           today)
            if e.late]
    days: dict[date, list] = {}
    for entry in coming:
        days.setdefault(max(entry.start, today), []).append(entry)
    return render_template(
        "calendar/campaign.html",
        campaign=the_campaign,
        view="liste",
        today=today,
        end=end,
        days=days,
        late=late,
        list_days=LIST_DAYS,
        kinds=list(service.EntryKind),
    )


@bp.route("/compte/calendrier", methods=["GET", "POST"])
@requires(Permission.READ)
def subscription():
    """The user's feed URL: created on demand, regenerated (the old one revoked) or removed."""
    if request.method == "POST":
        action = request.form.get("action", "creer")
        if action == "supprimer":
            service.revoke_feed_token(db.session, current_user)
            db.session.commit()
            flash(_("Lien supprimé : les agendas abonnés ne reçoivent plus rien."), "info")
        else:
            had_one = current_user.calendar_token is not None
            service.issue_feed_token(db.session, current_user)
            db.session.commit()
            flash(_("Nouveau lien créé : l’ancien ne fonctionne plus. Mettez à jour vos "
                    "abonnements.") if had_one else _("Votre lien d’abonnement est prêt."),
                  "success")
        return redirect(url_for(".subscription"))
    token = service.feed_token(current_user, current_app.secret_key or "")
    feed_url = url_for(".feed", token=token, _external=True) if token else None
    response = Response(render_template("calendar/subscription.html", feed_url=feed_url))
    response.headers["Cache-Control"] = "no-store"  # the page shows a secret
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/calendrier/<token>.ics")
@public  # the secret URL is the credential: calendar clients send no cookie and no bearer token
def feed(token: str):
    """Calendar clients send no cookie, so the secret URL is the credential; 404 once revoked."""
    user = service.user_for_feed_token(db.session, token, current_app.secret_key or "")
    if user is None:
        abort(404)
    today = local_today()
    entries = service.feed_entries(db.session, user, *service.feed_window(today), today)
    name = _("Audit %(school)s", school=user.school.short_name)
    return send_calendar(service.to_ics(entries, name, base_url=request.host_url),
                         "audit_tracker.ics")

"""API v1: a campaign's calendar as an iCalendar file, for a bearer token's owner."""

from __future__ import annotations

from flask import Response, request
from flask_login import current_user

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..extensions import db
from ..findings import calendar
from ..web.files import send_calendar
from ..web.lookups import get_campaign_or_404
from . import bp
from .declare import Reply, endpoint


@bp.get("/campaigns/<int:campaign_id>/calendar.ics")
@requires(Permission.READ)
@endpoint(
    "Calendrier de la campagne au format iCalendar (RFC 5545)",
    description="Échéances de la campagne, instances (heure de Paris, TZID=Europe/Paris), "
    "échéances des actions non terminées et des constats ouverts, fins de validité des preuves "
    "visibles par le compte ; d’un an en arrière à quatre ans en avant. Les échéances sont des "
    "journées entières (VALUE=DATE, DTEND exclu) ; les UID sont stables d’un appel à l’autre.",
    replies={200: Reply(None, "Le calendrier", "text/calendar")},
)
def campaign_calendar(campaign_id: int) -> Response:
    """For a calendar client that holds a token, not a browser session."""
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    entries = calendar.entries_for(db.session, campaign, current_user,
                                   *calendar.feed_window(today), today)
    return send_calendar(calendar.to_ics(entries, campaign.name, base_url=request.host_url),
                         f"campagne-{campaign.id}.ics")

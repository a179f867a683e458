"""The référent réseau's page: every school of the instance, read only."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..extensions import db
from .service import INDICATOR_MONTHS, NETWORK_INDICATORS, network_overview, network_total

bp = Blueprint("network", __name__)


@bp.route("/reseau")
@requires(Permission.VIEW_NETWORK)
def index():
    """The référent sees which school audits when and which is at risk, without opening each."""
    today = local_today()
    schools = network_overview(db.session, today)
    return render_template("network/index.html", schools=schools, today=today,
                           total=network_total(schools), indicators=NETWORK_INDICATORS,
                           months=INDICATOR_MONTHS)

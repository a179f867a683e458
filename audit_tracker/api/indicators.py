"""API v1 for the key indicators: the table of ``indicators.service.indicator_table`` in JSON.

Rates are fractions at full precision (0.1587…, not « 16 % »): rounding is the reader's choice.
A rate whose denominator is 0 is ``null``. Totals are weighted (sum of counts / sum of counts).
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.permissions import Permission, requires
from ..extensions import db
from ..indicators.service import INDICATORS, IndicatorRow, IndicatorTable, indicator_table
from ..models import IndicatorTarget, Site
from ..web.lookups import get_campaign_or_404
from . import bp, schemas
from .declare import endpoint


def target_json(target: IndicatorTarget | None, site_codes: dict[int, str]) -> dict | None:
    if target is None:
        return None
    return {
        "id": target.id,
        "indicator": target.indicator,
        "site": site_codes.get(target.site_id) if target.site_id else None,
        "comparison": target.comparison.value,
        "value": target.value,
        "source": target.source,
    }


def row_json(row: IndicatorRow, site_codes: dict[int, str]) -> dict:
    """Counts, rates, and each rate against its target (gap in the value's unit)."""
    return {
        "counts": {**row.counts.as_dict(), "months": row.counts.months},
        "rates": {code: m.value for code, m in row.measures.items()},
        "targets": {
            code: None if m.target is None else {
                **(target_json(m.target, site_codes) or {}),
                "gap": m.gap,
                "met": m.met,
            }
            for code, m in row.measures.items()
        },
    }


def table_json(table: IndicatorTable) -> dict:
    site_codes = {s.id: s.code for s in table.sites}
    return {
        "school": table.school.short_name,
        "start": f"{table.start:%Y-%m}" if table.start else None,
        "end": f"{table.end:%Y-%m}" if table.end else None,
        "periods": [f"{p:%Y-%m}" for p in table.periods],
        "indicators": [
            {"code": i.code, "label": str(i.label), "kind": i.kind} for i in INDICATORS.values()
        ],
        "targets": [target_json(t, site_codes) for t in table.targets],
        "sites": [
            {
                "code": row.site.code,
                "name": row.site.name,
                "opened_on": row.site.opened_on.isoformat() if row.site.opened_on else None,
                **row_json(row, site_codes),
                "periods": [
                    {"period": f"{m.period:%Y-%m}", **row_json(m, site_codes)}
                    for m in table.months_of(row.site)
                ],
            }
            for row in table.rows
        ],
        "total": row_json(table.total, site_codes),
    }


@bp.get("/campaigns/<int:campaign_id>/indicators")
@requires(Permission.READ)
@endpoint(
    "Indicateurs clés de l’école par site et par mois, avec leurs objectifs",
    description="Effectifs saisis, taux calculés (fractions non arrondies, `null` quand le "
    "dénominateur est nul) et objectifs. Les totaux sont pondérés : somme des effectifs / "
    "somme des effectifs, jamais une moyenne des pourcentages. `gap` = valeur − objectif, dans "
    "l’unité de la valeur (fraction pour un taux). Un objectif de site remplace celui de "
    "l’école pour ce site.",
    query=schemas.IndicatorsQuery,
    replies={200: schemas.Indicators},
)
def campaign_indicators(campaign_id: int, query: schemas.IndicatorsQuery):
    """Counts and unrounded rates: the network's own tools do the rounding."""
    campaign = get_campaign_or_404(campaign_id)
    start, end = query.start, query.end
    sites = None
    codes = [c.strip() for c in query.site or ()]
    if codes:
        sites = list(db.session.scalars(
            select(Site).where(Site.school_id == campaign.school_id, Site.code.in_(codes))
            .order_by(Site.opened_on, Site.name)
        ))
        unknown = sorted(set(codes) - {s.code for s in sites})
        if unknown:
            abort(400, _("Site inconnu : %(code)s.", code=", ".join(unknown)[:80]))
    return table_json(indicator_table(campaign.school, sites=sites, start=start, end=end))

"""API v1 for readiness: the same rules as the dashboard, at any reference date."""

from __future__ import annotations

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..extensions import db
from ..readiness.rules import Readiness, default_reference_date, readiness_of, reference_name
from ..web.lookups import get_campaign_or_404
from . import bp, inputs, schemas
from .declare import endpoint


@bp.get("/campaigns/<int:campaign_id>/readiness")
@requires(Permission.READ)
@endpoint(
    "État de préparation de chaque critère à une date de référence",
    description="Les règles de l’écran « Préparation » (voir README, « État de préparation ») : "
    "par critère, son état et ses raisons en toutes lettres. Le produit ne dit jamais "
    "« conforme » : l’auditeur décide.",
    query=schemas.ReadinessQuery,
    replies={200: schemas.Readiness},
)
def campaign_readiness(campaign_id: int, query: schemas.ReadinessQuery):
    """Any reference date, so that a client can replay the audit day before it comes."""
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    as_of = query.as_of or default_reference_date(campaign, today)
    site = inputs.site(query.site)
    readiness = readiness_of(db.session, campaign, as_of, today=today,
                             site_id=site.id if site else None)
    return readiness_json(readiness, reference_name(campaign, as_of),
                          site.code if site else None)


def readiness_json(readiness: Readiness, reference: str | None, site: str | None) -> dict:
    share = readiness.share_demonstrable
    return {
        "campaign_id": readiness.campaign_id,
        "as_of": readiness.as_of.isoformat(),
        "reference": reference,
        "site": site,
        "summary": {
            "counts": {state.value: n for state, n in readiness.counts().items()},
            "applicable": len(readiness.applicable),
            "share_demonstrable": round(share, 4) if share is not None else None,
        },
        "criteria": [
            {
                "id": c.criterion_id,
                "framework": c.framework_code,
                "section": c.section_code,
                "code": c.code,
                "title": c.title,
                "indispensable": c.indispensable,
                "state": c.state.value,
                "state_label": c.state.label,
                "reasons": [{"code": r.code, "text": r.text} for r in c.reasons],
                "evidence_ids": list(c.evidence_ids),
            }
            for c in readiness.criteria
        ],
    }

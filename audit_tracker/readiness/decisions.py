"""What the school decides per criterion: its argument, whether the criterion applies (to the
whole school or to one site), always with a reason when it does not."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain.errors import DomainError, check_fresh, commit_or_conflict
from ..extensions import db
from ..models import Campaign, CampaignCriterion, Criterion, Site, SiteExemption, User


class DecisionError(DomainError):
    """A refused decision, in French; the form keeps what was typed."""


def criterion_in_campaign(campaign: Campaign, criterion_id: int) -> Criterion | None:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.framework_id not in {f.id for f in campaign.frameworks}:
        return None
    return criterion


def decision_for(campaign: Campaign, criterion: Criterion) -> CampaignCriterion | None:
    return db.session.scalar(select(CampaignCriterion).where(
        CampaignCriterion.campaign_id == campaign.id,
        CampaignCriterion.criterion_id == criterion.id))


def save_decision(campaign: Campaign, criterion: Criterion, user: User, *, argument: str,
                  applicable: bool, reason: str,
                  seen_lock_version: int | None) -> CampaignCriterion:
    argument, reason = (argument or "").strip(), (reason or "").strip()
    if not applicable and not reason:
        raise DecisionError(_("Dites pourquoi ce critère ne s’applique pas : l’auditeur "
                              "le demandera."))
    if len(argument) > 50_000:
        raise DecisionError(_("L’argumentaire ne doit pas dépasser 50 000 caractères."))
    decision = decision_for(campaign, criterion)
    if decision is None:
        decision = CampaignCriterion(campaign_id=campaign.id, criterion_id=criterion.id)
        db.session.add(decision)
    else:
        check_fresh(decision, seen_lock_version)
    decision.argument = argument
    decision.applicable = applicable
    decision.not_applicable_reason = "" if applicable else reason
    decision.updated_by = user
    commit_or_conflict(db.session)
    return decision


def exemptions_for(campaign: Campaign, criterion: Criterion) -> list[SiteExemption]:
    return list(db.session.scalars(
        select(SiteExemption).join(SiteExemption.site)
        .where(SiteExemption.campaign_id == campaign.id,
               SiteExemption.criterion_id == criterion.id)
        .order_by(Site.name)))


def exempt_site(campaign: Campaign, criterion: Criterion, site: Site | None,
                reason: str) -> SiteExemption:
    reason = (reason or "").strip()
    if site is None or site.school_id != campaign.school_id:
        raise DecisionError(_("Choisissez un site de votre école."))
    if not reason:
        raise DecisionError(_("Dites pourquoi ce critère ne s’applique pas à ce site."))
    if any(e.site_id == site.id for e in exemptions_for(campaign, criterion)):
        raise DecisionError(_("Ce site est déjà exempté de ce critère."))
    exemption = SiteExemption(campaign=campaign, criterion=criterion, site=site, reason=reason)
    db.session.add(exemption)
    commit_or_conflict(db.session)
    return exemption


def remove_exemption(campaign: Campaign, exemption_id: int) -> bool:
    exemption = db.session.get(SiteExemption, exemption_id)
    if exemption is None or exemption.campaign_id != campaign.id:
        return False
    db.session.delete(exemption)
    db.session.commit()
    return True

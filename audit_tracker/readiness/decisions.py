"""What the school decides per criterion: its argument, whether the criterion applies (to the
whole school or to one site), always with a reason when it does not. Each change is flushed;
the caller commits."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.errors import DomainError, check_fresh, flush_or_conflict
from ..models import Campaign, CampaignCriterion, Criterion, Site, SiteExemption, User


class DecisionError(DomainError):
    """A refused decision, in French; the form keeps what was typed."""


def criterion_in_campaign(session: Session, campaign: Campaign,
                          criterion_id: int) -> Criterion | None:
    """A criterion of one of the campaign's frameworks, or None."""
    criterion = session.get(Criterion, criterion_id)
    if criterion is None or criterion.framework_id not in {f.id for f in campaign.frameworks}:
        return None
    return criterion


def decisions_of(session: Session, campaign: Campaign) -> dict[int, CampaignCriterion]:
    """Everything the school decided in this campaign, by criterion id."""
    return {row.criterion_id: row for row in session.scalars(
        select(CampaignCriterion).where(CampaignCriterion.campaign_id == campaign.id))}


def decision_for(session: Session, campaign: Campaign,
                 criterion: Criterion) -> CampaignCriterion | None:
    """What the school decided about ``criterion`` in this campaign, if anything yet."""
    return session.scalar(select(CampaignCriterion).where(
        CampaignCriterion.campaign_id == campaign.id,
        CampaignCriterion.criterion_id == criterion.id))


def save_decision(session: Session, campaign: Campaign, criterion: Criterion, user: User, *,
                  argument: str, applicable: bool, reason: str,
                  seen_lock_version: int | None,
                  self_assessment: str | None = None) -> CampaignCriterion:
    """The school's argument for ``criterion``, whether it applies (with its reason), and its
    self-assessed level (a code of the framework's scale, or None)."""
    argument, reason = (argument or "").strip(), (reason or "").strip()
    levels = {level["code"] for level in criterion.framework.self_assessment_scale or []}
    if self_assessment and self_assessment not in levels:
        raise DecisionError(_("Niveau d’auto-évaluation inconnu pour ce référentiel."))
    if not applicable and not reason:
        raise DecisionError(_("Dites pourquoi ce critère ne s’applique pas : l’auditeur "
                              "le demandera."))
    if len(argument) > 50_000:
        raise DecisionError(_("L’argumentaire ne doit pas dépasser 50 000 caractères."))
    decision = decision_for(session, campaign, criterion)
    if decision is None:
        decision = CampaignCriterion(campaign_id=campaign.id, criterion_id=criterion.id)
        session.add(decision)
    else:
        check_fresh(decision, seen_lock_version)
    decision.argument = argument
    decision.applicable = applicable
    decision.not_applicable_reason = "" if applicable else reason
    decision.self_assessment = self_assessment or None
    decision.updated_by = user
    flush_or_conflict(session)
    return decision


def exemptions_for(session: Session, campaign: Campaign,
                   criterion: Criterion) -> list[SiteExemption]:
    """The sites exempted from ``criterion`` in this campaign, by name."""
    return list(session.scalars(
        select(SiteExemption).join(SiteExemption.site)
        .where(SiteExemption.campaign_id == campaign.id,
               SiteExemption.criterion_id == criterion.id)
        .order_by(Site.name)))


def exempt_site(session: Session, campaign: Campaign, criterion: Criterion, site: Site | None,
                reason: str) -> SiteExemption:
    """Say that ``criterion`` does not apply to one site, and why."""
    reason = (reason or "").strip()
    if site is None or site.school_id != campaign.school_id:
        raise DecisionError(_("Choisissez un site de votre école."))
    if not reason:
        raise DecisionError(_("Dites pourquoi ce critère ne s’applique pas à ce site."))
    if any(e.site_id == site.id for e in exemptions_for(session, campaign, criterion)):
        raise DecisionError(_("Ce site est déjà exempté de ce critère."))
    exemption = SiteExemption(campaign=campaign, criterion=criterion, site=site, reason=reason)
    session.add(exemption)
    flush_or_conflict(session)
    return exemption


def remove_exemption(session: Session, campaign: Campaign, exemption_id: int) -> bool:
    """Take a site's exemption back; False when it is not one of the campaign's."""
    exemption = session.get(SiteExemption, exemption_id)
    if exemption is None or exemption.campaign_id != campaign.id:
        return False
    session.delete(exemption)
    session.flush()
    return True

"""Inviting an auditor for one campaign, and what that auditor may read of it.

An invited auditor is a ``Role.AUDITOR`` account tied to one campaign between two dates
(``User.access_*``); the day after the last one it is no longer active (login and sessions
refused). What it reads is what the school sends: validated proofs with a confirmed claim
(``evidence.service.sent_to_auditor``), the dossier's school edition, the arguments and the
findings of that campaign. Drafts, reviews' comments, who is late and the director's sign-off
comment are never read here; the permission gate (``accounts.auditors``) refuses every other page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..domain.errors import DomainError
from ..dossier.options import Edition
from ..evidence.service import SearchFilters, search
from ..models import (
    BuildStatus,
    Campaign,
    CampaignCriterion,
    ClaimStatus,
    Criterion,
    DossierBuild,
    Evidence,
    Finding,
    Milestone,
    Role,
    User,
)

INVITATION_DAYS = 7  # an invitation link works for a week
MAX_ACCESS_DAYS = 366


class InvitationError(DomainError):
    """Why an auditor cannot be invited (French message)."""


@dataclass
class Invitation:
    """The account made and the clear link token, shown once (and e-mailed if possible)."""

    user: User
    token: str


def invite(session: Session, campaign: Campaign, email: str, full_name: str,
           starts_on: date, ends_on: date, today: date, now: datetime) -> Invitation:
    """Create an auditor account for ``campaign`` between the two days, with a link to set its
    password; refused when the e-mail is taken or the dates make no sense."""
    email = email.strip().lower()
    if ends_on < starts_on:
        raise InvitationError(_("La fin de l’accès précède son début."))
    if ends_on < today:
        raise InvitationError(_("La fin de l’accès est déjà passée."))
    if (ends_on - starts_on).days > MAX_ACCESS_DAYS:
        raise InvitationError(_("Un accès d’auditeur dure au plus un an."))
    if session.scalar(select(User.id).where(User.email == email)):
        raise InvitationError(_("Un compte existe déjà avec cette adresse."))
    user = User(email=email, full_name=full_name.strip() or email, role=Role.AUDITOR,
                school_id=campaign.school_id, access_campaign_id=campaign.id,
                access_starts_on=starts_on, access_ends_on=ends_on)
    token = user.issue_password_link(now + timedelta(days=INVITATION_DAYS))
    user.end_sessions()
    session.add(user)
    session.flush()
    return Invitation(user=user, token=token)


def invited_auditors(session: Session, campaign: Campaign) -> list[User]:
    """The auditors invited for ``campaign``, the latest access first."""
    return list(session.scalars(
        select(User).where(User.access_campaign_id == campaign.id, User.role == Role.AUDITOR)
        .order_by(User.access_ends_on.desc(), User.email)))


def end_access(session: Session, campaign: Campaign, user_id: int, today: date) -> User:
    """End an invited auditor's access now: yesterday becomes its last day."""
    user = session.get(User, user_id)
    if user is None or user.access_campaign_id != campaign.id:
        raise InvitationError(_("Cet auditeur n’est pas invité sur cette campagne."))
    user.access_ends_on = min(user.access_ends_on or today, today - timedelta(days=1))
    user.end_sessions()
    session.flush()
    return user


def invitation_message(user: User, campaign: Campaign, link: str, sender: str) -> EmailMessage:
    """The invitation e-mail, plain text in French."""
    message = EmailMessage()
    message["Subject"] = f"Invitation : audit de la campagne « {campaign.name} »"
    message["From"] = sender
    message["To"] = user.email
    starts = user.access_starts_on.strftime("%d/%m/%Y") if user.access_starts_on else ""
    ends = user.access_ends_on.strftime("%d/%m/%Y") if user.access_ends_on else ""
    message.set_content(
        f"Bonjour,\n\nVous êtes invité à consulter le dossier de la campagne « {campaign.name} » "
        f"du {starts} au {ends}.\nChoisissez votre mot de passe en ouvrant ce lien (valable "
        f"{INVITATION_DAYS} jours) :\n\n{link}\n")
    return message


# ------------------------------------------------------------------------------ what is sent


@dataclass
class Sent:
    """What an invited auditor reads of their campaign."""

    campaign: Campaign
    proofs: list[Evidence]
    builds: list[DossierBuild]
    arguments: list[CampaignCriterion]
    findings: list[Finding]


def auditor_campaign(session: Session, user: User) -> Campaign | None:
    """The one campaign an invited auditor reads (None for any other account)."""
    if not user.is_invited_auditor:
        return None
    return session.get(Campaign, user.access_campaign_id)


def sent_proofs(session: Session, user: User, query: str = "") -> list[Evidence]:
    """The proofs the school sends, searched: ``evidence.service.visible_to`` already keeps only
    the validated ones with a confirmed claim on this campaign's frameworks."""
    return search(session, user, SearchFilters(query=query[:200]))


def confirmed_claims(evidence: Evidence) -> list[Criterion]:
    """The criteria a sent proof serves by a confirmed claim (never one awaiting a word)."""
    return [link.criterion for link in evidence.links if link.status is ClaimStatus.CONFIRMED]


def what_is_sent(session: Session, user: User, query: str = "") -> Sent | None:
    """Everything the auditor's page shows, or None when the account is no invited auditor."""
    campaign = auditor_campaign(session, user)
    if campaign is None:
        return None
    builds = list(session.scalars(
        select(DossierBuild)
        .where(DossierBuild.campaign_id == campaign.id, DossierBuild.status == BuildStatus.DONE)
        .order_by(DossierBuild.created_at.desc(), DossierBuild.id.desc())))
    builds = [b for b in builds if (b.options or {}).get("edition") == Edition.SCHOOL.value]
    arguments = list(session.scalars(
        select(CampaignCriterion)
        .where(CampaignCriterion.campaign_id == campaign.id, CampaignCriterion.argument != "")
        .options(selectinload(CampaignCriterion.criterion))
        .join(Criterion, Criterion.id == CampaignCriterion.criterion_id)
        .order_by(Criterion.framework_id, Criterion.position)))
    findings = list(session.scalars(
        select(Finding).join(Milestone, Milestone.id == Finding.milestone_id)
        .where(Milestone.campaign_id == campaign.id)
        .options(selectinload(Finding.milestone))
        .order_by(Milestone.starts_on, Finding.number)))
    return Sent(campaign=campaign, proofs=sent_proofs(session, user, query), builds=builds,
                arguments=arguments, findings=findings)

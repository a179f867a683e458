"""The director's signature: readiness at a reference date, frozen with its hash."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..accounts.permissions import Permission, has_permission
from ..domain.errors import DomainError
from ..models import Campaign, Milestone, ReadinessSignOff, User
from .rules import readiness_of
from .snapshots import SIGNATURE, freeze


class SignOffError(DomainError):
    """A signature refused, with the reason in French."""


def sign(session: Session, campaign: Campaign, user: User, as_of: date, today: date,
         comment: str = "", milestone: Milestone | None = None) -> ReadinessSignOff:
    """The director's signature of the readiness at ``as_of``, frozen with its hash."""
    if not has_permission(user, Permission.SIGN_OFF):
        raise SignOffError(_("Seule la direction signe l’état de préparation."))
    if milestone is not None and milestone.campaign_id != campaign.id:
        raise SignOffError(_("Cette échéance n’appartient pas à la campagne."))
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise SignOffError(_("Le commentaire ne doit pas dépasser 2 000 caractères."))
    snapshot = freeze(readiness_of(session, campaign, as_of, today=today), SIGNATURE, today)
    signoff = ReadinessSignOff(campaign_id=campaign.id, snapshot=snapshot, as_of=as_of,
                               milestone=milestone, signed_by=user, comment=comment)
    session.add_all([snapshot, signoff])
    session.flush()
    return signoff


def signoffs_of(session: Session, campaign: Campaign) -> list[ReadinessSignOff]:
    """Every signature of the campaign, newest first (the snapshot's big JSON is not loaded)."""
    return list(session.scalars(
        select(ReadinessSignOff).where(ReadinessSignOff.campaign_id == campaign.id)
        .options(selectinload(ReadinessSignOff.signed_by),
                 selectinload(ReadinessSignOff.milestone))
        .order_by(ReadinessSignOff.signed_at.desc(), ReadinessSignOff.id.desc())))


def latest_signoff(session: Session, campaign: Campaign) -> ReadinessSignOff | None:
    """The campaign's last signature, with its snapshot, or None."""
    return session.scalar(
        select(ReadinessSignOff).where(ReadinessSignOff.campaign_id == campaign.id)
        .options(selectinload(ReadinessSignOff.signed_by),
                 selectinload(ReadinessSignOff.snapshot))
        .order_by(ReadinessSignOff.signed_at.desc(), ReadinessSignOff.id.desc()).limit(1))


def get_signoff(session: Session, campaign: Campaign,
                signoff_id: int) -> ReadinessSignOff | None:
    """One signature of the campaign, or None."""
    return session.scalar(
        select(ReadinessSignOff).where(ReadinessSignOff.campaign_id == campaign.id,
                                       ReadinessSignOff.id == signoff_id)
        .options(selectinload(ReadinessSignOff.signed_by),
                 selectinload(ReadinessSignOff.snapshot)))

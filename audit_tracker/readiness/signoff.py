"""The director's signature: readiness at a reference date, frozen with its hash."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..accounts.permissions import Permission, has_permission
from ..clock import as_utc, utcnow
from ..domain.errors import DomainError
from ..models import Campaign, Milestone, ReadinessSignOff, User
from ..signing import seal, seal_matches
from .rules import readiness_of
from .snapshots import SIGNATURE, freeze, is_intact


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
                               milestone=milestone, signed_by=user, comment=comment,
                               milestone_id=milestone.id if milestone else None,
                               signed_by_id=user.id, signed_at=utcnow())
    signoff.seal = seal(sealed_content(signoff))
    session.add_all([snapshot, signoff])
    session.flush()
    return signoff


INTACT = "intact"
ALTERED = "altered"
UNSEALED = "unsealed"


def sealed_content(signoff: ReadinessSignOff) -> dict[str, object]:
    """What the seal covers: who signed what, when, for which milestone, with which comment,
    and the frozen JSON (through the snapshot's hash, itself checked against the JSON)."""
    return {
        "campaign_id": signoff.campaign_id,
        "as_of": signoff.as_of.isoformat(),
        "milestone_id": signoff.milestone_id,
        "signed_by_id": signoff.signed_by_id,
        "signed_at": as_utc(signoff.signed_at).isoformat(timespec="microseconds"),
        "comment": signoff.comment or "",
        "snapshot_sha256": signoff.snapshot.sha256,
    }


def seal_state(signoff: ReadinessSignOff) -> str:
    """``intact``, ``altered`` (the JSON, its hash or any sealed field changed in the database,
    or the signing key is not the one that sealed it), or ``unsealed`` (signed before seals;
    only its JSON's hash can be checked)."""
    if not is_intact(signoff.snapshot):
        return ALTERED
    if signoff.seal is None:
        return UNSEALED
    return INTACT if seal_matches(sealed_content(signoff), signoff.seal) else ALTERED


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

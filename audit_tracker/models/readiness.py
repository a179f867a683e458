"""What the school says about each criterion in a campaign, and what readiness looked like when.

A criterion's *state* is never stored: it is computed from proofs, findings and actions at a
reference date (see ``readiness.rules``). What is stored is what people decide (the argument, the
applicability and its reason, a signature) and what the product observed (daily snapshots), so the
trend and a signed state survive later changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Model, utcnow
from .campaign import Campaign, Milestone
from .referentiel import Criterion
from .school import Site


class CampaignCriterion(Model):
    """The school's argument for a criterion, and whether the criterion applies to it at all."""

    __table_args__ = (UniqueConstraint("campaign_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"), index=True)
    # Markdown, rendered sanitised; as long as its form allows (domain.limits reads info).
    argument: Mapped[str] = mapped_column(Text, default="", info={"max_chars": 50_000})
    applicable: Mapped[bool] = mapped_column(default=True)
    not_applicable_reason: Mapped[str] = mapped_column(Text, default="")
    # The school's own level on the framework's self-assessment scale (its code), if rated.
    self_assessment: Mapped[str | None] = mapped_column(String(40))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    lock_version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[Campaign] = relationship()
    criterion: Mapped[Criterion] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}


class SiteExemption(Model):
    """A criterion that does not apply at one site (a site without a workshop, say), and why."""

    __table_args__ = (UniqueConstraint("campaign_id", "criterion_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    reason: Mapped[str] = mapped_column(Text)

    campaign: Mapped[Campaign] = relationship()
    site: Mapped[Site] = relationship()
    criterion: Mapped[Criterion] = relationship()


class ReadinessSnapshot(Model):
    """Readiness as computed on a day, frozen: the per-criterion states and reasons as JSON, with
    the SHA-256 of that JSON's canonical form so a signed state can be shown to be unchanged."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    # "quotidien": one a day for the trend; "signature": frozen by a sign-off.
    kind: Mapped[str] = mapped_column(String(20))
    taken_on: Mapped[date]
    as_of: Mapped[date]
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReadinessSignOff(Model):
    """The director's signature of the readiness at a reference date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("readiness_snapshot.id"))
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id"))
    as_of: Mapped[date]
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    # HMAC-SHA256 (``audit_tracker.signing``) over the campaign, date, milestone, signer, time,
    # comment and the snapshot's hash, with a key kept outside the database; None for
    # signatures made before seals existed.
    seal: Mapped[str | None] = mapped_column(String(64))

    snapshot: Mapped[ReadinessSnapshot] = relationship()
    milestone: Mapped[Milestone | None] = relationship()
    signed_by: Mapped[User] = relationship()

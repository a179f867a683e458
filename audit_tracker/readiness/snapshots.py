"""Readiness frozen in time: one snapshot a day for the trend, one per signature.

A snapshot keeps each criterion's state and structured reasons as JSON, and the SHA-256 of the
canonical form of that JSON: anyone can recompute it and see that a signed state was not edited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..models import Campaign, ReadinessSnapshot
from .rules import CriterionReadiness, Readiness, State, default_reference_date, readiness_of

DAILY = "quotidien"
SIGNATURE = "signature"


def canonical_json(campaign_id: int, as_of: date, criteria: list[dict]) -> bytes:
    """The bytes a snapshot's hash is computed over: sorted keys, no spaces, UTF-8."""
    document = {"campaign_id": campaign_id, "as_of": as_of.isoformat(), "criteria": criteria}
    return json.dumps(document, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def freeze(readiness: Readiness, kind: str, today: date) -> ReadinessSnapshot:
    criteria = [c.to_json() for c in readiness.criteria]
    digest = hashlib.sha256(canonical_json(readiness.campaign_id, readiness.as_of, criteria))
    return ReadinessSnapshot(
        campaign_id=readiness.campaign_id, kind=kind, taken_on=today, as_of=readiness.as_of,
        counts={state.value: n for state, n in readiness.counts().items()},
        criteria=criteria, sha256=digest.hexdigest(),
    )


def thaw(snapshot: ReadinessSnapshot) -> Readiness:
    """The readiness a snapshot froze, to show it with the same templates as a live one."""
    return Readiness(snapshot.campaign_id, snapshot.as_of,
                     tuple(CriterionReadiness.from_json(c) for c in snapshot.criteria))


def is_intact(snapshot: ReadinessSnapshot) -> bool:
    """True when the stored JSON still hashes to the stored SHA-256."""
    data = canonical_json(snapshot.campaign_id, snapshot.as_of, snapshot.criteria)
    return hashlib.sha256(data).hexdigest() == snapshot.sha256


def record_daily(session: Session, campaign: Campaign, today: date, *,
                 replace: bool = False) -> ReadinessSnapshot:
    """Today's snapshot at the default reference date; kept if one exists, unless ``replace``
    (the nightly command refreshes it with the day's last state). Written by commands only:
    ``flask setup`` takes the day's first, ``flask readiness snapshot`` (cron) its last; the
    dashboard only reads them."""
    existing = session.scalar(
        select(ReadinessSnapshot).where(ReadinessSnapshot.campaign_id == campaign.id,
                                        ReadinessSnapshot.kind == DAILY,
                                        ReadinessSnapshot.taken_on == today))
    if existing is not None and not replace:
        return existing
    if existing is not None:
        session.execute(delete(ReadinessSnapshot).where(ReadinessSnapshot.id == existing.id))
    snapshot = freeze(readiness_of(session, campaign, default_reference_date(campaign, today),
                                   today=today), DAILY, today)
    session.add(snapshot)
    session.flush()
    return snapshot


@dataclass(frozen=True)
class TrendPoint:
    day: date
    counts: dict[str, int]

    @property
    def share_demonstrable(self) -> float | None:
        applicable = sum(n for s, n in self.counts.items() if s != State.NOT_APPLICABLE)
        if not applicable:
            return None
        return self.counts.get(State.DEMONSTRABLE.value, 0) / applicable


def trend(session: Session, campaign: Campaign, today: date, days: int = 90) -> list[TrendPoint]:
    """Daily counts per state over the last ``days`` days (only the counts are loaded)."""
    rows = session.execute(
        select(ReadinessSnapshot.taken_on, ReadinessSnapshot.counts)
        .where(ReadinessSnapshot.campaign_id == campaign.id, ReadinessSnapshot.kind == DAILY,
               ReadinessSnapshot.taken_on > today - timedelta(days=days),
               ReadinessSnapshot.taken_on <= today)
        .order_by(ReadinessSnapshot.taken_on))
    return [TrendPoint(day, counts) for day, counts in rows]


def snapshot_on_or_before(session: Session, campaign: Campaign,
                          day: date) -> ReadinessSnapshot | None:
    """The last daily snapshot taken on ``day`` or before."""
    return session.scalar(
        select(ReadinessSnapshot)
        .where(ReadinessSnapshot.campaign_id == campaign.id, ReadinessSnapshot.kind == DAILY,
               ReadinessSnapshot.taken_on <= day)
        .order_by(ReadinessSnapshot.taken_on.desc()).limit(1))


@dataclass(frozen=True)
class StateChange:
    code: str
    title: str
    criterion_id: int
    before: State
    after: State

    @property
    def better(self) -> bool:
        return self.after.rank > self.before.rank


def changes_between(before: Readiness, after: Readiness) -> list[StateChange]:
    """Criteria whose state differs, in référentiel order."""
    old = {c.criterion_id: c.state for c in before.criteria}
    return [
        StateChange(c.code, c.title, c.criterion_id, old[c.criterion_id], c.state)
        for c in after.criteria
        if c.criterion_id in old and old[c.criterion_id] is not c.state
    ]

"""The validation queue « À valider »: proofs sent for validation and claims (a validated proof
newly linked to a criterion) waiting for the direction or the quality lead, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import (
    ClaimStatus,
    Criterion,
    Evidence,
    EvidenceLink,
    ReviewStatus,
    User,
)
from .service import submitter_of, visible_to

PROOF = "preuve"
CLAIM = "lien"


@dataclass(frozen=True)
class QueueItem:
    kind: str  # PROOF or CLAIM
    evidence: Evidence
    link: EvidenceLink | None
    since: datetime
    submitted_by_id: int | None

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.link.id if self.link else self.evidence.id}"

    @property
    def target_id(self) -> int:
        return self.link.id if self.link else self.evidence.id

    @property
    def claimed_for(self) -> list[EvidenceLink]:
        """The criteria the decision is about: the proof's confirmed and pending links, or the
        one claim."""
        if self.link is not None:
            return [self.link]
        return [link for link in self.evidence.links if link.status is not ClaimStatus.REFUSED]


def _loaded():
    return (
        selectinload(Evidence.versions),
        selectinload(Evidence.links).selectinload(EvidenceLink.criterion)
        .selectinload(Criterion.framework),
        selectinload(Evidence.reviews),
        selectinload(Evidence.owner),
        selectinload(Evidence.site),
    )


def review_queue(session: Session, user: User) -> list[QueueItem]:
    """Everything waiting for a reviewer in the user's school, oldest first (a fixed number of
    queries)."""
    proofs = session.scalars(
        select(Evidence)
        .where(visible_to(user), Evidence.status == ReviewStatus.TO_REVIEW)
        .options(*_loaded())
    ).all()
    items = [
        QueueItem(PROOF, evidence, None, _sent_at(evidence), submitter_of(evidence))
        for evidence in proofs
    ]
    claims = session.scalars(
        select(EvidenceLink)
        .join(Evidence, EvidenceLink.evidence_id == Evidence.id)
        .where(visible_to(user), Evidence.status == ReviewStatus.VALIDATED,
               EvidenceLink.status == ClaimStatus.TO_CONFIRM)
        .options(selectinload(EvidenceLink.evidence).options(*_loaded()),
                 selectinload(EvidenceLink.criterion).selectinload(Criterion.framework),
                 selectinload(EvidenceLink.created_by))
    ).all()
    items += [
        QueueItem(CLAIM, link.evidence, link, link.created_at, link.created_by_id)
        for link in claims
    ]
    return sorted(items, key=lambda item: (item.since, item.kind, item.target_id))


def _sent_at(evidence: Evidence) -> datetime:
    sent = [r.at for r in evidence.reviews if r.status is ReviewStatus.TO_REVIEW]
    return sent[-1] if sent else evidence.updated_at


def waiting_counts(session: Session, user: User) -> tuple[int, int]:
    """(proofs, claims) waiting for a decision: two counts in one statement."""
    proofs = (
        select(func.count(Evidence.id))
        .where(visible_to(user), Evidence.status == ReviewStatus.TO_REVIEW)
        .scalar_subquery()
    )
    claims = (
        select(func.count(EvidenceLink.id))
        .join(Evidence, EvidenceLink.evidence_id == Evidence.id)
        .where(visible_to(user), Evidence.status == ReviewStatus.VALIDATED,
               EvidenceLink.status == ClaimStatus.TO_CONFIRM)
        .scalar_subquery()
    )
    row = session.execute(select(proofs, claims)).one()
    return int(row[0]), int(row[1])


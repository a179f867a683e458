"""What a dossier section is: a part gathered for one dossier, which prints itself and gives its
bookmarks. The builder gathers what every section shares (:class:`DossierContext`) once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date

from reportlab.platypus import Flowable
from sqlalchemy.orm import Session

from ...models import Campaign, Criterion, Framework, Site
from ...readiness.rules import Readiness
from ..assemble import OutlineNode
from ..collect import Piece
from ..document import Layout, Writer
from ..options import DossierOptions, Edition


@dataclass(frozen=True)
class DossierContext:
    """What every section may read: the campaign, the options, the criteria judged at the
    reference date and the numbered pièces (their files already fetched and checked)."""

    session: Session
    campaign: Campaign
    options: DossierOptions
    frameworks: list[Framework]  # the chosen ones, in the campaign's order
    sites: list[Site]  # shown on the cover: the chosen ones, or all
    site_filter: bool
    section_filter: bool
    as_of: date
    built_on: date
    readiness: Readiness  # limited to the chosen criteria
    criteria: list[Criterion]  # in référentiel order
    pieces: list[Piece]  # in number order
    per_criterion: dict[int, list[Piece]]
    excluded_personal: int  # proofs left out because they hold personal data
    edition: Edition = Edition.INTERNAL

    @property
    def sent(self) -> bool:
        """The edition the school sends: no internal state, no proof awaiting validation."""
        return self.edition is Edition.SCHOOL


@dataclass(frozen=True)
class Marks:
    """Where the headings landed in the last layout pass, for the PDF's bookmarks."""

    layout: Layout
    annexes: bool  # whether the pièces' annexes follow the main part

    def at(self, key: str) -> tuple[int, float | None] | None:
        """The 0-based page and the top of the heading ``key``, if it was laid out."""
        found = self.layout.positions.get(key)
        return (found[0] - 1, found[1]) if found else None

    def node(self, title: str, key: str) -> OutlineNode | None:
        """A bookmark to the heading ``key``, or None when the section printed none."""
        found = self.at(key)
        return OutlineNode(title, found[0], found[1]) if found else None

    def annex_index(self, piece: Piece) -> int:
        """The 0-based page of the pièce's separator page."""
        return self.layout.main_pages + piece.annex_offset


class Part(ABC):
    """One section of one dossier, its data gathered."""

    @abstractmethod
    def flowables(self, w: Writer) -> list[Flowable]:
        """What the section prints, in order."""

    def outline(self, marks: Marks) -> list[OutlineNode]:
        """Its bookmarks at the outline's top level (none by default)."""
        return []

"""The table of contents, filled in by the layout's passes."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from reportlab.platypus import Flowable, PageBreak
from reportlab.platypus.tableofcontents import TableOfContents

from ..assemble import OutlineNode
from ..document import Writer
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> ContentsPart:
    """Nothing to gather: the headings of the other sections fill it in."""
    return ContentsPart()


@dataclass(frozen=True)
class ContentsPart(Part):
    def flowables(self, page: Writer) -> list[Flowable]:
        toc = TableOfContents(dotsMinLevel=0)
        toc.levelStyles = page.s.toc_levels
        return [page.heading(_("Sommaire"), page.s.h1, 0, "sommaire", toc=False), toc,
                PageBreak()]

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Sommaire"), "sommaire")
        return [found] if found else []

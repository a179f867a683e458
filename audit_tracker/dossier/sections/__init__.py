"""The dossier's sections, in the order they are printed.

Each module gathers its data through its own area's service (``gather(context)``) and returns a
part that prints itself (``flowables``) and gives its bookmarks (``outline``). The builder walks
this list; adding a section is one module and one line here, and an edition of the dossier is
another such list.
"""

from __future__ import annotations

from collections.abc import Callable

from . import calendar, contents, cover, criteria, findings, indicators, manifest, summary
from .base import DossierContext, Marks, Part

SECTIONS: tuple[Callable[[DossierContext], Part], ...] = (
    cover.gather,
    contents.gather,
    summary.gather,
    criteria.gather,
    findings.gather,
    indicators.gather,
    calendar.gather,
    manifest.gather,
)

__all__ = ["SECTIONS", "DossierContext", "Marks", "Part"]

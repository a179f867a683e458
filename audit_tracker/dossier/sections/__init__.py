"""The dossier's sections, in the order they are printed.

Each module gathers its data through its own area's service (``gather(context)``) and returns a
part that prints itself (``flowables``) and gives its bookmarks (``outline``). The builder walks
edition's tuple; adding a section is one module and a line in each edition that prints it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..options import Edition
from . import (
    audit_response,
    calendar,
    contents,
    cover,
    criteria,
    findings,
    governance,
    indicators,
    manifest,
    presentation,
    self_assessment,
    summary,
)
from .base import DossierContext, Marks, Part

Sections = tuple[Callable[[DossierContext], Part], ...]

# The internal review: every state and reason, the findings and the whole plan.
INTERNAL: Sections = (
    cover.gather,
    contents.gather,
    presentation.gather,
    summary.gather,
    self_assessment.gather,
    criteria.gather,
    findings.gather,
    audit_response.gather,
    indicators.gather,
    governance.gather,
    calendar.gather,
    manifest.gather,
)

# What the school sends: its argument and validated pièces per criterion, no internal state.
SCHOOL: Sections = (
    cover.gather,
    contents.gather,
    presentation.gather,
    indicators.gather,
    governance.gather,
    self_assessment.gather,
    criteria.gather,
    audit_response.gather,
    manifest.gather,
)

EDITIONS: dict[Edition, Sections] = {Edition.SCHOOL: SCHOOL, Edition.INTERNAL: INTERNAL}
SECTIONS = INTERNAL  # the default edition's, for callers that name none

__all__ = ["EDITIONS", "INTERNAL", "SCHOOL", "SECTIONS", "DossierContext", "Marks", "Part"]

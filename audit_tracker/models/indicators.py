"""Key indicators of an E2C: monthly counts per site, and the targets they are judged against.

Only counts are stored (stagiaires entrés, from the QPV, non-diplômés, companies, exits by type):
every rate is computed from them, so a total over sites or months is always a weighted rate
(sum of counts / sum of counts), never a mean of percentages. Targets are data, not constants:
the network's and funders' goals change, and each one names its source.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Model, TimestampMixin, enum_column, utcnow
from .school import School, Site

#: The counted columns of an entry, in the order of the source document's table.
COUNT_COLUMNS = (
    "entries",
    "from_qpv",
    "without_diploma",
    "host_companies",
    "exits",
    "exits_training",
    "exits_employment",
    "exits_work_study",
)


class IndicatorEntry(TimestampMixin, Model):
    """One site's counts for one month (``period`` is the month's first day)."""

    __table_args__ = (
        UniqueConstraint("site_id", "period"),
        CheckConstraint(
            " AND ".join(f"{name} >= 0" for name in COUNT_COLUMNS), name="counts_not_negative"
        ),
        CheckConstraint("from_qpv <= entries", name="qpv_within_entries"),
        CheckConstraint("without_diploma <= entries", name="without_diploma_within_entries"),
        CheckConstraint(
            "exits_training + exits_employment + exits_work_study <= exits",
            name="positive_exits_within_exits",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    period: Mapped[date] = mapped_column(index=True)
    entries: Mapped[int] = mapped_column(default=0)  # stagiaires entrés
    from_qpv: Mapped[int] = mapped_column(default=0)  # living in a quartier prioritaire
    without_diploma: Mapped[int] = mapped_column(default=0)  # non-diplômés
    # Companies hosting a trainee for the FIRST time this month, so that a sum over months
    # counts each company once.
    host_companies: Mapped[int] = mapped_column(default=0)
    exits: Mapped[int] = mapped_column(default=0)  # every exit, positive or not
    exits_training: Mapped[int] = mapped_column(default=0)  # formation qualifiante/diplômante
    exits_employment: Mapped[int] = mapped_column(default=0)  # emploi
    exits_work_study: Mapped[int] = mapped_column(default=0)  # alternance
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    # Optimistic locking, as for proofs: a stale form gets a conflict, not a silent overwrite.
    lock_version: Mapped[int] = mapped_column(default=1)

    school: Mapped[School] = relationship()
    site: Mapped[Site] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def positive_exits(self) -> int:
        """The label's outcome figure: exits to training, a job or work-study, not every exit."""
        return self.exits_training + self.exits_employment + self.exits_work_study

    def __repr__(self) -> str:
        return f"<IndicatorEntry site={self.site_id} {self.period:%Y-%m}>"


class Comparison(enum.StrEnum):
    MIN = "min"  # the value must reach the target (QPV ≥ 40 %)
    MAX = "max"  # the value must stay below it

    @property
    def label(self) -> str:
        """The French words of a target ("au moins", "au plus") shown beside its value."""
        return str(COMPARISON_LABELS[self])

    @property
    def sign(self) -> str:
        """The symbol a table or chart shows beside a target, where words would not fit."""
        return "≥" if self is Comparison.MIN else "≤"


COMPARISON_LABELS = {
    Comparison.MIN: _l("au moins"),
    Comparison.MAX: _l("au plus"),
}


class IndicatorTarget(Model):
    """A goal for one indicator, for the whole school (``site_id`` null) or one site.

    ``value`` is a fraction for a rate (0.40 for 40 %) and a number per month for a monthly
    count (10 trainees a month).
    """

    __table_args__ = (
        UniqueConstraint("school_id", "site_id", "indicator"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    indicator: Mapped[str] = mapped_column(String(40))
    comparison: Mapped[Comparison] = enum_column(Comparison, default=Comparison.MIN)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    school: Mapped[School] = relationship()
    site: Mapped[Site | None] = relationship()
    updated_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<IndicatorTarget {self.indicator} {self.comparison.sign} {self.value}>"

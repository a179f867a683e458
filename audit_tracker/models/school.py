"""Schools and their sites: every other record belongs to a school, directly or through a parent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, TimestampMixin


class School(TimestampMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60), unique=True)
    city: Mapped[str | None] = mapped_column(String(120))
    # Four-eyes review: nobody decides on a proof or a claim they submitted themselves.
    four_eyes: Mapped[bool] = mapped_column(default=False, server_default=false())

    sites: Mapped[list[Site]] = relationship(
        back_populates="school", order_by="Site.opened_on", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<School {self.short_name}>"


class Site(TimestampMixin, Model):
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    opened_on: Mapped[date | None]

    school: Mapped[School] = relationship(back_populates="sites")

    def __repr__(self) -> str:
        return f"<Site {self.code}>"

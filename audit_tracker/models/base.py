"""Shared column helpers for the models."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Enum
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column

from ..clock import utcnow  # every timestamp default reads the app's one clock
from ..extensions import Base, db

__all__ = ["Model", "TimestampMixin", "enum_column", "utcnow"]

if TYPE_CHECKING:
    # A type checker cannot derive from an attribute such as ``db.Model``; that class is Base
    # plus Flask-SQLAlchemy's table naming and session binding, so Base stands for it.
    Model = Base
else:
    Model = db.Model


def enum_column(enum_class: type[enum.Enum], **kwargs: Any) -> MappedColumn[Any]:
    """A string column holding the enum's *values* (stable, readable in SQL and in the API)."""
    return mapped_column(
        Enum(
            enum_class,
            native_enum=False,
            length=40,
            values_callable=_values,
            validate_strings=True,
        ),
        **kwargs,
    )


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""Shared column helpers for the models."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow  # every timestamp default reads the app's one clock

__all__ = ["TimestampMixin", "enum_column", "utcnow"]


def enum_column(enum_class: type[enum.Enum], **kwargs):
    """A string column holding the enum's *values* (stable, readable in SQL and in the API)."""
    return mapped_column(
        Enum(
            enum_class,
            native_enum=False,
            length=40,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        **kwargs,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

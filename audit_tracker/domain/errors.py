"""Refusals in French, and the one way a stale edit becomes a conflict.

Every area raises a :class:`DomainError` (or a subclass naming the area) with a message the user
reads as it is; a page flashes it and keeps what was typed, the API answers 400. A
:class:`Conflict` is someone else's save getting there first: 409, and nothing of ours written.
"""

from __future__ import annotations

from typing import Protocol

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError


class DomainError(ValueError):
    """A user-facing reason why an operation was refused (French message)."""


class StorageFull(DomainError):
    """The disk (or the spool folder) is full: nothing was stored; 507 for the API."""

    status = 507

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _(
            "Stockage plein : le fichier n’a pas pu être enregistré et rien n’a été modifié. "
            "Prévenez l’administrateur."))


class Conflict(DomainError):
    """Someone else saved the record since the form was opened, or while we were saving."""


class Versioned(Protocol):
    """A row with an optimistic lock: its ``lock_version`` moves by one on every save."""

    lock_version: int


def check_fresh(record: Versioned, seen_lock_version: int | None,
                message: str | None = None) -> None:
    """Conflict when the record moved on since the version the user's form was built from."""
    if seen_lock_version is not None and record.lock_version != seen_lock_version:
        raise Conflict(message or _(
            "Cet élément a été modifié par quelqu’un d’autre depuis que vous avez ouvert le "
            "formulaire ; rechargez la page pour voir sa version actuelle. Vos changements n’ont "
            "pas été enregistrés."))


def flush_or_conflict(session: Session, message: str | None = None) -> None:
    """Write what is pending without committing: a row changed by someone else meanwhile (its
    lock moved) or a duplicate becomes :class:`Conflict`, and the transaction is rolled back."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as error:
        session.rollback()
        raise Conflict(message or _conflict_message()) from error
    except DomainError:  # a value over its limit (domain.limits): nothing of it is kept
        session.rollback()
        raise


def commit_or_conflict(session: Session, message: str | None = None) -> None:
    """The caller's one commit; a stale row or a duplicate becomes :class:`Conflict`, rolled
    back."""
    try:
        session.commit()
    except (StaleDataError, IntegrityError) as error:
        session.rollback()
        raise Conflict(message or _conflict_message()) from error
    except DomainError:  # a value over its limit (domain.limits): nothing of it is kept
        session.rollback()
        raise


def _conflict_message() -> str:
    return _("Cet élément a été modifié par quelqu’un d’autre pendant que vous travailliez ; "
             "rechargez la page : vos changements n’ont pas été enregistrés.")

"""Every value written is bounded, whichever way it came in (a form, the API, an import, a
command): one check at flush time, so no service, form or schema can forget a field.

- text: a ``String(n)`` column holds at most n characters (SQLite would store more, PostgreSQL
  would fail with a driver error); a ``Text`` column at most ``TEXT_MAX_CHARS``, unless the
  column says otherwise in ``info={"max_chars": N}`` (``None``: text the application extracted
  itself, such as a file's search text, already bounded where it is made);
- no NUL character (PostgreSQL cannot store it) and no lone surrogate (not UTF-8);
- integers within the column's range (PostgreSQL's ``integer`` is 32-bit).

A refusal is a :class:`ValueTooLarge`, a :class:`~.errors.DomainError`: a page shows its French
message, the API answers 400; the flush, hence the transaction, does not happen.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Integer, SmallInteger, String, Text, event, inspect
from sqlalchemy.orm import Mapper, Session

from .errors import DomainError

__all__ = ["TEXT_MAX_CHARS", "ValueTooLarge", "check_value", "install"]

#: The longest free text (a description, notes, an argument): about seven printed pages.
TEXT_MAX_CHARS = 20_000

# Most specific first: BigInteger and SmallInteger are Integers too.
_INT_RANGES = {SmallInteger: 2**15 - 1, BigInteger: 2**63 - 1, Integer: 2**31 - 1}

#: The French names of the columns users type into; others are named as they are.
FIELD_LABELS = {
    "title": _l("titre"),
    "name": _l("nom"),
    "full_name": _l("nom"),
    "description": _l("description"),
    "notes": _l("notes"),
    "note": _l("note"),
    "comment": _l("commentaire"),
    "reason": _l("motif"),
    "root_cause": _l("cause"),
    "verification_note": _l("note de vérification"),
    "due_override_reason": _l("motif du changement d’échéance"),
    "not_applicable_reason": _l("motif de non-application"),
    "argument": _l("argumentaire"),
    "place": _l("lieu"),
    "url": _l("lien"),
    "paper_location": _l("lieu de conservation"),
    "paper_custodian": _l("détenteur"),
    "label": _l("libellé"),
    "source": _l("source"),
    "guidance": _l("aide"),
    "email": _l("adresse e-mail"),
}


class ValueTooLarge(DomainError):
    """A value longer, larger or stranger than its column may hold (French message)."""


# NUL, or a lone surrogate (category Cs): one scan in C, a proof's million characters of search
# text included (a per-character Python loop cost half a second of every large upload).
_INVALID = re.compile("[\x00\ud800-\udfff]")

# (attribute key, "text" or "int", limit) per mapped class, computed once.
_RULES: dict[Mapper[Any], list[tuple[str, str, int | None]]] = {}


def install() -> None:
    """Check every flush of every session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)


def check_value(field: str, value: object, limit: int | None) -> None:
    """Refuse a text over ``limit`` characters, or holding NUL or a lone surrogate."""
    if not isinstance(value, str):
        return
    label = str(FIELD_LABELS.get(field, field))
    if limit is not None and len(value) > limit:
        raise ValueTooLarge(_(
            "Le champ « %(field)s » dépasse %(limit)s caractères (il en a %(length)s) ; "
            "raccourcissez-le : rien n’a été enregistré.",
            field=label, limit=_spaced(limit), length=_spaced(len(value))))
    if _INVALID.search(value):
        raise ValueTooLarge(_(
            "Le champ « %(field)s » contient un caractère invalide (caractère nul ou mal "
            "encodé) ; retirez-le : rien n’a été enregistré.", field=label))


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for instance in list(session.new) + list(session.dirty):
        state = inspect(instance)
        for key, kind, limit in _rules(state.mapper):
            attribute = state.attrs[key]
            values = attribute.history.added if state.persistent else [attribute.value]
            for value in values:
                if kind == "text":
                    check_value(key, value, limit)
                elif isinstance(value, int) and limit is not None and abs(value) > limit:
                    label = str(FIELD_LABELS.get(key, key))
                    raise ValueTooLarge(_("Le nombre du champ « %(field)s » est trop grand : "
                                          "rien n’a été enregistré.", field=label))


def _rules(mapper: Mapper[Any]) -> list[tuple[str, str, int | None]]:
    rules = _RULES.get(mapper)
    if rules is None:
        rules = []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            column_type = column.type
            if "max_chars" in column.info:
                rules.append((prop.key, "text", column.info["max_chars"]))
            elif isinstance(column_type, Text):
                rules.append((prop.key, "text", TEXT_MAX_CHARS))
            elif isinstance(column_type, String):
                rules.append((prop.key, "text", column_type.length))
            elif isinstance(column_type, Integer) and not column.primary_key:
                bound = next(limit for kind, limit in _INT_RANGES.items()
                             if isinstance(column_type, kind))
                rules.append((prop.key, "int", bound))
        _RULES[mapper] = rules
    return rules


def _spaced(number: int) -> str:
    """20 000 as French writes it (narrow no-break space between thousands)."""
    return f"{number:,}".replace(",", "\u202f")

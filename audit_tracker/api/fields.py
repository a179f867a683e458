"""The field types of the API's schemas: how a value is read, what the document says of it,
and the kind of error it gives (``declare.py`` turns that kind into French, naming the field)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from flask_babel import LazyString
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError, core_schema
from werkzeug.datastructures import FileStorage

# PostgreSQL's ``integer``: every id and version in the database fits, and a larger number in a
# request is refused in French instead of failing in the driver.
INT_MAX = 2**31 - 1

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = {"true", "1", "on", "yes", "oui"}
_FALSE = {"false", "0", "off", "no", "non", ""}


def refuse(kind: str, **context: Any) -> PydanticCustomError:
    """An error of ``kind`` (a key of the French messages in ``declare.py``)."""
    return PydanticCustomError(kind, kind, context or None)


@dataclass(frozen=True)
class Missing:
    """The message a required field gives when it is absent, instead of the generic one."""

    message: LazyString | str


class InputModel(BaseModel):
    """A request's body or form: an unknown field is refused, never silently dropped."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class QueryModel(BaseModel):
    """A request's query string: other parameters are ignored, as browsers and caches add some."""

    model_config = ConfigDict(extra="ignore")


class OutputModel(BaseModel):
    """An answer: checked strictly (no coercion) and with no undeclared key, so the document
    cannot drift from what the routes send."""

    model_config = ConfigDict(extra="forbid", strict=True)


# ------------------------------------------------------------------------------------- inputs


def _integer(value: Any) -> int:
    # bool is an int in Python and 1.0 a float: neither is an identifier.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise refuse("integer")
    try:
        number = int(value)
    except ValueError:
        raise refuse("integer") from None
    if not 0 <= number <= INT_MAX:
        raise refuse("integer_range", min=0, max=INT_MAX)
    return number


def _optional_integer(value: Any) -> int | None:
    return None if value is None or value == "" else _integer(value)


def _text(value: Any) -> Any:
    return "" if value is None else value


def _day(value: Any) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise refuse("day", value=text[:40]) from None


def _flag(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise refuse("boolean")


def _json_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise refuse("boolean")


def _at_most(limit: int):
    def check(value: str) -> str:
        if len(value.strip()) > limit:
            raise refuse("too_long", limit=limit)
        return value

    return check


_INTEGER_SCHEMA = {"type": "integer", "minimum": 0, "maximum": INT_MAX}

Integer = Annotated[int, BeforeValidator(_integer), WithJsonSchema(_INTEGER_SCHEMA)]
"""An id or a version: a whole number (or its digits as text), 0 to INT_MAX."""

OptionalInteger = Annotated[
    int | None,
    BeforeValidator(_optional_integer),
    WithJsonSchema({"anyOf": [_INTEGER_SCHEMA, {"type": "null"}]}),
]
"""The same, or null / "" for none."""

Text = Annotated[str, BeforeValidator(_text)]
"""Text; null counts as empty."""

Title = Annotated[
    str,
    BeforeValidator(_text),
    AfterValidator(_at_most(300)),
    WithJsonSchema({"type": "string", "maxLength": 300}),
]
PaperLocation = Annotated[
    str, AfterValidator(_at_most(300)), WithJsonSchema({"type": "string", "maxLength": 300})
]
PaperCustodian = Annotated[
    str, AfterValidator(_at_most(200)), WithJsonSchema({"type": "string", "maxLength": 200})
]
Note = Annotated[
    str,
    BeforeValidator(_text),
    AfterValidator(_at_most(500)),
    WithJsonSchema({"type": "string", "maxLength": 500}),
]

Day = Annotated[date | None, BeforeValidator(_day)]
"""An ISO day (AAAA-MM-JJ); empty or null for none."""

Flag = Annotated[bool, BeforeValidator(_flag), WithJsonSchema({"type": "boolean"})]
"""A yes/no of a query string or a form: true/false, 1/0, on/off, yes/no, oui/non."""

JsonFlag = Annotated[bool, BeforeValidator(_json_flag)]
"""A JSON boolean, nothing else."""


Upload = Annotated[FileStorage, WithJsonSchema({"type": "string", "format": "binary"})]
"""A file part of a multipart form."""


@dataclass(frozen=True)
class OneOf:
    """A string among an enum's values (or some of them), listed in the document; read as the
    enum's member. ``error`` is the kind of error a wrong value gives."""

    enum_type: type[enum.Enum]
    error: str = "status"
    only: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        return self.only or tuple(str(member.value) for member in self.enum_type)

    def validate(self, value: Any) -> enum.Enum:
        if isinstance(value, str) and value in self.values:
            return self.enum_type(value)
        shown = "" if value is None else str(value)[:40]
        raise refuse(self.error, value=shown, values=", ".join(self.values))

    def __get_pydantic_core_schema__(self, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(self, _schema: Any, _handler: Any) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}


# ------------------------------------------------------------------------------------ outputs

IsoDate = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
IsoDateTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Number = Annotated[float | int, WithJsonSchema({"type": "number"})]
"""A number as computed: an int stays an int (a float would print 3.0)."""

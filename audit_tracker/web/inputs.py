"""What a request may hold before any view reads it, so that no input reaches a driver or the
interpreter's limits and becomes a 500:

- an ``<int:…>`` of a route beyond 2³¹ − 1 (PostgreSQL's ``integer``) names nothing: 404
  before the view runs (a converter refusing it would turn a PATCH into a 405, since the GET
  rule of the same path still matches);
- a JSON body is refused (400) when it nests deeper than ``MAX_JSON_DEPTH`` or holds a lone
  surrogate (not UTF-8, so neither storable nor searchable). Python refuses integers of more
  than 4,300 digits itself; a large one reaches the schema, which names its field (``api.fields
  .Integer``), or the flush, which bounds every integer column (``domain.limits``).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, abort
from flask.json.provider import DefaultJSONProvider

INT_MAX = 2**31 - 1
MAX_JSON_DEPTH = 64


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing with ValueError (a 400 from ``get_json``) what would crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error
        _check(value)
        return value


def init_inputs(app: Flask) -> None:
    app.url_value_preprocessor(_ids_in_range)
    app.json = GuardedJSONProvider(app)


def _ids_in_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and any(isinstance(value, int) and value > INT_MAX for value in values.values()):
        abort(404)


def _check(value: Any) -> None:
    """No nesting deeper than MAX_JSON_DEPTH and no string that is not UTF-8 (iteratively)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _utf8(item)
        elif isinstance(item, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise ValueError("JSON nested too deeply")
            if isinstance(item, dict):
                for key, child in item.items():
                    _utf8(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _utf8(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("JSON string with a lone surrogate") from error

"""Each API route declared once: its inputs and answers as pydantic models, from which both the
checks of every request and the OpenAPI document (``openapi.py``) come.

``@endpoint(...)`` reads the query string, the JSON body or the multipart form into its model and
hands it to the route as ``query=``, ``body=`` or ``form=`` (a route taking a file as its whole
body, ``file_body=``, reads that itself: only the document hears of it); a refused input is a
400 in French naming the field (``{"error": "..."}``, or with ``problems=`` every problem at once
in ``"errors"``). The route returns its data (and a status, and headers); the data is checked
against the declared answer for that status, then sent as JSON. A ``Response`` (a file, an
error) goes out as it is.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from flask import abort, jsonify, make_response, request
from flask_babel import LazyString
from flask_babel import gettext as _
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from .fields import INT_MAX, InputModel, Missing, QueryModel


@dataclass
class Reply:
    """One answer of a route: a JSON ``schema`` (a model, or ``list[model]``), or a file of
    ``media_type`` when ``schema`` is None."""

    schema: Any = None
    description: str = "OK"
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # name → what it says
    adapter: TypeAdapter | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # Built once, at import: a schema pydantic cannot read fails there, not on a request.
        if self.schema is not None:
            self.adapter = TypeAdapter(self.schema)


@dataclass(frozen=True)
class Declaration:
    """What ``openapi.py`` needs to describe a route, and ``endpoint`` to check it."""

    summary: str
    description: str | None
    query: type[QueryModel | InputModel] | None
    body: type[InputModel] | None
    form: type[InputModel] | None
    file_body: str | None  # a file as the whole request body: what the document says of it
    replies: dict[int, Reply]
    errors: tuple[int, ...]
    problems: LazyString | None  # the headline of a 400 listing every problem


def endpoint(
    summary: str,
    *,
    description: str | None = None,
    query: type[QueryModel | InputModel] | None = None,
    body: type[InputModel] | None = None,
    form: type[InputModel] | None = None,
    file_body: str | None = None,
    replies: Mapping[int, Reply | Any],
    errors: tuple[int, ...] = (),
    problems: LazyString | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route's inputs and answers (French ``summary`` and ``description`` for the
    document); ``errors`` adds statuses beyond 400 (any input), 401/403 and 404 (a path id).
    A ``query`` model that forbids unknown fields (an ``InputModel``) refuses unknown
    parameters too, as a form does."""
    declaration = Declaration(
        summary=summary,
        description=description,
        query=query,
        body=body,
        form=form,
        file_body=file_body,
        replies={
            status: reply if isinstance(reply, Reply) else Reply(reply)
            for status, reply in replies.items()
        },
        errors=errors,
        problems=problems,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def checked(**path: Any) -> Any:
            _check_path(path)
            given: dict[str, BaseModel] = {}
            if query is not None:
                given["query"] = _read(declaration, query, _query_data(query))
            if body is not None:
                given["body"] = _read(declaration, body, _json_object())
            if form is not None:
                given["form"] = _read(
                    declaration, form, {**request.form.to_dict(), **request.files.to_dict()}
                )
            return _answer(view.__name__, declaration, view(**path, **given))

        checked.declaration = declaration  # type: ignore[attr-defined]
        return checked

    return decorate


# ------------------------------------------------------------------------------------- inputs


def _check_path(path: dict[str, Any]) -> None:
    """An id larger than any the database can hold names nothing: 404, not a driver error."""
    if any(isinstance(value, int) and value > INT_MAX for value in path.values()):
        abort(404)


def _query_data(model: type[QueryModel | InputModel]) -> dict[str, Any]:
    """The parameters the model knows; an empty one counts as absent, a list field takes every
    repetition (``?site=a&site=b``). Unknown ones are passed on when the model forbids them, so
    that a misspelt parameter of a creation is refused instead of dropped."""
    data: dict[str, Any] = {}
    if model.model_config.get("extra") == "forbid":
        data.update((name, value) for name, value in request.args.items()
                    if name not in model.model_fields)
    for name, info in model.model_fields.items():
        values = [v for v in request.args.getlist(name) if v.strip()]
        if values:
            data[name] = values if _is_list(info.annotation) else values[0]
    return data


def _is_list(annotation: Any) -> bool:
    """``list[X]``, or ``list[X] | None``."""
    if typing.get_origin(annotation) is list:
        return True
    return any(typing.get_origin(arg) is list for arg in typing.get_args(annotation))


def _json_object() -> dict[str, Any]:
    if request.is_json:
        try:
            value = request.get_json()
        except BadRequest:  # web.inputs refused it, or it is not JSON at all
            abort(400, _("Le corps JSON est illisible, trop imbriqué, ou contient un nombre trop "
                         "grand ou un caractère invalide."))
    else:
        value = None
    if not isinstance(value, dict):
        abort(400, _("Envoyez un objet JSON (Content-Type: application/json)."))
    return value


def _read(declaration: Declaration, model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        _refuse(declaration, problems_of(error, model))


def _refuse(declaration: Declaration, problems: list[str]) -> NoReturn:
    if declaration.problems is None:
        abort(400, problems[0])
    abort(make_response(jsonify(error=str(declaration.problems), errors=problems), 400))


def problems_of(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """Every problem of ``error`` in French; unknown fields first, in one message."""
    details = error.errors()
    unknown = sorted(str(d["loc"][0]) for d in details if _is_unknown_field(d))
    problems = []
    if unknown:
        problems.append(
            _(
                "Champs inconnus : %(fields)s ; champs acceptés : %(accepted)s.",
                fields=", ".join(unknown)[:200],
                accepted=", ".join(sorted(model.model_fields)),
            )
        )
    problems += [_message(d, model) for d in details if not _is_unknown_field(d)]
    return problems


def _is_unknown_field(detail: ErrorDetails) -> bool:
    return detail["type"] == "extra_forbidden" and len(detail["loc"]) == 1


def _message(detail: ErrorDetails, model: type[BaseModel]) -> str:
    """One problem in French, naming the top-level field (``criteria``, not ``criteria.2.id``)."""
    name = str(detail["loc"][0]) if detail["loc"] else ""
    context = detail.get("ctx") or {}
    kind = detail["type"]
    if kind == "missing":
        info = model.model_fields.get(name)
        marks = [m for m in (info.metadata if info else []) if isinstance(m, Missing)]
        return str(marks[0].message) if marks else _("« %(field)s » est obligatoire.", field=name)
    if kind == "integer":
        return _("« %(field)s » doit être un nombre entier.", field=name)
    if kind == "integer_range":
        return _(
            "« %(field)s » doit être un nombre entier entre %(min)s et %(max)s.",
            field=name,
            min=context["min"],
            max=context["max"],
        )
    if kind in {"string_type", "string_unicode"}:
        return _("« %(field)s » doit être un texte.", field=name)
    if kind in {"boolean", "bool_type", "bool_parsing"}:
        return _("« %(field)s » doit valoir true ou false.", field=name)
    if kind == "list_type":
        return _("« %(field)s » doit être une liste.", field=name)
    if kind == "day":
        return _(
            "Date invalide pour « %(field)s » : « %(value)s » ; attendu AAAA-MM-JJ.",
            field=name,
            value=context["value"],
        )
    if kind == "month":
        return _(
            "Mois invalide pour « %(field)s » : « %(value)s » ; attendu AAAA-MM.",
            field=name,
            value=context["value"],
        )
    if kind == "too_long":
        return _(
            "« %(field)s » ne doit pas dépasser %(limit)s caractères.",
            field=name,
            limit=context["limit"],
        )
    if kind == "status":
        return _(
            "Statut inconnu : %(status)s ; valeurs possibles : %(values)s.",
            status=context["value"],
            values=context["values"],
        )
    if kind == "edition":
        return _(
            "Édition inconnue : « %(value)s » ; valeurs possibles : %(values)s.",
            value=context["value"],
            values=context["values"],
        )
    if kind == "decision":
        return _("« decision » doit valoir « validee » ou « refusee ».")
    if kind == "criterion_code":
        return _(
            'Un critère d’action s’écrit {"framework": code, "code": code} ou '
            "par son identifiant : « %(code)s » est ambigu.",
            code=context["value"],
        )
    if kind == "is_instance_of":
        return _("« %(field)s » doit être un fichier.", field=name)
    return _("« %(field)s » : valeur refusée.", field=name)


# ------------------------------------------------------------------------------------ answers


def _answer(name: str, declaration: Declaration, result: Any) -> Any:
    """The route's data as JSON, once checked against the answer declared for its status."""
    if isinstance(result, Response) or (isinstance(result, tuple)
                                        and isinstance(result[0], Response)):
        return result
    data, status, headers = result, 200, None
    if isinstance(result, tuple):
        data, status, *rest = result
        headers = rest[0] if rest else None
    reply = declaration.replies.get(status)
    if reply is None or reply.adapter is None:
        raise LookupError(f"api.{name} answered {status} with JSON, which it does not declare")
    reply.adapter.validate_python(data, strict=True)
    response = jsonify(data)
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response

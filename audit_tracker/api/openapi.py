"""The OpenAPI 3.1 document of API v1, assembled from the routes' declarations (``declare.py``)
and the pydantic models they name: nothing here describes a route by hand."""

from __future__ import annotations

import re
import typing
from typing import Any

from flask import current_app
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from ..accounts.permissions import Permission
from .declare import Declaration, Reply
from .schemas import Error, Problems

_REF = "#/components/schemas/{model}"
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_ERRORS = {
    400: ("BadRequest", "Requête refusée (message en français)"),
    401: ("Unauthorized", "Jeton absent ou invalide"),
    403: ("Forbidden", "Rôle ou droits sur la preuve insuffisants"),
    404: ("NotFound", "Introuvable"),
    409: ("Conflict", "Modifiée entre-temps par quelqu’un d’autre"),
    411: ("LengthRequired", "En-tête Content-Length absent"),
    413: ("ContentTooLarge", "Fichier plus grand que la taille maximale : rien n’a été lu"),
    415: ("UnsupportedMediaType", "Type de corps refusé"),
    503: ("Unavailable", "Service indisponible (file d’attente injoignable)"),
    507: ("InsufficientStorage", "Stockage plein : rien n’a été enregistré"),
}


class _Untitled(GenerateJsonSchema):
    """pydantic titles every property after its name; the document is clearer without."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def openapi_document(prefix: str) -> dict[str, Any]:
    """The document of every route of the ``api`` blueprint served under ``prefix``."""
    routes = []
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions[rule.endpoint]
        declaration = getattr(view, "declaration", None)
        if rule.endpoint.startswith("api.") and declaration is not None:
            routes.append((rule, view, declaration))
    refs, definitions = _definitions([d for _r, _v, d in routes])
    paths: dict[str, dict[str, Any]] = {}
    for rule, view, declaration in sorted(routes, key=lambda route: route[0].rule):
        path, parameters = _path(rule.rule.removeprefix(prefix))
        public = getattr(view, "required_permission", None) is Permission.PUBLIC
        operation = _operation(declaration, parameters, public, refs)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "audit_tracker API",
            "version": "1",
            "description": "Référentiels, campagnes de labellisation, échéances et preuves. "
            "Authentification : `Authorization: Bearer <jeton>` "
            '(`flask users token EMAIL`). Erreurs : `{"error": "message"}`.',
        },
        "servers": [{"url": prefix}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                name: {"description": text, "content": _json(refs[Error])}
                for name, text in _ERRORS.values()
            },
            "schemas": definitions,
        },
    }


def _definitions(declarations: list[Declaration]) -> tuple[dict[type, dict], dict[str, Any]]:
    """A ``$ref`` for every model a declaration names, and the components they point to."""
    models: set[type[BaseModel]] = {Error, Problems}
    for declaration in declarations:
        models.update(m for m in (declaration.body, declaration.form) if m is not None)
        for reply in declaration.replies.values():
            if reply.schema is not None:
                models.add(_item_model(reply.schema))
    ordered = sorted(models, key=lambda model: model.__name__)
    refs, top = models_json_schema(
        [(model, "validation") for model in ordered],
        ref_template=_REF,
        schema_generator=_Untitled,
    )
    return {model: refs[(model, "validation")] for model in ordered}, top.get("$defs", {})


def _item_model(schema: Any) -> type[BaseModel]:
    return typing.get_args(schema)[0] if typing.get_origin(schema) is list else schema


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """``/findings/<int:finding_id>`` → ``/findings/{finding_id}`` and its parameters."""
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer"} if converter == "int" else {"type": "string"},
        }
        for converter, name in _ARGUMENT.findall(rule)
    ]
    return _ARGUMENT.sub(r"{\2}", rule), parameters


def _operation(
    declaration: Declaration, parameters: list[dict], public: bool, refs: dict[type, dict]
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": declaration.summary}
    if declaration.description:
        operation["description"] = declaration.description
    if public:
        operation["security"] = []
    if declaration.query is not None:
        parameters = parameters + _query_parameters(declaration.query)
    if parameters:
        operation["parameters"] = parameters
    for model, media_type in ((declaration.body, "application/json"),
                              (declaration.form, "multipart/form-data")):
        if model is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {media_type: {"schema": refs[model]}}}
    if declaration.file_body is not None:
        # Any type: the file's own, or application/octet-stream; the content decides, not it.
        operation["requestBody"] = {
            "required": True,
            "description": declaration.file_body,
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    responses = {str(status): _reply(reply, refs) for status, reply in declaration.replies.items()}
    for status in _error_statuses(declaration, parameters, public):
        if declaration.problems is not None and status == 400:
            responses["400"] = {"description": "Requête refusée (tous les problèmes listés)",
                                "content": _json(refs[Problems])}
        else:
            responses.setdefault(str(status),
                                 {"$ref": f"#/components/responses/{_ERRORS[status][0]}"})
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def _error_statuses(declaration: Declaration, parameters: list[dict], public: bool) -> set[int]:
    statuses = set(declaration.errors)
    if any((declaration.query, declaration.body, declaration.form, declaration.file_body)):
        statuses.add(400)
    if not public:
        statuses |= {401, 403}
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    return statuses


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF, schema_generator=_Untitled)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        parameter = {"name": name, "in": "query", "schema": _without_null(prop)}
        if name in required:
            parameter["required"] = True
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: ``anyOf [X, null]`` is documented as X,
    without a null default."""
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1:
            schema = {**rest[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
    if "default" in schema and schema["default"] is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def _reply(reply: Reply, refs: dict[type, dict]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": reply.description}
    if reply.headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in reply.headers.items()
        }
    if reply.schema is None:
        answer["content"] = {reply.media_type: {"schema": _unmodelled(reply.media_type)}}
    elif typing.get_origin(reply.schema) is list:
        answer["content"] = _json({"type": "array", "items": refs[_item_model(reply.schema)]})
    else:
        answer["content"] = _json(refs[reply.schema])
    return answer


def _unmodelled(media_type: str) -> dict[str, Any]:
    """A file, a text (the calendar) or a JSON object of its own (this document)."""
    if media_type == "application/json":
        return {"type": "object"}
    if media_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}

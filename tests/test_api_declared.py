"""The API declared once: every route's inputs and answers come from its pydantic models, which
give both the checks (French 400s, never a 500) and a valid OpenAPI 3 document."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from pydantic import ValidationError

from audit_tracker.api import schemas
from audit_tracker.api.declare import endpoint
from audit_tracker.models import Role

BIG = 10**20  # past every database's integer: today's drivers fail on it


@pytest.fixture
def quality(make_user, token_for):
    """Bearer headers of a quality lead of a school with nothing in it yet."""
    return token_for(make_user(Role.QUALITY_LEAD))


def _resolve(document: dict, schema: dict) -> dict:
    """A ``$ref`` to the components, followed; any other schema as it is."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_the_document_is_valid_openapi_3(client):
    document = client.get("/api/v1/openapi.json").json

    validate(document)  # raises on any departure from the OpenAPI 3.1 schema
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "/api/v1"}]


def test_every_api_route_is_documented_with_its_inputs_and_answers(app, client):
    """Each route's query parameters, body and answers appear as its declaration says, and
    every schema the document points to exists."""
    document = client.get("/api/v1/openapi.json").json
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]
    assert len(rules) > 20
    for rule in rules:
        declaration = getattr(app.view_functions[rule.endpoint], "declaration", None)
        assert declaration is not None, f"{rule.endpoint} has no @endpoint declaration"
        path = rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{")
        path = path.replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path][method.lower()]
            where = f"{method} {path}"
            assert operation["summary"], where
            query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            expected = set(declaration.query.model_fields) if declaration.query else set()
            assert query == expected, where
            for model, media_type in ((declaration.body, "application/json"),
                                      (declaration.form, "multipart/form-data")):
                if model is not None:
                    content = operation["requestBody"]["content"][media_type]
                    body = _resolve(document, content["schema"])
                    assert set(body["properties"]) == set(model.model_fields), where
                    assert body["additionalProperties"] is False, where
            for status, reply in declaration.replies.items():
                content = operation["responses"][str(status)]["content"][reply.media_type]
                schema = content["schema"]
                if reply.schema is not None:
                    item = schema.get("items", schema)
                    assert "properties" in _resolve(document, item), where
            if any((declaration.query, declaration.body, declaration.form)):
                assert "400" in operation["responses"], where
            if rule.endpoint != "api.openapi":
                assert {"401", "403"} <= set(operation["responses"]), where


def test_huge_integers_are_a_french_400_or_a_404_never_a_server_error(client, quality):
    """A number past what the database holds names nothing (404 in a path) or is refused in
    French naming its field (query, body), before any query is sent."""
    for method, url, body, status in [
        ("GET", f"/api/v1/campaigns/{BIG}", None, 404),
        ("GET", f"/api/v1/findings/{BIG}", None, 404),
        ("PATCH", f"/api/v1/actions/{BIG}", {"status": "en_cours"}, 404),
        ("GET", f"/api/v1/findings?campaign_id={BIG}", None, 400),
        ("GET", f"/api/v1/evidence?criterion_id={BIG}", None, 400),
        ("POST", "/api/v1/findings", {"event_id": BIG}, 400),
        ("POST", "/api/v1/actions", {"campaign_id": -1}, 400),
    ]:
        response = client.open(url, method=method, json=body, headers=quality)
        assert response.status_code == status, (method, url)
        if status == 400:
            assert "doit être un nombre entier entre 0 et 2147483647" in response.json["error"]
            assert response.json["error"].startswith("« ")


@pytest.mark.parametrize(("body", "message"), [
    ({"event_id": 1, "colour": "rouge"}, "Champs inconnus : colour ; champs acceptés : "),
    ({"event_id": 1.5}, "« event_id » doit être un nombre entier."),
    ({"event_id": 1, "criteria": [True]}, "« criteria » doit être un nombre entier."),
    ({"title": "Sans étape"}, "Indiquez l’étape de la campagne qui a relevé le constat"),
])
def test_wrong_types_and_unknown_fields_are_french_400s(client, quality, body, message):
    """A new finding is checked like a PATCH: an unknown field is no longer silently dropped."""
    response = client.post("/api/v1/findings", json=body, headers=quality)

    assert response.status_code == 400
    assert message in response.json["error"]


def test_an_answer_that_drifts_from_its_declaration_is_never_sent(app):
    """The answer is checked against its model: a key the document does not list, or a value
    of another type, fails in the route instead of reaching the client undocumented."""
    view = endpoint("Essai", replies={200: schemas.Error})(lambda: {"error": "x", "extra": 1})
    retyped = endpoint("Essai", replies={200: schemas.Error})(lambda: {"error": 3})
    undeclared = endpoint("Essai", replies={200: schemas.Error})(lambda: ({"error": "x"}, 201))

    with app.test_request_context("/api/v1/essai"):
        with pytest.raises(ValidationError):
            view()
        with pytest.raises(ValidationError):
            retyped()
        with pytest.raises(LookupError):
            undeclared()

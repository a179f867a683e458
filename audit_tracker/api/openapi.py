"""The OpenAPI 3.1 document of API v1, written by hand next to the routes it describes.

A test walks the URL map and fails if a route under /api/v1 is missing here, or the reverse.
"""

from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}
_NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "audit_tracker API",
            "version": "1",
            "description": "Référentiels, campagnes de labellisation et échéances. "
            "Authentification : `Authorization: Bearer <jeton>` "
            '(`flask users token EMAIL`). Erreurs : `{"error": "message"}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "Ce document",
                    "security": [],
                    "responses": {"200": {"description": "Document OpenAPI"}},
                }
            },
            "/frameworks": {
                "get": {
                    "summary": "Référentiels et leurs versions",
                    "responses": {
                        "200": _ok({"type": "array", "items": _ref("Framework")}),
                        **_ERRORS,
                    },
                }
            },
            "/frameworks/{code}/criteria": {
                "get": {
                    "summary": "Critères d’un référentiel (dernière version, ou ?version=)",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "version", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _ok({"type": "array", "items": _ref("Criterion")}),
                        **_ERRORS,
                        **_NOT_FOUND,
                    },
                }
            },
            "/campaigns": {
                "get": {
                    "summary": "Campagnes de l’école",
                    "responses": {
                        "200": _ok({"type": "array", "items": _ref("Campaign")}),
                        **_ERRORS,
                    },
                }
            },
            "/campaigns/{campaign_id}": {
                "get": {
                    "summary": "Une campagne avec ses échéances",
                    "parameters": [
                        {
                            "name": "campaign_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {"200": _ok(_ref("CampaignDetail")), **_ERRORS, **_NOT_FOUND},
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                name: {
                    "description": text,
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for name, text in [
                    ("Unauthorized", "Jeton absent ou invalide"),
                    ("Forbidden", "Rôle insuffisant"),
                    ("NotFound", "Introuvable"),
                ]
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Framework": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                        "provisional": {"type": "boolean"},
                        "latest": {"type": "boolean"},
                        "cycle_years": {"type": ["integer", "null"]},
                        "criteria_count": {"type": "integer"},
                        "indispensable_count": {"type": "integer"},
                    },
                },
                "Criterion": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "code": {"type": "string"},
                        "title": {"type": "string"},
                        "section": {"type": "string"},
                        "section_title": {"type": "string"},
                        "indispensable": {"type": "boolean"},
                        "applies_to": {"type": "array", "items": {"type": "string"}},
                        "finding_types": {"type": ["array", "null"], "items": {"type": "string"}},
                    },
                },
                "Milestone": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {
                            "type": "string",
                            "enum": [
                                "visite_conseil",
                                "pre_audit",
                                "audit_initial",
                                "audit_suivi",
                                "commission_nationale",
                                "decision",
                                "autre",
                            ],
                        },
                        "title": {"type": "string"},
                        "start": {"type": "string", "format": "date"},
                        "end": {"type": "string", "format": "date"},
                        "place": {"type": "string"},
                        "phase": {"type": "string", "enum": ["passe", "en_cours", "a_venir"]},
                        "days_left": {"type": "integer"},
                    },
                },
                "Campaign": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "school": {"type": "string"},
                        "frameworks": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "CampaignDetail": {
                    "allOf": [
                        _ref("Campaign"),
                        {
                            "type": "object",
                            "properties": {
                                "milestones": {"type": "array", "items": _ref("Milestone")}
                            },
                        },
                    ]
                },
            },
        },
    }

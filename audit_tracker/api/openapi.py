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
_BAD_REQUEST = {"400": {"$ref": "#/components/responses/BadRequest"}}
_CONFLICT = {"409": {"$ref": "#/components/responses/Conflict"}}


def _path_int(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _body(media_type: str, schema: dict) -> dict:
    return {"required": True, "content": {media_type: {"schema": schema}}}


_DATE = {"type": "string", "format": "date"}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
_STATUS = {"type": "string", "enum": ["brouillon", "a_valider", "validee", "refusee"]}


def _evidence_paths() -> dict:
    evidence_id = _path_int("evidence_id")
    return {
        "/evidence": {
            "get": {
                "summary": "Rechercher les preuves visibles (texte intégral et filtres)",
                "description": "Les preuves de l’école (pour un responsable de site : celles de "
                "son site et de toute l’école), les plus récemment modifiées d’abord, 200 au "
                "plus.",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "description": "Mots cherchés dans le titre, la description, le lien, "
                        "le lieu, le nom et le texte du fichier (tous requis).",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "site",
                        "in": "query",
                        "description": "Code d’un site, ou `ecole` pour les preuves de toute "
                        "l’école seulement.",
                        "schema": {"type": "string"},
                    },
                    {"name": "status", "in": "query", "schema": _STATUS},
                    {"name": "criterion_id", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "expiring_before",
                        "in": "query",
                        "description": "Preuves dont la validité finit avant ce jour (exclu).",
                        "schema": _DATE,
                    },
                ],
                "responses": {
                    "200": _ok({"type": "array", "items": _ref("Evidence")}),
                    **_BAD_REQUEST,
                    **_ERRORS,
                },
            },
            "post": {
                "summary": "Déposer une preuve : document, lien ou preuve papier",
                "description": "Exactement un de `file`, `url`, `paper_location`. Le fichier "
                "est vérifié d’après son contenu (exécutables, scripts, archives suspectes, "
                "fichiers vides refusés). Un responsable de site dépose pour son site.",
                "requestBody": _body("multipart/form-data", _ref("NewEvidence")),
                "responses": {
                    "201": _ok(_ref("Evidence"), "Preuve créée (statut brouillon)"),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_CONFLICT,
                },
            },
        },
        "/evidence/{evidence_id}": {
            "get": {
                "summary": "Une preuve avec ses versions et ses critères",
                "parameters": [evidence_id],
                "responses": {"200": _ok(_ref("Evidence")), **_ERRORS, **_NOT_FOUND},
            }
        },
        "/evidence/{evidence_id}/versions": {
            "post": {
                "summary": "Déposer une nouvelle version du document",
                "description": "La preuve repasse « à valider ». Réservé à qui peut la "
                "modifier (un responsable de site : les preuves de son site seulement).",
                "parameters": [evidence_id],
                "requestBody": _body(
                    "multipart/form-data",
                    {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    },
                ),
                "responses": {
                    "201": _ok(_ref("NewVersion"), "Version créée"),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                    **_CONFLICT,
                },
            }
        },
        "/evidence/{evidence_id}/versions/{number}/file": {
            "get": {
                "summary": "Télécharger le fichier d’une version (pièce jointe)",
                "description": "403 pour un fichier contenant des données personnelles quand "
                "le lecteur n’est ni la direction, ni le responsable qualité, ni le site "
                "concerné, ni son auteur.",
                "parameters": [evidence_id, _path_int("number")],
                "responses": {
                    "200": {
                        "description": "Le fichier, tel que déposé",
                        "content": {
                            "application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    **_ERRORS,
                    **_NOT_FOUND,
                },
            }
        },
        "/evidence/{evidence_id}/criteria": {
            "post": {
                "summary": "Lier la preuve à un critère d’un référentiel de vos campagnes",
                "parameters": [evidence_id],
                "requestBody": _body(
                    "application/json",
                    {
                        "type": "object",
                        "required": ["criterion_id"],
                        "properties": {
                            "criterion_id": {"type": "integer"},
                            "note": {"type": "string", "maxLength": 500},
                        },
                    },
                ),
                "responses": {
                    "201": _ok(_ref("EvidenceLink"), "Lien créé"),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                },
            }
        },
        "/evidence/{evidence_id}/review": {
            "post": {
                "summary": "Valider ou refuser une preuve (direction, responsable qualité)",
                "parameters": [evidence_id],
                "requestBody": _body(
                    "application/json",
                    {
                        "type": "object",
                        "required": ["decision"],
                        "properties": {
                            "decision": {"type": "string", "enum": ["validee", "refusee"]},
                            "reason": {
                                "type": "string",
                                "description": "Obligatoire pour un refus.",
                            },
                        },
                    },
                ),
                "responses": {
                    "200": _ok(_ref("Evidence")),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                    **_CONFLICT,
                },
            }
        },
    }


_EVIDENCE_SCHEMAS = {
    "NewEvidence": {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "Un document."},
            "url": {"type": "string", "description": "Un lien http(s)."},
            "paper_location": {
                "type": "string",
                "description": "Où la preuve papier peut être consultée.",
            },
            "paper_custodian": {"type": "string"},
            "title": {
                "type": "string",
                "maxLength": 300,
                "description": "Par défaut, le nom du fichier sans extension.",
            },
            "description": {"type": "string"},
            "site": {
                "type": "string",
                "description": "Code du site ; absent : toute l’école.",
            },
            "valid_until": _DATE,
            "covers_from": _DATE,
            "covers_to": _DATE,
            "personal_data": {"type": "boolean"},
            "retention_until": {
                "type": "string",
                "format": "date",
                "description": "Obligatoire avec des données personnelles.",
            },
        },
    },
    "EvidenceVersion": {
        "type": "object",
        "properties": {
            "number": {"type": "integer"},
            "sha256": {"type": "string"},
            "size": {"type": "integer"},
            "media_type": {"type": "string"},
            "filename": {"type": "string"},
            "flags": {
                "type": "array",
                "items": {"type": "string", "enum": ["chiffre", "illisible"]},
            },
            "uploaded_at": {"type": "string", "format": "date-time"},
            "download_url": {
                "type": ["string", "null"],
                "description": "null quand le lecteur ne peut pas télécharger "
                "(données personnelles).",
            },
        },
    },
    "NewVersion": {
        "allOf": [
            _ref("EvidenceVersion"),
            {"type": "object", "properties": {"evidence_status": _STATUS}},
        ]
    },
    "EvidenceLink": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "criterion_id": {"type": "integer"},
            "code": {"type": "string"},
            "framework": {"type": "string"},
            "framework_version": {"type": "string"},
            "note": {"type": "string"},
        },
    },
    "Evidence": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "kind": {"type": "string", "enum": ["fichier", "lien", "papier"]},
            "status": _STATUS,
            "site": {"type": ["string", "null"], "description": "null : toute l’école"},
            "valid_until": _NULLABLE_DATE,
            "covers_from": _NULLABLE_DATE,
            "covers_to": _NULLABLE_DATE,
            "personal_data": {"type": "boolean"},
            "retention_until": _NULLABLE_DATE,
            "url": {"type": ["string", "null"]},
            "paper_location": {"type": ["string", "null"]},
            "paper_custodian": {"type": ["string", "null"]},
            "links": {"type": "array", "items": _ref("EvidenceLink")},
            "versions": {"type": "array", "items": _ref("EvidenceVersion")},
        },
    },
}


_FINDING_STATUS = {"type": "string", "enum": ["ouvert", "en_traitement", "leve", "clos"]}
_ACTION_STATUS = {
    "type": "string",
    "enum": ["a_faire", "en_cours", "realisee", "efficacite_verifiee"],
}
_CAMPAIGN_QUERY = {
    "name": "campaign_id",
    "in": "query",
    "description": "Une campagne de l’école ; absent : toutes les campagnes de l’école.",
    "schema": {"type": "integer"},
}


def _bool_query(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "boolean"},
    }


def _findings_paths() -> dict:
    finding_id, action_id = _path_int("finding_id"), _path_int("action_id")
    return {
        "/findings": {
            "get": {
                "summary": "Constats des campagnes de l’école, par date d’étape et numéro",
                "parameters": [
                    _CAMPAIGN_QUERY,
                    {"name": "event_id", "in": "query", "schema": {"type": "integer"}},
                    _bool_query("open", "Constats ouverts ou en traitement seulement."),
                ],
                "responses": {
                    "200": _ok({"type": "array", "items": _ref("Finding")}),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                },
            },
            "post": {
                "summary": "Enregistrer un constat d’une visite, d’un audit ou de la commission",
                "description": "L’échéance est calculée d’après le type et la date de l’étape ; "
                "`due_on` la remplace, avec `override_reason`.",
                "requestBody": _body("application/json", _ref("NewFinding")),
                "responses": {
                    "201": _ok(_ref("Finding"), "Constat créé"),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                    **_CONFLICT,
                },
            },
        },
        "/findings/{finding_id}": {
            "get": {
                "summary": "Un constat",
                "parameters": [finding_id],
                "responses": {"200": _ok(_ref("Finding")), **_ERRORS, **_NOT_FOUND},
            },
            "patch": {
                "summary": "Modifier un constat ou changer son statut",
                "description": "Un champ absent garde sa valeur. Tout ou rien : un statut refusé "
                "(non-conformité levée sans action vérifiée…) n’enregistre pas les autres "
                "champs. `lock_version` périmé : 409.",
                "parameters": [finding_id],
                "requestBody": _body("application/json", _ref("FindingPatch")),
                "responses": {
                    "200": _ok(_ref("Finding")),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                    **_CONFLICT,
                },
            },
        },
        "/actions": {
            "get": {
                "summary": "Plan d’actions, par échéance",
                "parameters": [
                    _CAMPAIGN_QUERY,
                    _bool_query("mine", "Les actions dont je suis responsable."),
                    _bool_query("late", "Les actions non réalisées dont l’échéance est passée."),
                    {
                        "name": "site",
                        "in": "query",
                        "description": "Code d’un site.",
                        "schema": {"type": "string"},
                    },
                    {"name": "finding_id", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "criterion_id",
                        "in": "query",
                        "description": "Actions liées au critère, directement ou par un constat.",
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "description": "Un statut, ou plusieurs séparés par des virgules.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _ok({"type": "array", "items": _ref("Action")}),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                },
            },
            "post": {
                "summary": "Planifier une action corrective",
                "requestBody": _body("application/json", _ref("NewAction")),
                "responses": {
                    "201": _ok(_ref("Action"), "Action créée (à faire)"),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                    **_CONFLICT,
                },
            },
        },
        "/actions/{action_id}": {
            "get": {
                "summary": "Une action",
                "parameters": [action_id],
                "responses": {"200": _ok(_ref("Action")), **_ERRORS, **_NOT_FOUND},
            },
            "patch": {
                "summary": "Faire avancer ou modifier une action",
                "description": "`status` (et `note` pour la vérification d’efficacité) : "
                "direction, qualité, ou le responsable de site pour ses actions et celles de "
                "son site. Les autres champs : direction et qualité. Vérifier l’efficacité "
                "d’une action qui répond à une non-conformité demande sa preuve de clôture. "
                "Tout ou rien ; `lock_version` périmé : 409.",
                "parameters": [action_id],
                "requestBody": _body("application/json", _ref("ActionPatch")),
                "responses": {
                    "200": _ok(_ref("Action")),
                    **_BAD_REQUEST,
                    **_ERRORS,
                    **_NOT_FOUND,
                    **_CONFLICT,
                },
            },
        },
    }


_NULLABLE_TEXT = {"type": ["string", "null"]}
_PERSON = {
    "type": ["object", "null"],
    "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
}
_FINDING_FIELDS = {
    "framework": {"type": "string", "description": "Code d’un référentiel de la campagne."},
    "type": {"type": "string", "description": "Code d’un type de l’échelle du référentiel."},
    "title": {"type": "string", "maxLength": 300},
    "description": {"type": "string"},
    "root_cause": {"type": "string"},
    "criteria": {
        "type": "array",
        "description": "Codes de critères du référentiel (ou leurs identifiants).",
        "items": {"type": ["string", "integer"]},
    },
    "site": {**_NULLABLE_TEXT, "description": "Code du site ; absent ou null : toute l’école."},
    "due_on": {**_NULLABLE_DATE, "description": "Remplace l’échéance calculée."},
    "override_reason": {
        "type": "string",
        "description": "Obligatoire quand `due_on` remplace l’échéance calculée.",
    },
}
_ACTION_CRITERIA = {
    "type": "array",
    "items": {
        "oneOf": [
            {"type": "integer", "description": "Identifiant du critère"},
            {
                "type": "object",
                "required": ["framework", "code"],
                "properties": {"framework": {"type": "string"}, "code": {"type": "string"}},
            },
        ]
    },
}
_ACTION_FIELDS = {
    "title": {"type": "string", "maxLength": 300},
    "description": {"type": "string"},
    "owner": {"type": "string", "description": "E-mail d’un compte de l’école (pas l’auditeur)."},
    "site": {**_NULLABLE_TEXT, "description": "Code du site ; absent ou null : toute l’école."},
    "due_on": {**_DATE, "description": "Pas avant l’étape qui a relevé ses constats."},
    "findings": {"type": "array", "items": {"type": "integer"}},
    "criteria": _ACTION_CRITERIA,
    "closing_evidence_id": {"type": ["integer", "null"]},
}

_FINDINGS_SCHEMAS = {
    "Finding": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string", "description": "« Pré-audit n°3 »"},
            "number": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "event": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "kind": {"type": "string"},
                    "title": {"type": "string"},
                },
            },
            "framework": {"type": "string"},
            "type": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "label": {"type": "string"},
                    "kind": {
                        "type": "string",
                        "enum": ["strength", "neutral", "progress", "watch", "nonconformity"],
                    },
                },
            },
            "title": {"type": "string"},
            "description": {"type": "string"},
            "root_cause": {"type": "string"},
            "criteria": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "code": {"type": "string"}},
                },
            },
            "site": _NULLABLE_TEXT,
            "status": _FINDING_STATUS,
            "due_on": _NULLABLE_DATE,
            "verify_by": _NULLABLE_DATE,
            "rule": {"type": "string", "description": "La règle d’échéance, en clair."},
            "override_reason": {"type": "string"},
            "actions": {"type": "array", "items": {"type": "integer"}},
            "lock_version": {"type": "integer"},
        },
    },
    "NewFinding": {
        "type": "object",
        "required": ["event_id", "framework", "type", "title"],
        "properties": {
            "event_id": {"type": "integer", "description": "Étape (visite, audit, commission)."},
            **_FINDING_FIELDS,
        },
    },
    "FindingPatch": {
        "type": "object",
        "properties": {
            **_FINDING_FIELDS,
            "status": _FINDING_STATUS,
            "lock_version": {"type": "integer"},
        },
    },
    "Action": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "owner": _PERSON,
            "site": _NULLABLE_TEXT,
            "due_on": _DATE,
            "status": _ACTION_STATUS,
            "days_late": {"type": "integer"},
            "done_on": _NULLABLE_DATE,
            "findings": {"type": "array", "items": {"type": "integer"}},
            "criteria": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "framework": {"type": "string"},
                        "code": {"type": "string"},
                    },
                },
            },
            "closing_evidence_id": {"type": ["integer", "null"]},
            "verified_by": _PERSON,
            "verified_at": {"type": ["string", "null"], "format": "date-time"},
            "verification_note": {"type": "string"},
            "lock_version": {"type": "integer"},
        },
    },
    "NewAction": {
        "type": "object",
        "required": ["campaign_id", "title", "owner", "due_on"],
        "properties": {"campaign_id": {"type": "integer"}, **_ACTION_FIELDS},
    },
    "ActionPatch": {
        "type": "object",
        "properties": {
            **_ACTION_FIELDS,
            "status": _ACTION_STATUS,
            "note": {"type": "string", "description": "Note de vérification d’efficacité."},
            "lock_version": {"type": "integer"},
        },
    },
}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "audit_tracker API",
            "version": "1",
            "description": "Référentiels, campagnes de labellisation, échéances et preuves. "
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
            "/campaigns/{campaign_id}/calendar.ics": {
                "get": {
                    "summary": "Calendrier de la campagne au format iCalendar (RFC 5545)",
                    "description": "Échéances de la campagne, instances (heure de Paris, "
                    "TZID=Europe/Paris), échéances des actions non terminées et des constats "
                    "ouverts, fins de validité des preuves visibles par le compte ; d’un an en "
                    "arrière à quatre ans en avant. Les échéances sont des journées entières "
                    "(VALUE=DATE, DTEND exclu) ; les UID sont stables d’un appel à l’autre.",
                    "parameters": [_path_int("campaign_id")],
                    "responses": {
                        "200": {
                            "description": "Le calendrier",
                            "content": {"text/calendar": {"schema": {"type": "string"}}},
                        },
                        **_ERRORS,
                        **_NOT_FOUND,
                    },
                }
            },
            **_evidence_paths(),
            **_findings_paths(),
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
                    ("Forbidden", "Rôle ou droits sur la preuve insuffisants"),
                    ("NotFound", "Introuvable"),
                    ("BadRequest", "Requête refusée (message en français)"),
                    ("Conflict", "Modifiée entre-temps par quelqu’un d’autre"),
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
                **_EVIDENCE_SCHEMAS,
                **_FINDINGS_SCHEMAS,
            },
        },
    }

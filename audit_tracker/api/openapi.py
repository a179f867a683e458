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


def _dossier_paths() -> dict:
    job_id = _path_int("job_id")
    campaign_id = _path_int("campaign_id")
    binary = {"type": "string", "format": "binary"}
    return {
        "/campaigns/{campaign_id}/dossier": {
            "post": {
                "summary": "Lancer la construction du dossier de preuves (PDF, et ZIP)",
                "description": "Réservé à la direction, au responsable qualité et à "
                "l’administrateur. La construction se fait en arrière-plan : la réponse 202 "
                "donne `job_id` et l’en-tête `Location` du travail à suivre. Toutes les options "
                "sont facultatives ; une liste vide veut dire « tous ». Options invalides : 400 "
                "avec la liste des problèmes dans `errors`.",
                "parameters": [campaign_id],
                "requestBody": _body("application/json", _ref("DossierOptions")),
                "responses": {
                    "202": {
                        "description": "Construction mise en file d’attente",
                        "headers": {
                            "Location": {
                                "description": "URL du travail (GET /jobs/{job_id})",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "job_id": {"type": "integer"},
                                        "status": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _ok(_ref("OptionErrors"), "Options invalides (toutes listées)"),
                    **_ERRORS,
                    **_NOT_FOUND,
                    "503": {"$ref": "#/components/responses/Unavailable"},
                },
            },
            "get": {
                "summary": "Dossiers construits pour la campagne, les plus récents d’abord",
                "parameters": [campaign_id],
                "responses": {
                    "200": _ok({"type": "array", "items": _ref("DossierJob")}),
                    **_ERRORS,
                    **_NOT_FOUND,
                },
            },
        },
        "/jobs/{job_id}": {
            "get": {
                "summary": "État d’une construction : statut, avancement, erreur, liens",
                "description": "`status` : queued, running, done ou failed ; `progress` de 0 à "
                "100. Quand le dossier est prêt, `pdf_url` (et `zip_url`) donnent le "
                "téléchargement, s’il est permis au compte. Une construction dont le processus "
                "a disparu est déclarée `failed` avec son explication.",
                "parameters": [job_id],
                "responses": {"200": _ok(_ref("DossierJob")), **_ERRORS, **_NOT_FOUND},
            }
        },
        **{
            f"/jobs/{{job_id}}/dossier.{kind}": {
                "get": {
                    "summary": summary,
                    "description": "403 pour un dossier incluant des données personnelles quand "
                    "le compte n’est ni la direction ni le responsable qualité, et pour un "
                    "responsable de site quand le dossier couvre d’autres sites que le sien. "
                    "404 tant que la construction n’est pas terminée.",
                    "parameters": [job_id],
                    "responses": {
                        "200": {
                            "description": "Le fichier",
                            "content": {media_type: {"schema": binary}},
                        },
                        **_ERRORS,
                        **_NOT_FOUND,
                    },
                }
            }
            for kind, media_type, summary in (
                ("pdf", "application/pdf", "Télécharger le dossier PDF"),
                ("zip", "application/zip", "Télécharger l’archive ZIP (originaux, manifeste)"),
            )
        },
    }


_ID_LIST = {"type": "array", "items": {"type": "integer"}}

_DOSSIER_SCHEMAS = {
    "DossierOptions": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "framework_ids": {**_ID_LIST, "description": "Vide : tous ceux de la campagne"},
            "section_ids": {**_ID_LIST, "description": "Vide : toutes les sections"},
            "site_ids": {
                **_ID_LIST,
                "description": "Vide : tous les sites (les preuves de toute l’école y sont "
                "toujours)",
            },
            "with_annexes": {"type": "boolean", "default": True},
            "include_personal_data": {"type": "boolean", "default": False},
            "with_zip": {"type": "boolean", "default": True},
            "as_of": {
                **_NULLABLE_DATE,
                "description": "Date de référence ; par défaut le prochain audit",
            },
        },
    },
    "OptionErrors": {
        "type": "object",
        "required": ["error", "errors"],
        "properties": {
            "error": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "string"}},
        },
    },
    "DossierJob": {
        "type": "object",
        "properties": {
            "job_id": {"type": "integer"},
            "campaign_id": {"type": "integer"},
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "status_label": {"type": "string"},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "step": {"type": "string"},
            "error": {"type": ["string", "null"]},
            "options": _ref("DossierOptions"),
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
            "size": {"type": ["integer", "null"]},
            "sha256": {"type": ["string", "null"]},
            "zip_size": {"type": ["integer", "null"]},
            "zip_sha256": {"type": ["string", "null"]},
            "page_count": {"type": ["integer", "null"]},
            "piece_count": {"type": ["integer", "null"]},
            "url": {"type": "string"},
            "pdf_url": {"type": ["string", "null"]},
            "zip_url": {"type": ["string", "null"]},
        },
    },
}


_STATE = {"type": "string",
          "enum": ["non_applicable", "preuve_manquante", "a_valider", "a_risque", "demontrable"]}


def _readiness_paths() -> dict:
    return {
        "/campaigns/{campaign_id}/readiness": {
            "get": {
                "summary": "État de préparation de chaque critère à une date de référence",
                "description": "Les règles de l’écran « Préparation » (voir README, « État de "
                "préparation ») : par critère, son état et ses raisons en toutes lettres. "
                "Le produit ne dit jamais « conforme » : l’auditeur décide.",
                "parameters": [
                    _path_int("campaign_id"),
                    {"name": "as_of", "in": "query", "schema": _DATE,
                     "description": "Date de référence (par défaut : le prochain audit)."},
                    {"name": "site", "in": "query", "schema": {"type": "string"},
                     "description": "Code d’un site : seuls ses enregistrements et ceux de "
                     "toute l’école comptent, ses exemptions s’appliquent."},
                ],
                "responses": {"200": _ok(_ref("Readiness")), **_BAD_REQUEST, **_ERRORS,
                              **_NOT_FOUND},
            }
        },
    }


_READINESS_SCHEMAS = {
    "Readiness": {
        "type": "object",
        "required": ["campaign_id", "as_of", "summary", "criteria"],
        "properties": {
            "campaign_id": {"type": "integer"},
            "as_of": _DATE,
            "reference": {"type": ["string", "null"], "enum": ["audit", "commission",
                                                               "pre_audit", None],
                          "description": "L’échéance dont la date de référence est le jour."},
            "site": {"type": ["string", "null"]},
            "summary": {
                "type": "object",
                "properties": {
                    "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                               "description": "Nombre de critères par état."},
                    "applicable": {"type": "integer"},
                    "share_demonstrable": {"type": ["number", "null"],
                                           "description": "Démontrables / applicables (0–1)."},
                },
            },
            "criteria": {"type": "array", "items": _ref("CriterionReadiness")},
        },
    },
    "CriterionReadiness": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "framework": {"type": "string"},
            "section": {"type": "string"},
            "code": {"type": "string"},
            "title": {"type": "string"},
            "indispensable": {"type": "boolean"},
            "state": _STATE,
            "state_label": {"type": "string"},
            "reasons": {"type": "array", "items": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "text": {"type": "string"}}}},
            "evidence_ids": {"type": "array", "items": {"type": "integer"}},
        },
    },
}


_INDICATOR_CODES = {"type": "string",
                    "enum": ["qpv_rate", "without_diploma_rate", "positive_exit_rate",
                             "monthly_entries"]}


def _indicators_paths() -> dict:
    return {
        "/campaigns/{campaign_id}/indicators": {
            "get": {
                "summary": "Indicateurs clés de l’école par site et par mois, avec leurs objectifs",
                "description": "Effectifs saisis, taux calculés (fractions non arrondies, "
                "`null` quand le dénominateur est nul) et objectifs. Les totaux sont pondérés : "
                "somme des effectifs / somme des effectifs, jamais une moyenne des pourcentages. "
                "`gap` = valeur − objectif, dans l’unité de la valeur (fraction pour un taux). "
                "Un objectif de site remplace celui de l’école pour ce site.",
                "parameters": [
                    _path_int("campaign_id"),
                    {"name": "start", "in": "query", "schema": {"type": "string"},
                     "description": "Premier mois inclus (AAAA-MM)."},
                    {"name": "end", "in": "query", "schema": {"type": "string"},
                     "description": "Dernier mois inclus (AAAA-MM)."},
                    {"name": "site", "in": "query", "schema": {"type": "string"},
                     "description": "Code d’un site (répétable) ; par défaut tous les sites."},
                ],
                "responses": {"200": _ok(_ref("Indicators")), **_BAD_REQUEST, **_ERRORS,
                              **_NOT_FOUND},
            }
        },
    }


_INDICATOR_COUNTS = {
    "type": "object",
    "properties": {
        name: {"type": "integer"}
        for name in ("entries", "from_qpv", "without_diploma", "host_companies", "exits",
                     "exits_training", "exits_employment", "exits_work_study",
                     "positive_exits", "months")
    },
    "description": "`host_companies` compte les entreprises accueillant un stagiaire pour la "
    "première fois ; `months` le nombre de mois additionnés.",
}

_INDICATORS_SCHEMAS = {
    "IndicatorTarget": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "indicator": _INDICATOR_CODES,
            "site": {"type": ["string", "null"], "description": "null : toute l’école."},
            "comparison": {"type": "string", "enum": ["min", "max"]},
            "value": {"type": "number", "description": "Fraction pour un taux (0.4)."},
            "source": {"type": "string"},
        },
    },
    "IndicatorValues": {
        "type": "object",
        "properties": {
            "counts": _INDICATOR_COUNTS,
            "rates": {"type": "object",
                      "additionalProperties": {"type": ["number", "null"]}},
            "targets": {
                "type": "object",
                "additionalProperties": {"oneOf": [{"type": "null"}, {"allOf": [
                    _ref("IndicatorTarget"),
                    {"type": "object", "properties": {
                        "gap": {"type": ["number", "null"]},
                        "met": {"type": ["boolean", "null"]},
                    }},
                ]}]},
            },
        },
    },
    "Indicators": {
        "type": "object",
        "required": ["sites", "total", "targets"],
        "properties": {
            "school": {"type": "string"},
            "start": {"type": ["string", "null"]},
            "end": {"type": ["string", "null"]},
            "periods": {"type": "array", "items": {"type": "string"}},
            "indicators": {"type": "array", "items": {"type": "object", "properties": {
                "code": _INDICATOR_CODES, "label": {"type": "string"},
                "kind": {"type": "string", "enum": ["rate", "monthly"]}}}},
            "targets": {"type": "array", "items": _ref("IndicatorTarget")},
            "sites": {"type": "array", "items": {"allOf": [
                _ref("IndicatorValues"),
                {"type": "object", "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "opened_on": _NULLABLE_DATE,
                    "periods": {"type": "array", "items": {"allOf": [
                        _ref("IndicatorValues"),
                        {"type": "object", "properties": {"period": {"type": "string"}}},
                    ]}},
                }},
            ]}},
            "total": _ref("IndicatorValues"),
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
            **_dossier_paths(),
            **_readiness_paths(),
            **_indicators_paths(),
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
                    ("Unavailable", "Service indisponible (file d’attente injoignable)"),
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
                **_DOSSIER_SCHEMAS,
                **_READINESS_SCHEMAS,
                **_INDICATORS_SCHEMAS,
            },
        },
    }

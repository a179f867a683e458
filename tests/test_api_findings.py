"""API v1 for findings and actions, on the E2C Var demo at its real dates (pré-audit
20–22/02/2018, AFNOR audit 24–26/04/2018): the happy paths, the filters, and for every refused
input a French message and a database left exactly as it was."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select

from audit_tracker.extensions import db
from audit_tracker.findings.programme import SlotInput, add_slot
from audit_tracker.models import (
    Action,
    AuditSlot,
    Campaign,
    Criterion,
    Finding,
    Framework,
    Milestone,
    MilestoneKind,
    Role,
    Site,
    User,
)
from audit_tracker.models.findings import action_criterion, action_finding, finding_criterion

from . import factories

# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def as_(demo, token_for):
    """Bearer headers of a demo account by its e-mail's local part: as_("qualite")."""
    cache: dict[str, dict[str, str]] = {}

    def headers(local_part: str) -> dict[str, str]:
        if local_part not in cache:
            cache[local_part] = token_for(account(local_part))
        return cache[local_part]

    return headers


def account(local_part: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))


def campaign() -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.name == "Labellisation E2C 2018"))


def event(kind: MilestoneKind) -> Milestone:
    return next(m for m in campaign().milestones if m.kind is kind)


def criterion(framework: str, code: str) -> Criterion:
    return db.session.scalar(
        select(Criterion).join(Framework).where(Framework.code == framework,
                                                Criterion.code == code))


def counts() -> tuple[int, ...]:
    """Every row this API can add or change the number of."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(table))
        for table in (Finding, Action, finding_criterion, action_finding, action_criterion)
    )


def patch(client, url: str, *, json: dict, headers: dict):
    """PATCH as a client does, sending back the ``lock_version`` it last read unless the test
    names one: since issue 12 the API requires it."""
    if "lock_version" not in json:
        current = client.get(url, headers=headers)
        seen = current.json["lock_version"] if current.status_code == 200 else 0
        json = {**json, "lock_version": seen}
    return client.patch(url, json=json, headers=headers)


def finding_body(**changes) -> dict:
    body = {
        "event_id": event(MilestoneKind.PRE_AUDIT).id,
        "framework": "qualiopi-v9",
        "type": "nc_mineure",
        "title": "Affichage des tarifs incomplet",
        "description": "Les tarifs ne figurent pas sur la plaquette du site TPM.",
        "root_cause": "Plaquette antérieure à la grille tarifaire.",
        "criteria": ["1"],
        "site": "tpm",
    }
    body.update(changes)
    return body


@pytest.fixture
def post_finding(client, as_):
    def post(**changes) -> dict:
        response = client.post("/api/v1/findings", json=finding_body(**changes),
                               headers=as_("qualite"))
        assert response.status_code == 201, response.json
        return response.json

    return post


def action_body(finding_ids=(), **changes) -> dict:
    body = {
        "campaign_id": campaign().id,
        "title": "Refaire la plaquette avec les tarifs",
        "description": "Mettre à jour la plaquette et le site internet.",
        "owner": "tpm@e2c-var.example",
        "site": "tpm",
        "due_on": "2018-06-15",
        "findings": list(finding_ids),
        "criteria": [{"framework": "qualiopi-v9", "code": "1"}],
    }
    body.update(changes)
    return body


@pytest.fixture
def post_action(client, as_):
    def post(finding_ids=(), **changes) -> dict:
        response = client.post("/api/v1/actions", json=action_body(finding_ids, **changes),
                               headers=as_("qualite"))
        assert response.status_code == 201, response.json
        return response.json

    return post


# ------------------------------------------------------------------------------------ findings


def test_create_a_finding_with_its_computed_deadline(client, as_, post_finding):
    finding = post_finding()
    assert finding["reference"] == "Pré-audit n°1" and finding["number"] == 1
    assert finding["event"] == {"id": event(MilestoneKind.PRE_AUDIT).id, "kind": "pre_audit",
                                "title": "Pré-audit de labellisation"}
    assert finding["framework"] == "qualiopi-v9"
    assert finding["type"] == {"code": "nc_mineure", "label": "Non-conformité mineure",
                               "kind": "nonconformity"}
    assert finding["criteria"] == [{"id": criterion("qualiopi-v9", "1").id, "code": "1"}]
    assert finding["site"] == "tpm" and finding["status"] == "ouvert"
    # Issue 16: a pré-audit's finding is due 15 days before the AFNOR audit (24/04/2018), no
    # longer six months after the pré-audit (22/08/2018, after the audit it prepares).
    assert (finding["due_on"], finding["verify_by"]) == ("2018-04-09", None)
    assert finding["rule"].startswith("Constat d’une visite d’accompagnement")
    assert "24/04/2018" in finding["rule"]
    assert finding["override_reason"] == "" and finding["actions"] == []
    assert finding["lock_version"] == 1
    assert client.get(f"/api/v1/findings/{finding['id']}", headers=as_("auditeur")).json == finding
    assert post_finding(title="Deuxième constat")["number"] == 2


def test_a_major_nonconformity_gets_its_verification_date(post_finding):
    # On the AFNOR audit (24–26/04/2018), its report not yet notified: from the last day.
    finding = post_finding(type="nc_majeure", criteria=["4"],
                           event_id=event(MilestoneKind.INITIAL_AUDIT).id)
    assert (finding["due_on"], finding["verify_by"]) == ("2018-07-26", "2018-08-26")


def test_an_overridden_deadline_keeps_its_reason_and_the_rule(post_finding):
    finding = post_finding(due_on="2018-07-01", override_reason="Avancée pour l’audit")
    assert finding["due_on"] == "2018-07-01"
    assert finding["override_reason"] == "Avancée pour l’audit"
    assert finding["rule"].startswith("Constat d’une visite d’accompagnement")


def test_criteria_may_be_given_by_id_and_site_omitted(post_finding):
    finding = post_finding(criteria=[criterion("qualiopi-v9", "2").id], site=None)
    assert [c["code"] for c in finding["criteria"]] == ["2"] and finding["site"] is None


BAD_FINDINGS = [
    pytest.param({"due_on": "2018-01-15", "override_reason": "Plus tôt"},
                 "L’échéance ne peut pas précéder l’audit (20/02/2018).", id="due-before-audit"),
    pytest.param({"type": "point_fort"},
                 "Type de constat « point_fort » absent de l’échelle de", id="type-not-in-scale"),
    pytest.param({"due_on": "22/08/2018", "override_reason": "x"},
                 "Date invalide pour « due_on » : « 22/08/2018 » ; attendu AAAA-MM-JJ.",
                 id="malformed-date"),
    pytest.param({"due_on": "2018-02-30", "override_reason": "x"},
                 "Date invalide pour « due_on » : « 2018-02-30 »", id="impossible-date"),
    pytest.param({"due_on": 20180822}, "Date invalide pour « due_on »", id="date-as-number"),
    pytest.param({"due_on": "2018-09-01"},
                 "Indiquez pourquoi l’échéance calculée est remplacée.", id="override-no-reason"),
    pytest.param({"framework": "iso-9001"},
                 "Le référentiel « iso-9001 » n’est pas suivi par la campagne", id="framework"),
    pytest.param({"title": "   "}, "Donnez un intitulé au constat.", id="blank-title"),
    pytest.param({"title": 42}, "« title » doit être un texte.", id="title-not-text"),
    pytest.param({"site": "nice"}, "Site inconnu : nice.", id="unknown-site"),
    pytest.param({"criteria": ["99"]}, "Critère inconnu dans qualiopi-v9 : 99.",
                 id="unknown-criterion"),
    pytest.param({"criteria": "1"}, "« criteria » doit être une liste.", id="criteria-not-list"),
    pytest.param({"criteria": ["4"]}, "ne peut donner lieu qu’à une non-conformité majeure",
                 id="criterion-forbids-minor"),
    pytest.param({"type": None}, "Indiquez le type de constat (« type »)", id="no-type"),
    pytest.param({"event_id": "abc"}, "« event_id » doit être un nombre entier.",
                 id="event-not-int"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_FINDINGS)
def test_a_refused_finding_says_why_in_french_and_adds_nothing(client, as_, changes, message):
    before = counts()
    response = client.post("/api/v1/findings", json=finding_body(**changes),
                           headers=as_("qualite"))
    assert response.status_code == 400
    assert message in response.json["error"]
    assert counts() == before


def test_a_finding_of_the_e2c_grid_with_a_qualiopi_criterion_is_refused(client, as_):
    before = counts()
    response = client.post("/api/v1/findings", json=finding_body(
        framework="e2c-label", type="point_sensible",
        criteria=[criterion("qualiopi-v9", "1").id]), headers=as_("qualite"))
    assert response.status_code == 400
    assert "n’appartient pas à" in response.json["error"]
    assert counts() == before


def test_findings_only_on_visits_audits_and_the_commission(client, as_):
    before = counts()
    body = finding_body(event_id=event(MilestoneKind.OTHER).id)
    response = client.post("/api/v1/findings", json=body, headers=as_("qualite"))
    assert response.status_code == 400
    assert response.json["error"] == ("Seules les visites, les audits et la commission "
                                      "reçoivent des constats.")
    assert counts() == before


def test_another_schools_event_does_not_exist(client, as_):
    from tests.factories import MilestoneFactory

    other = MilestoneFactory()
    db.session.commit()
    before = counts()
    response = client.post("/api/v1/findings", json=finding_body(event_id=other.id),
                           headers=as_("qualite"))
    assert response.status_code == 404
    assert response.json == {"error": "Étape de campagne introuvable."}
    assert counts() == before


def test_not_json_is_a_french_400(client, as_):
    response = client.post("/api/v1/findings", data="title=x", headers=as_("qualite"))
    assert response.status_code == 400
    assert response.json["error"].startswith("Envoyez un objet JSON")


@pytest.mark.parametrize("local_part", ["auditeur", "tpm"])
def test_readers_and_site_managers_do_not_record_findings(client, as_, post_finding,
                                                          local_part):
    finding = post_finding()
    before = counts()
    response = client.post("/api/v1/findings", json=finding_body(), headers=as_(local_part))
    assert response.status_code == 403 and "error" in response.json
    response = patch(client, f"/api/v1/findings/{finding['id']}", json={"title": "Piraté"},
                            headers=as_(local_part))
    assert response.status_code == 403
    assert counts() == before
    assert client.get(f"/api/v1/findings/{finding['id']}",
                      headers=as_(local_part)).json["title"] == finding["title"]


def test_patch_a_finding_then_a_stale_patch_is_a_409(client, as_, post_finding):
    finding = post_finding()
    url = f"/api/v1/findings/{finding['id']}"
    first = patch(client, url, json={"title": "Tarifs absents de la plaquette",
                                    "lock_version": 1}, headers=as_("qualite"))
    assert first.status_code == 200
    assert first.json["title"] == "Tarifs absents de la plaquette"
    assert first.json["lock_version"] == 2
    assert first.json["criteria"] == finding["criteria"]  # absent keys keep their value
    assert first.json["due_on"] == finding["due_on"]
    second = patch(client, url, json={"title": "Autre intitulé", "lock_version": 1},
                          headers=as_("direction"))
    assert second.status_code == 409
    assert "modifié par quelqu’un d’autre" in second.json["error"]
    assert client.get(url, headers=as_("qualite")).json == first.json


def test_a_stale_status_patch_is_a_409_too(client, as_, post_finding):
    finding = post_finding()
    url = f"/api/v1/findings/{finding['id']}"
    assert patch(client, url, json={"title": "Nouveau", "lock_version": 1},
                        headers=as_("qualite")).status_code == 200
    response = patch(client, url, json={"status": "en_traitement", "lock_version": 1},
                            headers=as_("qualite"))
    assert response.status_code == 409
    assert client.get(url, headers=as_("qualite")).json["status"] == "ouvert"


def test_patch_the_type_recomputes_the_deadline_and_an_override_can_be_dropped(
        client, as_, post_finding):
    finding = post_finding(criteria=["2"])
    url = f"/api/v1/findings/{finding['id']}"
    major = patch(client, url, json={"type": "nc_majeure"}, headers=as_("qualite")).json
    # A pré-audit's finding, whatever its type: 15 days before the audit, no verification.
    assert (major["due_on"], major["verify_by"]) == ("2018-04-09", None)
    # A GET's JSON sent back (computed date, no reason) keeps the deadline computed.
    same = patch(client, url, json={"due_on": major["due_on"], "override_reason": "",
                                   "title": "Tarifs"}, headers=as_("qualite"))
    assert same.status_code == 200 and same.json["override_reason"] == ""
    moved = patch(client, url, json={"due_on": "2018-05-31", "override_reason": "Accordé"},
                         headers=as_("qualite")).json
    assert (moved["due_on"], moved["verify_by"]) == ("2018-05-31", None)
    kept = patch(client, url, json={"description": "Précisé"}, headers=as_("qualite")).json
    assert (kept["due_on"], kept["override_reason"]) == ("2018-05-31", "Accordé")
    back = patch(client, url, json={"due_on": None}, headers=as_("qualite")).json
    assert (back["due_on"], back["override_reason"]) == ("2018-04-09", "")


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"due_on": "2018-01-01", "override_reason": "x"}, 400, "ne peut pas précéder l’audit"),
    ({"type": "point_fort"}, 400, "absent de l’échelle"),
    ({"due_on": "demain", "override_reason": "x"}, 400, "Date invalide pour « due_on »"),
    ({"status": "termine"}, 400, "Statut inconnu : termine"),
    ({"colour": "rouge"}, 400, "Champs inconnus : colour"),
    ({"event_id": 999999}, 400, "Un constat ne change pas d’étape"),
    ({"lock_version": "v1"}, 400, "« lock_version » doit être un nombre entier."),
    # A refused status leaves the other fields of the same PATCH unsaved.
    ({"title": "Levée", "status": "leve"}, 400,
     "Une non-conformité ne peut être levée sans action corrective."),
])
def test_a_refused_finding_patch_changes_nothing(client, as_, post_finding, body, status,
                                                 message):
    finding = post_finding()
    url = f"/api/v1/findings/{finding['id']}"
    before = counts()
    response = patch(client, url, json=body, headers=as_("qualite"))
    assert response.status_code == status
    assert message in response.json["error"]
    assert counts() == before
    assert client.get(url, headers=as_("qualite")).json == finding


def test_another_schools_finding_is_a_404(client, as_, post_finding, make_user, token_for):
    finding = post_finding()
    stranger = token_for(make_user(Role.QUALITY_LEAD))
    url = f"/api/v1/findings/{finding['id']}"
    assert client.get(url, headers=stranger).status_code == 404
    response = patch(client, url, json={"title": "x"}, headers=stranger)
    assert response.status_code == 404 and response.json == {"error": "Constat introuvable."}
    assert client.get("/api/v1/findings", headers=stranger).json == []


def test_finding_list_filters(client, as_, post_finding, post_action):
    pre = post_finding()
    audit = post_finding(event_id=event(MilestoneKind.INITIAL_AUDIT).id, title="Audit 1")
    answered = post_finding(title="Traité")
    strength = post_finding(framework="e2c-label", type="point_fort", criteria=["A1"],
                            title="Accueil chaleureux")
    action = post_action([answered["id"]], due_on="2018-03-01")
    closed = patch(client, f"/api/v1/findings/{strength['id']}", json={"status": "clos"},
                          headers=as_("qualite"))
    assert closed.status_code == 200 and closed.json["status"] == "clos"
    headers = as_("auditeur")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/findings{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [f["id"] for f in response.json]

    everything = client.get("/api/v1/findings", headers=headers).json
    # By the event's date, then by number within the event.
    assert [f["id"] for f in everything] == [pre["id"], answered["id"], strength["id"],
                                             audit["id"]]
    assert [f["status"] for f in everything] == ["ouvert", "en_traitement", "clos", "ouvert"]
    assert everything[1]["actions"] == [action["id"]]
    assert ids(f"?campaign_id={campaign().id}") == [f["id"] for f in everything]
    assert ids(f"?event_id={audit['event']['id']}") == [audit["id"]]
    assert ids("?open=true") == [pre["id"], answered["id"], audit["id"]]
    assert ids(f"?open=1&event_id={pre['event']['id']}") == [pre["id"], answered["id"]]
    assert client.get("/api/v1/findings?campaign_id=999999", headers=headers).status_code == 404
    response = client.get("/api/v1/findings?open=peut-etre", headers=headers)
    assert response.status_code == 400
    assert response.json["error"] == "« open » doit valoir true ou false."


def test_a_nonconformity_is_lifted_once_its_action_is_verified(
        client, as_, post_finding, post_action, make_evidence):
    finding = post_finding()
    proof = make_evidence(account("qualite"), title="Nouvelle plaquette")
    action = post_action([finding["id"]], closing_evidence_id=proof.id)
    url = f"/api/v1/actions/{action['id']}"
    assert patch(client, url, json={"status": "realisee"}, headers=as_("tpm")).status_code == 200
    verified = patch(client, url, json={"status": "efficacite_verifiee", "note": "Vu en ligne"},
                            headers=as_("qualite"))
    assert verified.status_code == 200
    assert verified.json["verified_by"] == {"email": "qualite@e2c-var.example",
                                            "name": "Responsable qualité E2C Var"}
    assert verified.json["verification_note"] == "Vu en ligne"
    assert verified.json["verified_at"]
    lifted = patch(client, f"/api/v1/findings/{finding['id']}", json={"status": "leve"},
                          headers=as_("direction"))
    assert lifted.status_code == 200 and lifted.json["status"] == "leve"


# ------------------------------------------------------------------------------------- actions


def test_plan_an_action_answering_a_finding(client, as_, post_finding, post_action):
    finding = post_finding()
    e2c = criterion("e2c-label", "A1")
    action = post_action([finding["id"]],
                         criteria=[{"framework": "qualiopi-v9", "code": "1"}, e2c.id])
    assert action["title"] == "Refaire la plaquette avec les tarifs"
    assert action["owner"] == {"email": "tpm@e2c-var.example", "name": "Responsable du site TPM"}
    assert (action["site"], action["due_on"], action["status"]) == ("tpm", "2018-06-15",
                                                                    "a_faire")
    assert action["days_late"] > 0  # today is years after June 2018
    assert action["findings"] == [finding["id"]]
    assert sorted(action["criteria"], key=lambda c: c["code"]) == [
        {"id": criterion("qualiopi-v9", "1").id, "framework": "qualiopi-v9", "code": "1"},
        {"id": e2c.id, "framework": "e2c-label", "code": "A1"},
    ]
    assert action["closing_evidence_id"] is None and action["verified_by"] is None
    assert action["verified_at"] is None and action["lock_version"] == 1
    assert client.get(f"/api/v1/actions/{action['id']}", headers=as_("auditeur")).json == action
    answered = client.get(f"/api/v1/findings/{finding['id']}", headers=as_("qualite")).json
    assert answered["status"] == "en_traitement" and answered["actions"] == [action["id"]]


@pytest.fixture
def other_school_user(make_user):
    return make_user(Role.QUALITY_LEAD)


BAD_ACTIONS = [
    pytest.param({"due_on": "2018-02-01"},
                 "L’échéance (01/02/2018) précède l’audit qui a relevé le constat « Affichage "
                 "des tarifs incomplet » (20/02/2018).", id="due-before-audit"),
    pytest.param({"owner": "OTHER"},
                 "Le responsable de l’action doit être un compte de votre école.",
                 id="owner-other-school"),
    pytest.param({"owner": "personne@nulle-part.example"},
                 "Le responsable de l’action doit être un compte de votre école.",
                 id="owner-unknown"),
    pytest.param({"owner": "auditeur@e2c-var.example"},
                 "L’auditeur lit le dossier ; il ne peut pas porter une action.",
                 id="owner-auditor"),
    pytest.param({"due_on": "15/06/2018"},
                 "Date invalide pour « due_on » : « 15/06/2018 » ; attendu AAAA-MM-JJ.",
                 id="malformed-date"),
    pytest.param({"due_on": None}, "Indiquez l’échéance de l’action.", id="no-due-date"),
    pytest.param({"title": ""}, "Donnez un intitulé à l’action.", id="no-title"),
    pytest.param({"site": "nice"}, "Site inconnu : nice.", id="unknown-site"),
    pytest.param({"findings": [999999]}, "Constat introuvable : 999999.", id="unknown-finding"),
    pytest.param({"findings": ["abc"]}, "« findings » doit être un nombre entier.",
                 id="finding-not-int"),
    pytest.param({"criteria": [{"framework": "qualiopi-v9", "code": "99"}]},
                 "Critère inconnu dans qualiopi-v9 : 99.", id="unknown-criterion"),
    pytest.param({"criteria": [{"framework": "iso-9001", "code": "1"}]},
                 "Le référentiel « iso-9001 » n’est pas suivi par la campagne",
                 id="framework-not-followed"),
    pytest.param({"criteria": ["1"]}, "est ambigu", id="bare-code"),
    pytest.param({"closing_evidence_id": 999999}, "Preuve introuvable : 999999.",
                 id="unknown-proof"),
    pytest.param({"campaign_id": "x"}, "« campaign_id » doit être un nombre entier.",
                 id="campaign-not-int"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_ACTIONS)
def test_a_refused_action_says_why_in_french_and_adds_nothing(
        client, as_, post_finding, other_school_user, changes, message):
    finding = post_finding()
    if changes.get("owner") == "OTHER":
        changes = {"owner": other_school_user.email}
    before = counts()
    response = client.post("/api/v1/actions", json=action_body([finding["id"]], **changes),
                           headers=as_("qualite"))
    assert response.status_code == 400
    assert message in response.json["error"]
    assert counts() == before
    assert client.get(f"/api/v1/findings/{finding['id']}",
                      headers=as_("qualite")).json["status"] == "ouvert"


def test_another_schools_proof_or_campaign_is_refused(client, as_, other_school_user,
                                                      make_evidence):
    foreign_proof = make_evidence(other_school_user)
    before = counts()
    response = client.post("/api/v1/actions", json=action_body(
        closing_evidence_id=foreign_proof.id), headers=as_("qualite"))
    assert response.status_code == 400
    assert response.json["error"] == f"Preuve introuvable : {foreign_proof.id}."
    response = client.post("/api/v1/actions", json=action_body(campaign_id=999999),
                           headers=as_("qualite"))
    assert response.status_code == 404 and response.json == {"error": "Campagne introuvable."}
    assert counts() == before


def test_site_manager_moves_their_sites_action_but_not_another_sites(
        client, as_, post_action):
    ours = post_action(owner="qualite@e2c-var.example", site="tpm")
    theirs = post_action(owner="cavem@e2c-var.example", site="cavem", title="Autre site")
    moved = patch(client, f"/api/v1/actions/{ours['id']}",
                         json={"status": "en_cours", "lock_version": 1}, headers=as_("tpm"))
    assert moved.status_code == 200
    assert moved.json["status"] == "en_cours" and moved.json["lock_version"] == 2
    before = counts()
    refused = patch(client, f"/api/v1/actions/{theirs['id']}", json={"status": "en_cours"},
                           headers=as_("tpm"))
    assert refused.status_code == 403
    assert refused.json["error"] == ("Vous ne pouvez faire avancer que vos actions ou celles "
                                     "de votre site.")
    assert client.get(f"/api/v1/actions/{theirs['id']}", headers=as_("tpm")).json == theirs
    assert counts() == before


def test_site_manager_moves_but_does_not_edit(client, as_, post_action):
    action = post_action()
    url = f"/api/v1/actions/{action['id']}"
    response = patch(client, url, json={"title": "Autre", "status": "en_cours"},
                            headers=as_("tpm"))
    assert response.status_code == 403
    assert "pas la modifier : title" in response.json["error"]
    assert client.get(url, headers=as_("tpm")).json == action


@pytest.mark.parametrize("method", ["post", "patch"])
def test_the_auditor_reads_the_plan_but_changes_nothing(client, as_, post_action, method):
    action = post_action()
    before = counts()
    if method == "post":
        response = client.post("/api/v1/actions", json=action_body(), headers=as_("auditeur"))
    else:
        response = patch(client, f"/api/v1/actions/{action['id']}", json={"status": "en_cours"},
                                headers=as_("auditeur"))
    assert response.status_code == 403 and "error" in response.json
    assert counts() == before
    assert client.get(f"/api/v1/actions/{action['id']}", headers=as_("auditeur")).json == action


def test_verifying_a_nonconformity_action_needs_its_closing_proof(
        client, as_, post_finding, post_action, make_evidence):
    action = post_action([post_finding()["id"]])
    url = f"/api/v1/actions/{action['id']}"
    done = patch(client, url, json={"status": "realisee"}, headers=as_("tpm")).json
    refused = patch(client, url, json={"status": "efficacite_verifiee", "note": "ok"},
                           headers=as_("qualite"))
    assert refused.status_code == 400
    assert refused.json["error"] == ("Cette action répond à une non-conformité : joignez la "
                                     "preuve de clôture avant de vérifier son efficacité.")
    assert client.get(url, headers=as_("qualite")).json == done
    # The proof and the verification in one PATCH: both or neither.
    proof = make_evidence(account("qualite"), title="Plaquette 2018")
    by_site = patch(client, url, json={"closing_evidence_id": proof.id,
                                      "status": "efficacite_verifiee"}, headers=as_("tpm"))
    assert by_site.status_code == 403  # a site manager does not edit the proof field
    only_status = patch(client, f"/api/v1/actions/{action['id']}",
                               json={"status": "efficacite_verifiee"}, headers=as_("tpm"))
    assert only_status.status_code == 400
    assert only_status.json["error"].startswith("Seuls la direction et le responsable qualité")
    assert client.get(url, headers=as_("qualite")).json == done
    verified = patch(client, url, json={"closing_evidence_id": proof.id,
                                       "status": "efficacite_verifiee",
                                       "lock_version": done["lock_version"]},
                            headers=as_("qualite"))
    assert verified.status_code == 200, verified.json
    assert verified.json["status"] == "efficacite_verifiee"
    assert verified.json["closing_evidence_id"] == proof.id


def test_a_refused_status_keeps_the_fields_of_the_same_patch(client, as_, post_finding,
                                                             post_action):
    action = post_action([post_finding()["id"]])
    url = f"/api/v1/actions/{action['id']}"
    response = patch(client, url, json={"title": "Changé", "status": "efficacite_verifiee"},
                            headers=as_("qualite"))
    assert response.status_code == 400
    assert response.json["error"].startswith("L’action doit être réalisée")
    assert client.get(url, headers=as_("qualite")).json == action


def test_two_action_patches_with_the_same_lock_version(client, as_, post_action):
    action = post_action()
    url = f"/api/v1/actions/{action['id']}"
    first = patch(client, url, json={"due_on": "2018-07-01", "lock_version": 1},
                         headers=as_("qualite"))
    assert first.status_code == 200 and first.json["lock_version"] == 2
    second = patch(client, url, json={"due_on": "2018-08-01", "lock_version": 1},
                          headers=as_("direction"))
    assert second.status_code == 409
    assert "modifié par quelqu’un d’autre" in second.json["error"]
    assert client.get(url, headers=as_("qualite")).json == first.json
    status_too = patch(client, url, json={"status": "en_cours", "lock_version": 1},
                              headers=as_("tpm"))
    assert status_too.status_code == 409


@pytest.mark.parametrize(("body", "message"), [
    ({"due_on": "2018-02-01"}, "précède l’audit qui a relevé le constat"),
    ({"owner": "OTHER"}, "Le responsable de l’action doit être un compte de votre école."),
    ({"due_on": "1er juillet"}, "Date invalide pour « due_on »"),
    ({"status": "finie"}, "Statut inconnu : finie"),
    ({"verified_by": "moi"}, "Champs inconnus : verified_by"),
    ({"findings": 3}, "« findings » doit être une liste."),
])
def test_a_refused_action_patch_changes_nothing(client, as_, post_finding, post_action,
                                                other_school_user, body, message):
    action = post_action([post_finding()["id"]])
    if body.get("owner") == "OTHER":
        body = {"owner": other_school_user.email}
    url = f"/api/v1/actions/{action['id']}"
    before = counts()
    response = patch(client, url, json=body, headers=as_("qualite"))
    assert response.status_code == 400
    assert message in response.json["error"]
    assert counts() == before
    assert client.get(url, headers=as_("qualite")).json == action


def test_action_list_filters(client, as_, post_finding, post_action):
    pre = post_finding()
    other = post_finding(title="Critère 2", criteria=["2"], site="cavem")
    late = post_action([pre["id"]], title="En retard", due_on="2018-03-01")
    mine = post_action(title="À moi", owner="cavem@e2c-var.example", site="cavem",
                       due_on="2099-01-01", criteria=[])
    linked = post_action([other["id"]], title="Par le constat", owner="qualite@e2c-var.example",
                         site=None, due_on="2098-01-01", criteria=[])
    done = post_action(title="Faite", due_on="2018-04-01")
    assert patch(client, f"/api/v1/actions/{done['id']}", json={"status": "realisee"},
                        headers=as_("qualite")).status_code == 200

    def ids(query: str, who: str = "cavem") -> list[int]:
        response = client.get(f"/api/v1/actions{query}", headers=as_(who))
        assert response.status_code == 200, response.json
        return [a["id"] for a in response.json]

    assert ids("") == [late["id"], done["id"], linked["id"], mine["id"]]  # by due date
    assert ids(f"?campaign_id={campaign().id}") == ids("")
    assert ids("?mine=true") == [mine["id"]]
    assert ids("?late=1") == [late["id"]]
    assert ids("?site=cavem") == [mine["id"]]
    assert ids(f"?finding_id={other['id']}") == [linked["id"]]
    criterion_2 = criterion("qualiopi-v9", "2").id
    assert ids(f"?criterion_id={criterion_2}") == [linked["id"]]  # through its finding
    criterion_1 = criterion("qualiopi-v9", "1").id
    assert ids(f"?criterion_id={criterion_1}") == [late["id"], done["id"]]
    assert ids("?status=realisee") == [done["id"]]
    assert ids("?status=a_faire,en_cours") == [late["id"], linked["id"], mine["id"]]
    days = {a["id"]: a["days_late"] for a in client.get("/api/v1/actions",
                                                        headers=as_("cavem")).json}
    assert days[late["id"]] > 0 and days[done["id"]] == 0 and days[mine["id"]] == 0


@pytest.mark.parametrize(("query", "message"), [
    ("?late=bientot", "« late » doit valoir true ou false."),
    ("?status=perdue", "Statut inconnu : perdue"),
    ("?site=nice", "Site inconnu : nice."),
    ("?finding_id=abc", "« finding_id » doit être un nombre entier."),
])
def test_bad_action_filters_are_french_400s(client, as_, query, message):
    response = client.get(f"/api/v1/actions{query}", headers=as_("qualite"))
    assert response.status_code == 400
    assert message in response.json["error"]


def test_another_schools_action_is_a_404(client, as_, post_action, make_user, token_for):
    action = post_action()
    stranger = token_for(make_user(Role.DIRECTOR))
    url = f"/api/v1/actions/{action['id']}"
    assert client.get(url, headers=stranger).status_code == 404
    response = patch(client, url, json={"status": "en_cours"}, headers=stranger)
    assert response.status_code == 404 and response.json == {"error": "Action introuvable."}
    assert client.get("/api/v1/actions", headers=stranger).json == []


@pytest.mark.parametrize("kind", ["action", "finding"])
def test_a_patch_of_the_links_only_moves_the_lock_version_too(client, as_, post_finding,
                                                             post_action, kind):
    """Changing only which findings or criteria a record has is an edit like any other:
    someone holding the previous version must get a 409, not silently overwrite it."""
    finding = post_finding()
    if kind == "action":
        url = f"/api/v1/actions/{post_action()['id']}"
        change, other = {"findings": [finding["id"]]}, {"criteria": []}
    else:
        url = f"/api/v1/findings/{finding['id']}"
        change, other = {"criteria": ["2"]}, {"criteria": ["3"]}
    first = patch(client, url, json={**change, "lock_version": 1}, headers=as_("qualite"))
    assert first.status_code == 200
    assert first.json["lock_version"] == 2
    second = patch(client, url, json={**other, "lock_version": 1}, headers=as_("direction"))
    assert second.status_code == 409


# ---------------------------------------------------------------------------- programme slots


def slot_of(kind: MilestoneKind, hour: int, topic: str) -> AuditSlot:
    """A slot on the first day of the event's programme, on the TPM site."""
    milestone = event(kind)
    tpm = db.session.scalar(select(Site).where(Site.code == "tpm"))
    slot = add_slot(db.session, milestone, SlotInput(
        day=milestone.starts_on, starts_at=time(hour), ends_at=time(hour + 1, 30), site=tpm,
        topic=topic, roles=[Role.DIRECTOR]))
    db.session.commit()
    return slot


def test_a_finding_recorded_against_its_slot_shows_when_where_and_what(
        client, as_, post_finding):
    slot = slot_of(MilestoneKind.PRE_AUDIT, 9, "Gouvernance")
    finding = post_finding(slot_id=slot.id, site=None)
    assert finding["slot_id"] == slot.id
    assert finding["slot"] == {"id": slot.id, "day": "2018-02-20", "starts_at": "09:00",
                               "ends_at": "10:30", "site": "tpm", "topic": "Gouvernance",
                               "summary": "20/02/2018 09:00–10:30 · Gouvernance"}
    assert finding["site"] == "tpm"  # seen on the slot's site
    url = f"/api/v1/findings/{finding['id']}"
    assert client.get(url, headers=as_("auditeur")).json == finding
    listed = client.get("/api/v1/findings", headers=as_("qualite")).json
    assert [f["slot_id"] for f in listed if f["id"] == finding["id"]] == [slot.id]
    # Without one, both say so.
    other = post_finding(title="Sans créneau")
    assert (other["slot_id"], other["slot"]) == (None, None)


def test_a_finding_moves_to_another_slot_of_its_audit_or_to_none(client, as_, post_finding):
    morning = slot_of(MilestoneKind.PRE_AUDIT, 9, "Gouvernance")
    afternoon = slot_of(MilestoneKind.PRE_AUDIT, 14, "Parcours des stagiaires")
    finding = post_finding(slot_id=morning.id)
    url = f"/api/v1/findings/{finding['id']}"
    moved = patch(client, url, json={"slot_id": afternoon.id}, headers=as_("qualite"))
    assert moved.status_code == 200, moved.json
    assert moved.json["slot"]["summary"] == "20/02/2018 14:00–15:30 · Parcours des stagiaires"
    assert moved.json["lock_version"] == finding["lock_version"] + 1
    assert moved.json["title"] == finding["title"]  # absent keys keep their value
    stale = patch(client, url, json={"slot_id": morning.id,
                                     "lock_version": finding["lock_version"]},
                  headers=as_("qualite"))
    assert stale.status_code == 409
    cleared = patch(client, url, json={"slot_id": None}, headers=as_("qualite"))
    assert cleared.status_code == 200
    assert (cleared.json["slot_id"], cleared.json["slot"]) == (None, None)
    assert db.session.get(Finding, finding["id"]).slot_id is None


def test_a_slot_of_another_audit_or_school_is_a_french_400_and_changes_nothing(
        client, as_, post_finding):
    pre_audit_slot = slot_of(MilestoneKind.PRE_AUDIT, 9, "Gouvernance")
    afnor_slot = slot_of(MilestoneKind.INITIAL_AUDIT, 9, "Gouvernance")
    elsewhere = factories.MilestoneFactory()
    foreign = AuditSlot(milestone=elsewhere, day=elsewhere.starts_on, starts_at=time(9),
                        topic="Ailleurs", roles=[], checklist={})
    db.session.add(foreign)
    db.session.commit()
    before = counts()
    for slot_id, message in ((afnor_slot.id, "Ce créneau n’appartient pas au programme de cet "
                                             "audit."),
                             (foreign.id, f"Créneau du programme introuvable : {foreign.id}."),
                             (999999, "Créneau du programme introuvable : 999999.")):
        response = client.post("/api/v1/findings", json=finding_body(slot_id=slot_id),
                               headers=as_("qualite"))
        assert response.status_code == 400
        assert response.json == {"error": message}
    assert counts() == before
    finding = post_finding(slot_id=pre_audit_slot.id)
    url = f"/api/v1/findings/{finding['id']}"
    for slot_id, message in ((afnor_slot.id, "n’appartient pas au programme de cet audit"),
                             (foreign.id, "introuvable")):
        response = patch(client, url, json={"slot_id": slot_id, "title": "Autre intitulé"},
                         headers=as_("qualite"))
        assert response.status_code == 400 and message in response.json["error"]
    bad = patch(client, url, json={"slot_id": "le matin"}, headers=as_("qualite"))
    assert bad.status_code == 400 and "slot_id" in bad.json["error"]
    # All or nothing: neither the slot nor the title of the same PATCH moved.
    assert client.get(url, headers=as_("qualite")).json == finding

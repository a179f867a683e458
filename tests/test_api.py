"""JSON API v1: bearer tokens only, the référentiel figures, campaigns, errors in French JSON."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit_tracker.extensions import db
from audit_tracker.models import ApiToken, Role, User
from audit_tracker.models.base import utcnow


@pytest.fixture
def director_headers(demo, token_for):
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    return token_for(director)


def test_frameworks_list_qualiopi_with_32_criteria_and_the_provisional_e2c_grid(
        client, director_headers):
    frameworks = {f["code"]: f for f in client.get("/api/v1/frameworks",
                                                    headers=director_headers).json}
    assert frameworks["qualiopi-v9"]["criteria_count"] == 32
    assert frameworks["qualiopi-v9"]["provisional"] is False
    assert frameworks["e2c-label"]["provisional"] is True
    assert frameworks["e2c-label"]["indispensable_count"] == 4
    assert frameworks["e2c-label"]["cycle_years"] == 4
    assert frameworks["qualiopi-v9"]["cycle_years"] == 3


def test_framework_criteria_in_referentiel_order_with_their_section(client, director_headers):
    criteria = client.get("/api/v1/frameworks/qualiopi-v9/criteria",
                          headers=director_headers).json
    assert [c["code"] for c in criteria] == [str(n) for n in range(1, 33)]
    assert criteria[3]["section"] == "2"
    assert criteria[3]["finding_types"] == ["nc_majeure"]
    assert set(criteria[0]) >= {"id", "code", "title", "section", "indispensable"}
    e2c = client.get("/api/v1/frameworks/e2c-label/criteria", headers=director_headers).json
    assert sum(c["indispensable"] for c in e2c) == 4


def test_unknown_framework_is_a_french_json_404(client, director_headers):
    response = client.get("/api/v1/frameworks/iso-9001/criteria", headers=director_headers)
    assert response.status_code == 404
    assert response.json == {"error": "Référentiel inconnu : iso-9001."}


def test_campaign_detail_lists_the_milestones_with_kind_and_dates(client, director_headers):
    campaigns = client.get("/api/v1/campaigns", headers=director_headers).json
    assert [c["name"] for c in campaigns] == ["Labellisation E2C 2018"]
    detail = client.get(f"/api/v1/campaigns/{campaigns[0]['id']}", headers=director_headers).json
    audit = next(m for m in detail["milestones"] if m["kind"] == "audit_initial")
    assert (audit["start"], audit["end"]) == ("2018-04-24", "2018-04-26")
    assert [m["kind"] for m in detail["milestones"]][:4] == [
        "visite_conseil", "pre_audit", "audit_initial", "commission_nationale"]
    assert {f["code"] for f in detail["frameworks"]} == {"e2c-label", "qualiopi-v9"}


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer at_not-a-real-token", "Basic abc"])
def test_missing_or_bad_token_is_a_french_401(client, demo, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/frameworks", headers=headers)
    assert response.status_code == 401
    assert response.json["error"].startswith("Authentification requise")


def test_revoked_token_no_longer_works(client, demo, token_for):
    user = db.session.scalar(select(User).where(User.role == Role.QUALITY_LEAD))
    headers = token_for(user)
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    token.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 401


def test_the_api_ignores_the_session_cookie(client, auth, demo):
    """A page session must not authenticate the API: it is exempt from CSRF for that reason."""
    auth.login_demo(demo, "direction")
    assert client.get("/campagnes/1").status_code == 200
    assert client.get("/api/v1/campaigns").status_code == 401


def test_only_the_token_hash_is_stored(app, demo, token_for):
    user = db.session.scalar(select(User).where(User.role == Role.DIRECTOR))
    clear = token_for(user)["Authorization"].split()[1]
    stored = db.session.scalar(select(ApiToken.token_hash).where(ApiToken.user_id == user.id))
    assert clear not in stored and len(stored) == 64


def test_unknown_api_path_answers_json(client, director_headers):
    response = client.get("/api/v1/nothing-here", headers=director_headers)
    assert response.status_code == 404
    assert "error" in response.json


def test_openapi_documents_exactly_the_api_routes(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix("/api/v1")
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", f"{{{name}}}").replace(f"<{name}>",
                                                                            f"{{{name}}}")
            served |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_cli_token_command_prints_a_working_token(runner, client, demo):
    result = runner.invoke(args=["users", "token", "auditeur@e2c-var.example"])
    assert result.exit_code == 0
    headers = {"Authorization": f"Bearer {result.output.strip()}"}
    assert client.get("/api/v1/frameworks", headers=headers).status_code == 200


def test_campaign_detail_gives_certifying_the_report_notification_and_the_decision(
        client, director_headers):
    from datetime import date

    from audit_tracker.findings.cycle import DecisionInput, record_decision
    from audit_tracker.models import Campaign, CommissionDecision, MilestoneKind

    campaign = db.session.scalar(select(Campaign))
    audit = next(m for m in campaign.milestones if m.kind is MilestoneKind.INITIAL_AUDIT)
    audit.report_notified_on = date(2018, 5, 4)
    record_decision(db.session, campaign, DecisionInput(
        date(2018, 6, 14), CommissionDecision.GRANTED_WITH_RECOMMENDATIONS,
        "Suivre le taux QPV."))
    db.session.commit()
    detail = client.get(f"/api/v1/campaigns/{campaign.id}", headers=director_headers).json
    assert detail["certifying"] is campaign.certifying
    assert detail["validity_end"] == "2022-06-13"
    by_kind: dict[str, dict] = {}
    for m in detail["milestones"]:  # the first of each kind: the renewal is an initial audit too
        by_kind.setdefault(m["kind"], m)
    assert by_kind["audit_initial"]["report_notified_on"] == "2018-05-04"
    assert by_kind["audit_initial"]["decision"] is None
    decision = by_kind["decision"]
    assert (decision["start"], decision["decision"], decision["conditions"]) == (
        "2018-06-14", "accorde_avec_preconisations", "Suivre le taux QPV.")
    assert by_kind["audit_suivi"]["assumed"] is True
    document = client.get("/api/v1/openapi.json").json
    milestone = document["components"]["schemas"]["Milestone"]["properties"]
    assert {"report_notified_on", "decision", "conditions", "assumed"} <= set(milestone)
    assert "certifying" in document["components"]["schemas"]["Campaign"]["properties"]

"""API v1 ``GET /campaigns/<id>/indicators`` on the E2C Var demo at its real dates: per site and
per month the counts, the rates and the targets, and the weighted totals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from audit_tracker.extensions import db
from audit_tracker.models import Campaign, User

from . import factories


@pytest.fixture
def as_(demo, token_for):
    def headers(local_part: str) -> dict[str, str]:
        user = db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))
        return token_for(user)

    return headers


@pytest.fixture
def url(demo) -> str:
    return f"/api/v1/campaigns/{db.session.scalar(select(Campaign.id).limit(1))}/indicators"


def test_the_indicators_per_site_and_month_with_targets_and_weighted_totals(client, as_, url):
    response = client.get(url, headers=as_("auditeur"))

    assert response.status_code == 200
    body = response.get_json()
    assert [s["code"] for s in body["sites"]] == ["tpm", "cavem", "provence-verte", "dracenie"]
    assert body["periods"][0] == "2017-03" and body["periods"][-1] == "2018-02"
    assert {i["code"] for i in body["indicators"]} == {
        "qpv_rate", "without_diploma_rate", "positive_exit_rate", "monthly_entries"}

    total = body["total"]
    assert total["counts"]["entries"] == 252
    assert total["counts"]["host_companies"] == 236
    assert (total["counts"]["positive_exits"], total["counts"]["exits_training"],
            total["counts"]["exits_employment"], total["counts"]["exits_work_study"]) == (
        30, 15, 10, 5)
    assert total["rates"]["qpv_rate"] == pytest.approx(40 / 252)  # weighted, not rounded
    assert total["rates"]["positive_exit_rate"] == pytest.approx(30 / 65)
    assert total["rates"]["without_diploma_rate"] == pytest.approx(171 / 252)
    qpv_target = total["targets"]["qpv_rate"]
    assert qpv_target["value"] == 0.4 and qpv_target["comparison"] == "min"
    assert qpv_target["site"] is None and "CIEC" in qpv_target["source"]
    assert qpv_target["gap"] == pytest.approx(40 / 252 - 0.4)
    assert qpv_target["met"] is False
    assert total["targets"]["positive_exit_rate"] is None

    cavem = body["sites"][1]
    assert cavem["counts"]["entries"] == 48 and cavem["counts"]["months"] == 9
    assert cavem["targets"]["monthly_entries"]["site"] == "cavem"
    assert cavem["targets"]["monthly_entries"]["gap"] == pytest.approx(48 / 9 - 10)
    assert [p["period"] for p in cavem["periods"]][:2] == ["2017-06", "2017-07"]
    assert sum(p["counts"]["entries"] for p in cavem["periods"]) == 48
    first = cavem["periods"][0]
    assert set(first) == {"period", "counts", "rates", "targets"}
    assert first["rates"]["positive_exit_rate"] is None  # no exit in the opening month
    assert {t["indicator"] for t in body["targets"]} == {
        "qpv_rate", "without_diploma_rate", "monthly_entries"}


def test_filters_by_site_and_months(client, as_, url):
    response = client.get(f"{url}?site=tpm&site=dracenie&start=2018-01&end=2018-02",
                          headers=as_("qualite"))
    body = response.get_json()
    assert response.status_code == 200
    assert [s["code"] for s in body["sites"]] == ["tpm", "dracenie"]
    assert body["start"] == "2018-01" and body["end"] == "2018-02"
    assert body["periods"] == ["2018-01", "2018-02"]
    assert body["total"]["counts"]["entries"] == sum(
        p["counts"]["entries"] for s in body["sites"] for p in s["periods"])


@pytest.mark.parametrize(("query", "message"), [
    ("?start=janvier", "Mois invalide pour « start »"),
    ("?site=nulle-part", "Site inconnu : nulle-part."),
])
def test_bad_filters_are_refused_in_french(client, as_, url, query, message):
    response = client.get(url + query, headers=as_("qualite"))
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_another_schools_campaign_does_not_exist(client, as_, demo, token_for):
    other = factories.CampaignFactory()
    db.session.commit()
    response = client.get(f"/api/v1/campaigns/{other.id}/indicators", headers=as_("direction"))
    assert response.status_code == 404
    assert response.get_json() == {"error": "Campagne introuvable."}


def test_the_route_is_documented(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/campaigns/{campaign_id}/indicators"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Indicators"}
    assert "Indicators" in document["components"]["schemas"]

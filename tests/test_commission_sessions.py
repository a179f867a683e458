"""The Commission Nationale de Labellisation's sessions on the E2C Var demo at its real dates (AFNOR
audit 24–26/04/2018, commission 17/05/2018): the known session and the assumed ones (3rd Thursday
of February, May and October), their filing deadline 14 days before, shown on the campaign and put
on it as two milestones in one action. Every expected date is written out."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from audit_tracker.clock import set_today
from audit_tracker.extensions import db
from audit_tracker.findings.commission import (
    CommissionError,
    commission_framework,
    filing_title,
    nth_weekday,
    plan_session,
    sessions_between,
    upcoming_sessions,
)
from audit_tracker.models import Campaign, Milestone, MilestoneKind


def campaign_of_demo() -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.name.like("Labellisation E2C%")))


def milestones(campaign: Campaign, kind: MilestoneKind) -> list[Milestone]:
    return [m for m in campaign.milestones if m.kind is kind]


@pytest.fixture
def campaign(app, demo) -> Campaign:
    set_today(app, date(2018, 2, 28))
    return campaign_of_demo()


def test_the_sessions_of_2018_and_their_filing_deadlines(campaign):
    assert nth_weekday(2018, 5, 3, 3) == date(2018, 5, 17)
    framework = commission_framework(campaign)
    assert framework is not None and framework.code == "e2c-label"
    found = sessions_between(framework, date(2018, 1, 1), date(2018, 12, 31))
    assert [(s.on, s.filing_deadline, s.assumed) for s in found] == [
        (date(2018, 2, 15), date(2018, 2, 1), True),
        (date(2018, 5, 17), date(2018, 5, 3), False),  # the E2C Var's own session
        (date(2018, 10, 18), date(2018, 10, 4), True),
    ]
    assert "règle supposée" in found[0].note
    assert found[1].deadline_assumed and "Point d’avancement" in found[1].note


def test_only_the_sessions_filed_after_the_audit_are_proposed(campaign):
    upcoming = upcoming_sessions(campaign, date(2018, 2, 28))
    assert [(s.on, s.filing_deadline) for s in upcoming] == [
        (date(2018, 5, 17), date(2018, 5, 3)),
        (date(2018, 10, 18), date(2018, 10, 4)),
        (date(2019, 2, 21), date(2019, 2, 7)),
    ]


def test_one_action_puts_the_session_and_its_deadline_on_the_campaign(campaign):
    today = date(2018, 2, 28)
    plan_session(db.session, campaign, date(2018, 10, 18), today)
    db.session.commit()
    commission = milestones(campaign, MilestoneKind.NATIONAL_COMMISSION)
    assert [(m.starts_on, m.assumed) for m in commission] == [(date(2018, 10, 18), True)]
    filing = [m for m in campaign.milestones if m.title == filing_title()]
    assert [(m.starts_on, m.assumed) for m in filing] == [(date(2018, 10, 4), True)]
    assert "18/10/2018" in filing[0].notes

    # Back to the known session: the same two milestones move, none is added.
    plan_session(db.session, campaign, date(2018, 5, 17), today)
    db.session.commit()
    assert [(m.starts_on, m.assumed) for m in
            milestones(campaign, MilestoneKind.NATIONAL_COMMISSION)] == [(date(2018, 5, 17), False)]
    assert [m.starts_on for m in campaign.milestones if m.title == filing_title()] == [
        date(2018, 5, 3)]


def test_a_session_filed_before_the_audit_ends_or_in_the_past_is_refused(app, campaign):
    with pytest.raises(CommissionError, match="15/02/2018|01/02/2018"):
        plan_session(db.session, campaign, date(2018, 2, 15), date(2018, 2, 28))
    with pytest.raises(CommissionError, match="26/04/2018"):
        plan_session(db.session, campaign, date(2018, 2, 15), date(2018, 1, 10))
    with pytest.raises(CommissionError, match="18/05/2018"):
        plan_session(db.session, campaign, date(2018, 5, 18), date(2018, 2, 28))


def test_the_campaign_page_lists_the_sessions_and_plans_one(client, auth, demo, campaign):
    auth.login_demo(demo, "qualite")
    page = client.get(f"/campagnes/{campaign.id}").get_data(as_text=True)
    assert page.count('data-testid="commission-session"') == 3
    assert "dossier à déposer le 3 mai 2018" in page
    response = client.post(f"/campagnes/{campaign.id}/commission", data={"seance": "2018-10-18"})
    assert response.status_code == 302
    page = client.get(f"/campagnes/{campaign.id}").get_data(as_text=True)
    assert page.count('data-testid="plan-commission"') == 2
    assert page.count('data-testid="planned-session"') == 1
    db.session.expire_all()
    assert [m.starts_on for m in milestones(campaign_of_demo(),
                                            MilestoneKind.NATIONAL_COMMISSION)] == [
        date(2018, 10, 18)]
    bad = client.post(f"/campagnes/{campaign.id}/commission", data={"seance": "n'importe"},
                      follow_redirects=True)
    assert bad.status_code == 200 and "Choisissez une séance" in bad.get_data(as_text=True)
    auth.logout()
    auth.login_demo(demo, "auditeur")
    page = client.get(f"/campagnes/{campaign.id}").get_data(as_text=True)
    assert 'data-testid="commission-session"' in page and "plan-commission" not in page
    assert client.post(f"/campagnes/{campaign.id}/commission",
                       data={"seance": "2018-10-18"}).status_code == 403


def test_the_importer_refuses_a_session_without_a_day(app):
    from pathlib import Path

    from audit_tracker.referentiel.importer import ImportRefused, parse_yaml

    source = Path(app.root_path, "referentiel", "data", "e2c-label.yaml").read_text("utf-8")
    assert parse_yaml(source).rules["commission"]["sessions"][0]["day"] == "2018-05-17"
    broken = source.replace("      - day: 2018-05-17", "      - on: 2018-05-17")
    with pytest.raises(ImportRefused, match="« day »"):
        parse_yaml(broken)
    with pytest.raises(ImportRefused, match="« months »"):
        parse_yaml(source.replace("months: [2, 5, 10]", "months: [2, 13]"))

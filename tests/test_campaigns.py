"""Campaign pages: timeline and countdown, editing, and one school never seeing another's."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from audit_tracker.campaigns.service import Phase, next_milestone, phase_of, timeline
from audit_tracker.extensions import db
from audit_tracker.models import Milestone, MilestoneKind, Role

from .factories import CampaignFactory, MilestoneFactory


def test_phase_counts_days_to_the_start_and_holds_during_a_multi_day_milestone():
    audit = Milestone(kind=MilestoneKind.INITIAL_AUDIT, title="Audit", starts_on=date(2018, 4, 24),
                      ends_on=date(2018, 4, 26))
    assert phase_of(audit, date(2018, 2, 28)) == (Phase.COMING, 55)
    assert phase_of(audit, date(2018, 4, 25)) == (Phase.ONGOING, 0)
    assert phase_of(audit, date(2018, 4, 27)) == (Phase.DONE, -1)


def test_next_milestone_skips_what_is_over_and_filters_by_kind(app):
    campaign = CampaignFactory()
    MilestoneFactory(campaign=campaign, kind=MilestoneKind.PRE_AUDIT, starts_on=date(2018, 2, 20),
                     ends_on=date(2018, 2, 22))
    MilestoneFactory(campaign=campaign, kind=MilestoneKind.INITIAL_AUDIT)
    MilestoneFactory(campaign=campaign, kind=MilestoneKind.NATIONAL_COMMISSION,
                     starts_on=date(2018, 5, 17), ends_on=None)
    db.session.commit()
    db.session.refresh(campaign)
    today = date(2018, 2, 28)
    assert [e.phase for e in timeline(campaign, today)] == [Phase.DONE, Phase.COMING, Phase.COMING]
    assert next_milestone(campaign, today).milestone.kind is MilestoneKind.INITIAL_AUDIT
    commission = next_milestone(campaign, today, {MilestoneKind.NATIONAL_COMMISSION})
    assert commission.days_left == 78


def test_shifted_demo_campaign_page_counts_55_days_to_the_afnor_audit(client, auth, demo_today):
    auth.login_demo(demo_today, "direction")
    page = client.get("/campagnes/1").get_data(as_text=True)
    start, end = page.index('data-testid="audit-countdown"'), page.index('data-testid="timeline"')
    countdown = page[start:end]
    assert "55 jours" in countdown
    assert "Audit de labellisation AFNOR Certification" in countdown
    assert "Commission Nationale de Labellisation" in page
    assert "Comité stratégique" in page


def test_real_dates_demo_campaign_has_no_countdown_once_the_audit_is_over(client, auth, demo):
    auth.login_demo(demo, "direction")
    page = client.get("/campagnes/1").get_data(as_text=True)
    assert 'data-testid="audit-countdown"' not in page
    assert "Audit de labellisation AFNOR Certification" in page


def test_quality_lead_adds_a_milestone(client, auth, make_user):
    user = make_user(Role.QUALITY_LEAD)
    campaign = CampaignFactory(school=user.school)
    db.session.commit()
    auth.login(user)
    response = client.post(f"/campagnes/{campaign.id}/echeances/nouvelle", data={
        "kind": "commission_nationale", "title": "Commission Nationale de Labellisation",
        "starts_on": "2018-05-17", "place": "Paris",
    })
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert [(m.kind, m.starts_on) for m in campaign.milestones] == [
        (MilestoneKind.NATIONAL_COMMISSION, date(2018, 5, 17))]


def test_milestone_ending_before_it_starts_is_refused_in_french_and_nothing_saved(
        client, auth, make_user):
    user = make_user(Role.QUALITY_LEAD)
    campaign = CampaignFactory(school=user.school)
    db.session.commit()
    auth.login(user)
    response = client.post(f"/campagnes/{campaign.id}/echeances/nouvelle", data={
        "kind": "audit_initial", "title": "Audit", "starts_on": "2018-04-26",
        "ends_on": "2018-04-24",
    })
    assert response.status_code == 200
    assert "La date de fin précède la date de début." in response.get_data(as_text=True)
    db.session.refresh(campaign)
    assert campaign.milestones == []


def test_milestone_is_edited_then_deleted(client, auth, make_user):
    user = make_user(Role.DIRECTOR)
    milestone = MilestoneFactory(campaign=CampaignFactory(school=user.school))
    db.session.commit()
    auth.login(user)
    url = f"/campagnes/{milestone.campaign_id}/echeances/{milestone.id}"
    response = client.post(url + "/modifier", data={
        "kind": "audit_initial", "title": "Audit AFNOR (reporté)", "starts_on": "2018-04-25",
        "ends_on": "",  # a browser sends the emptied field
    })
    assert response.status_code == 302
    db.session.refresh(milestone)
    assert (milestone.title, milestone.starts_on, milestone.ends_on) == (
        "Audit AFNOR (reporté)", date(2018, 4, 25), None)
    milestone_id = milestone.id
    assert client.post(url + "/supprimer").status_code == 302
    assert db.session.scalar(select(func.count()).where(Milestone.id == milestone_id)) == 0


def test_campaign_is_created_with_its_frameworks(client, auth, make_user, referentiels):
    from audit_tracker.referentiel.importer import latest_framework

    user = make_user(Role.QUALITY_LEAD)
    auth.login(user)
    qualiopi = latest_framework(db.session, "qualiopi-v9")
    response = client.post("/campagnes/nouvelle", data={
        "name": "Certification Qualiopi 2026", "framework_ids": [str(qualiopi.id)],
    })
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Certification Qualiopi 2026" in page and "Qualiopi" in page


def test_campaign_without_framework_is_refused(client, auth, make_user, referentiels):
    auth.login(make_user(Role.QUALITY_LEAD))
    response = client.post("/campagnes/nouvelle", data={"name": "Sans référentiel"})
    assert "Choisissez au moins un référentiel." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/campagnes/{id}", "/campagnes/{id}/modifier",
                                  "/api/v1/campaigns/{id}"])
def test_another_schools_campaign_does_not_exist_for_you(client, auth, make_user, path):
    other = CampaignFactory()  # its own school
    user = make_user(Role.DIRECTOR)
    db.session.commit()
    auth.login(user)
    # The API ignores the session cookie: ask it with a token instead.
    headers = {}
    if path.startswith("/api"):
        from audit_tracker.models import ApiToken

        token, clear = ApiToken.issue(user)
        db.session.add(token)
        db.session.commit()
        headers = {"Authorization": f"Bearer {clear}"}
    assert client.get(path.format(id=other.id), headers=headers).status_code == 404


def test_a_milestone_holding_findings_cannot_be_deleted(client, auth, demo):
    """The audit's findings are the school's history: deleting their event is refused."""
    from audit_tracker.findings.service import FindingInput, create_finding
    from audit_tracker.models import Campaign, User

    campaign = db.session.scalar(select(Campaign))
    pre_audit = next(m for m in campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    e2c = next(f for f in campaign.frameworks if f.code == "e2c-label")
    author = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    create_finding(db.session, pre_audit, author, FindingInput(
        framework=e2c, type_code="point_sensible", title="Part QPV insuffisante"))
    db.session.commit()
    auth.login_demo(demo, "qualite")
    url = f"/campagnes/{campaign.id}/echeances/{pre_audit.id}/supprimer"
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "porte 1 constat : l’échéance ne peut pas être supprimée" in page
    assert db.session.scalar(select(func.count()).where(Milestone.id == pre_audit.id)) == 1

"""The référent réseau's page: every school's campaigns, next deadline, share démontrable from
the latest daily snapshot and late actions, for the référent and the admin only, in a number
of SQL statements that does not grow with the network."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from audit_tracker.clock import local_today
from audit_tracker.extensions import db
from audit_tracker.models import (
    Action,
    ActionStatus,
    Campaign,
    IndicatorEntry,
    ReadinessSnapshot,
    Role,
)
from audit_tracker.network.service import network_overview, network_total
from audit_tracker.readiness.snapshots import DAILY

from .factories import (
    CampaignFactory,
    MilestoneFactory,
    SchoolFactory,
    SiteFactory,
    UserFactory,
)


def _school(n: int, *, late: int = 0, share: tuple[int, int] | None = None):
    """A school with one campaign, its audit in 10 + n days, ``late`` late actions and a
    snapshot whose counts give ``share`` (démontrable, applicable)."""
    today = local_today()
    school = SchoolFactory(name=f"École {n:02d}")
    owner = UserFactory(school=school)
    campaign = CampaignFactory(school=school, name=f"Labellisation {n}")
    MilestoneFactory(campaign=campaign, title="Audit AFNOR",
                     starts_on=today + timedelta(days=10 + n),
                     ends_on=today + timedelta(days=12 + n))
    MilestoneFactory(campaign=campaign, title="Pré-audit", starts_on=today - timedelta(days=30),
                     ends_on=None)
    for k in range(late):
        db.session.add(Action(campaign_id=campaign.id, title=f"Action {k}", owner_id=owner.id,
                              created_by_id=owner.id, due_on=today - timedelta(days=k + 1),
                              status=ActionStatus.TODO))
    db.session.add(Action(campaign_id=campaign.id, title="Faite", owner_id=owner.id,
                          created_by_id=owner.id, due_on=today - timedelta(days=3),
                          status=ActionStatus.DONE))
    if share:
        for day, counts in ((today - timedelta(days=2), {"demontrable": 0, "a_risque": 9}),
                            (today - timedelta(days=1), {"demontrable": share[0],
                                                         "preuve_manquante": share[1] - share[0],
                                                         "non_applicable": 5})):
            db.session.add(ReadinessSnapshot(campaign_id=campaign.id, kind=DAILY, taken_on=day,
                                             as_of=today, counts=counts, criteria=[],
                                             sha256="0" * 64))
    db.session.commit()
    return school


def test_the_overview_gives_each_school_its_deadline_share_and_late_actions(app):
    _school(1, late=2, share=(3, 12))
    _school(2)
    today = local_today()
    first, second = network_overview(db.session, today)
    line = first.campaigns[0]
    assert first.school.name == "École 01"
    assert line.next_milestone.title == "Audit AFNOR" and line.days_left == 11
    assert line.share_demonstrable == pytest.approx(0.25)  # the latest snapshot, N/A left out
    assert line.snapshot_day == today - timedelta(days=1)
    assert line.late_actions == 2  # the done one is not late
    other = second.campaigns[0]
    assert other.share_demonstrable is None and other.late_actions == 0


def _statements(app, today) -> int:
    counted = []

    def count(*_args):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        network_overview(db.session, today)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(counted)


def test_the_overview_costs_the_same_statements_for_one_school_or_twelve(app):
    _school(1, late=1, share=(1, 2))
    small = _statements(app, local_today())
    for n in range(2, 13):
        _school(n, late=n % 3, share=(n, 20))
    db.session.expire_all()
    assert _statements(app, local_today()) == small == 7


def _page_statements(client) -> int:
    """Statements of one GET /reseau, after a first one that warms every cache."""
    client.get("/reseau")
    counted = []

    def count(*_args):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/reseau")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(counted)


def _key_figures(school, sites: int, months: int) -> None:
    from audit_tracker.indicators.service import month_start

    first = month_start(local_today())
    for k in range(sites):
        site = SiteFactory(school=school)
        db.session.flush()
        for m in range(months):
            index = first.year * 12 + first.month - 1 - m
            db.session.add(IndicatorEntry(school_id=school.id, site_id=site.id,
                                          period=date(index // 12, index % 12 + 1, 1),
                                          entries=10 + k, from_qpv=2, without_diploma=8,
                                          exits=5, exits_employment=2))
    db.session.commit()


def test_the_referents_page_costs_the_same_for_the_smallest_and_the_largest_school(app, client,
                                                                                   auth):
    """The page with the smallest school alone (one site, one month of figures, one late
    action) costs as many statements as with the largest beside it (6 sites, 24 months, 40 late
    actions): nothing is loaded school by school or row by row."""
    smallest = _school(1, late=1, share=(1, 2))
    _key_figures(smallest, sites=1, months=1)
    referent = UserFactory(school=SchoolFactory(name="Réseau E2C France"),
                           role=Role.NETWORK_REFERENT)
    db.session.commit()
    auth.login(referent)
    small = _page_statements(client)
    largest = _school(2, late=40, share=(30, 60))
    _key_figures(largest, sites=6, months=24)
    db.session.expire_all()
    large = _page_statements(client)
    body = client.get("/reseau").get_data(as_text=True)
    assert "École 01" in body and "École 02" in body and 'text-bg-danger">40<' in body
    assert large == small, (small, large)


@pytest.mark.parametrize(("role", "allowed"), [
    (Role.NETWORK_REFERENT, True), (Role.ADMIN, True), (Role.DIRECTOR, False),
    (Role.QUALITY_LEAD, False), (Role.AUDITOR, False)])
def test_the_network_page_is_for_the_referent_and_the_admin(app, client, auth, role, allowed):
    _school(1, late=2, share=(3, 12))
    _school(2)
    home = SchoolFactory(name="Réseau E2C France")
    user = UserFactory(school=home, role=role)
    db.session.commit()
    auth.login(user)
    response = client.get("/reseau")
    if not allowed:
        assert response.status_code == 403
        return
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.count('data-testid="network-row"') == 3  # two campaigns, one school without
    assert "École 01" in body and "École 02" in body and "Aucune campagne." in body
    assert "E2C " in body  # the short names lead each row
    assert "25 %" in body and 'text-bg-danger">2<' in body
    assert ">Réseau</a>" in body  # in the navigation


def test_the_referent_reads_but_never_edits_proofs(app, client, auth):
    referent = UserFactory(school=SchoolFactory(), role=Role.NETWORK_REFERENT)
    db.session.commit()
    auth.login(referent)
    assert client.get("/preuves/").status_code == 200
    assert client.get("/preuves/nouvelle").status_code == 403
    assert client.get("/comptes").status_code == 403
    assert client.get("/ecoles").status_code == 403


def test_the_network_total_of_key_figures_is_weighted_and_each_school_has_its_own(app, client,
                                                                                 auth):
    """40 entries of which 4 from the QPV (10 %) and 10 of which 5 (50 %): the network is 9/50 =
    18 %, not the mean of the percentages (30 %); months outside the 12 are left out."""
    from audit_tracker.indicators.service import month_start

    today = local_today()
    big, small = _school(1), _school(2)
    this_month = month_start(today)
    sites = {school.id: SiteFactory(school=school) for school in (big, small)}
    db.session.flush()
    for school, entries, qpv in ((big, 40, 4), (small, 10, 5)):
        db.session.add(IndicatorEntry(school_id=school.id, site_id=sites[school.id].id,
                                      period=this_month, entries=entries, from_qpv=qpv,
                                      without_diploma=entries, exits=4, exits_employment=1))
    db.session.add(IndicatorEntry(school_id=big.id, site_id=sites[big.id].id,
                                  period=date(this_month.year - 2, this_month.month, 1),
                                  entries=100, from_qpv=100))
    referent = UserFactory(school=SchoolFactory(name="Réseau E2C France"),
                           role=Role.NETWORK_REFERENT)
    db.session.commit()
    lines = network_overview(db.session, today)
    entries = {line.school.id: line.counts.entries for line in lines}
    assert (entries[big.id], entries[small.id], len(lines)) == (40, 10, 3)
    assert network_total(lines).entries == 50 and network_total(lines).from_qpv == 9
    auth.login(referent)
    body = client.get("/reseau").get_data(as_text=True)
    total = body[body.index('data-testid="network-total"'):]
    assert "18 %" in total.split("</tr>")[0] and "30 %" not in total.split("</tr>")[0]
    assert "10 %" in body and "50 %" in body


def test_a_school_sees_its_figures_beside_the_network_total_never_another_school(app, client,
                                                                               auth):
    from audit_tracker.indicators.service import month_start

    this_month = month_start(local_today())
    mine, other = _school(1), _school(2)
    other.name = "École voisine"
    sites = {}
    for school, code, entries, qpv in ((mine, "MINE", 40, 4), (other, "VOISIN", 10, 5)):
        sites[school.id] = SiteFactory(school=school, code=code, name=f"Site {code}")
        db.session.flush()
        db.session.add(IndicatorEntry(school_id=school.id, site_id=sites[school.id].id,
                                      period=this_month, entries=entries, from_qpv=qpv,
                                      without_diploma=entries))
    quality = UserFactory(school=mine, role=Role.QUALITY_LEAD)
    db.session.commit()
    campaign_id = db.session.scalar(select(Campaign.id).where(Campaign.school_id == mine.id))
    auth.login(quality)
    body = client.get(f"/campagnes/{campaign_id}/indicateurs/").get_data(as_text=True)
    network = body[body.index('data-testid="row-network"'):].split("</tr>")[0]
    assert "Réseau (total pondéré de 2 écoles)" in network
    assert ">50<" in network and "18 %" in network  # 9 / 50, weighted
    assert "Site VOISIN" not in body and "École voisine" not in body and ">10<" not in body
    # Alone on the instance, a school sees no network row.
    db.session.delete(db.session.get(IndicatorEntry, 2))
    db.session.commit()
    alone = client.get(f"/campagnes/{campaign_id}/indicateurs/").get_data(as_text=True)
    assert 'data-testid="row-network"' not in alone


def test_the_referent_records_the_findings_of_the_visits_it_leads(app, client, auth, referentiels):
    """From /reseau to a school's pré-audit: the référent enters a finding there, numbered after
    the school's own; an audit's findings, a quality lead and a stray id are refused."""
    from audit_tracker.models import Finding, Framework, Milestone, MilestoneKind

    school = _school(1)
    campaign = db.session.scalar(select(Campaign).where(Campaign.school_id == school.id))
    framework = db.session.scalar(select(Framework).where(Framework.code == "e2c-label"))
    campaign.frameworks = [framework]
    pre_audit = next(m for m in campaign.milestones if m.title == "Pré-audit")
    pre_audit.kind = MilestoneKind.PRE_AUDIT
    audit = next(m for m in campaign.milestones if m.title == "Audit AFNOR")
    referent = UserFactory(school=SchoolFactory(name="Réseau E2C France"),
                           role=Role.NETWORK_REFERENT)
    quality = UserFactory(school=school, role=Role.QUALITY_LEAD)
    db.session.commit()
    url = f"/reseau/campagnes/{campaign.id}/jalons/{pre_audit.id}"
    auth.login(referent)
    assert url in client.get("/reseau").get_data(as_text=True)  # reached from the network page
    page = client.get(url)
    assert page.status_code == 200 and "Aucun constat" in page.get_data(as_text=True)
    type_code = framework.finding_types[0].code
    answer = client.post(url, data={"framework_id": framework.id, "type_code": type_code,
                                    "title": "Accueil non tracé", "site_id": 0},
                         follow_redirects=True)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Constat n°1 enregistré" in body
    finding = db.session.scalar(select(Finding).where(Finding.milestone_id == pre_audit.id))
    assert finding.created_by_id == referent.id and finding.title == "Accueil non tracé"
    # Refused, nothing recorded: no title; another kind of milestone; another campaign's id.
    assert client.post(url, data={"framework_id": framework.id, "type_code": type_code,
                                  "title": ""}).status_code == 400
    assert client.get(f"/reseau/campagnes/{campaign.id}/jalons/{audit.id}").status_code == 404
    assert client.get(f"/reseau/campagnes/{campaign.id + 99}/jalons/{pre_audit.id}"
                      ).status_code == 404
    assert db.session.get(Milestone, audit.id) is not None
    assert len(db.session.scalars(select(Finding)).all()) == 1
    # Each type once: the scales of the campaign's référentiels, one group each, the other
    # groups hidden by the page's script (« Point fort » is on both scales).
    campaign.frameworks = list(db.session.scalars(select(Framework)))
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    groups = re.findall(r'<optgroup label="[^"]*" data-framework="\d+">(.*?)</optgroup>', html,
                        re.S)
    assert len(groups) == 2 and "finding-scale.js" in html
    for group in groups:
        labels = re.findall(r">([^<]+)</option>", group)
        assert labels and len(labels) == len(set(labels)), labels
    # Its proofs stay read-only to the référent; the school's quality lead has its own page.
    assert client.get("/preuves/nouvelle").status_code == 403
    auth.logout()
    auth.login(quality)
    assert client.get(url).status_code == 403

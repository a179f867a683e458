"""The readiness pages and API over the E2C Var demo: the dashboard, a criterion and why, the
decisions on it, the go / no-go checklist, the signature frozen with its hash, and the number of
SQL statements, which must not grow with the campaign."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from audit_tracker.clock import local_today
from audit_tracker.demo_story import load_demo_story
from audit_tracker.evidence.service import link_criterion, review
from audit_tracker.extensions import db
from audit_tracker.findings.service import ActionInput, create_action
from audit_tracker.models import (
    Action,
    ActionStatus,
    Campaign,
    CampaignCriterion,
    Criterion,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Finding,
    FindingType,
    Framework,
    Meeting,
    MeetingKind,
    MilestoneKind,
    ReadinessSnapshot,
    ReviewStatus,
    Role,
    User,
)
from audit_tracker.readiness.dashboard import go_no_go
from audit_tracker.readiness.rules import State, readiness_of
from audit_tracker.readiness.snapshots import DAILY, freeze
from audit_tracker.storage import upload_tmp_dir
from audit_tracker.web import page_cache

from . import factories


@pytest.fixture
def story(app, demo_today, storage):
    """The shifted demo with its story: proofs, findings, two late actions, snapshots."""
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=local_today())
    return demo_today


def campaign() -> Campaign:
    return db.session.scalar(select(Campaign).limit(1))


def milestone(kind: MilestoneKind):
    return next(m for m in campaign().milestones if m.kind is kind)


def e2c(code: str) -> Criterion:
    return db.session.scalar(select(Criterion).join(Framework).where(
        Framework.code == "e2c-label", Criterion.code == code))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_dashboard_answers_the_directors_question(client, auth, story):
    auth.login_demo(story, "direction")
    page = text_of(client.get(f"/campagnes/{campaign().id}/preparation"))
    audit = milestone(MilestoneKind.INITIAL_AUDIT)
    assert f"État au {audit.starts_on.day}" in page  # the next audit by default
    assert "J-55" in page and "J-78" in page  # days left to the audit and the commission
    # Late actions by owner, with their days.
    assert "Classer chaque preuve par critère" in page and "9 jours de retard" in page
    assert "5 jours de retard" in page
    # The proof valid today that will not reach the audit, and the open pré-audit findings.
    assert "Tableau de bord des entrées et sorties" in page and "avant l’audit" in page
    assert "Pré-audit n°5" in page
    # Indispensable criteria come first in the list of what to treat.
    table = page[page.index('data-testid="criteria"'):]
    assert table.index(">A3<") < table.index(">A4<")
    # Server-drawn charts, inline: no chart script.
    assert page.count("<svg") == 2 and "<title>État de préparation" in page
    assert not re.search(r'<script[^>]*\bsrc="(https?:)?//', page)  # no chart script from elsewhere
    # The week's change computed from the story's snapshot of a week ago.
    assert "Depuis la semaine dernière" in page and "→" in page


def test_reference_date_is_selectable_and_a_bad_one_is_said(client, auth, story):
    auth.login_demo(story, "direction")
    commission = milestone(MilestoneKind.NATIONAL_COMMISSION)
    page = text_of(client.get(f"/campagnes/{campaign().id}/preparation"
                              f"?date={commission.starts_on.isoformat()}"))
    assert f"État au {commission.starts_on.day}" in page
    page = text_of(client.get(f"/campagnes/{campaign().id}/preparation?date=31-02-2018"))
    assert "Date de référence illisible" in page


def test_criterion_page_says_why_it_is_at_risk(client, auth, story):
    auth.login_demo(story, "direction")
    readiness = readiness_of(db.session, campaign(),
                             milestone(MilestoneKind.INITIAL_AUDIT).starts_on, today=local_today())
    at_risk = readiness.in_state(State.AT_RISK)
    assert at_risk, "the story leaves criteria at risk"
    page = text_of(client.get(
        f"/campagnes/{campaign().id}/preparation/criteres/{at_risk[0].criterion_id}"))
    assert "À risque" in page
    for reason in at_risk[0].reasons:
        assert str(reason) in page


def test_not_applicable_needs_a_reason_and_keeps_the_typed_argument(client, auth, story):
    auth.login_demo(story, "qualite")
    criterion = e2c("B4")
    url = f"/campagnes/{campaign().id}/preparation/criteres/{criterion.id}"
    response = client.post(url, data={"argument": "Notre **argumentaire**", "reason": ""})
    assert response.status_code == 400
    assert "Dites pourquoi ce critère ne s’applique pas" in text_of(response)
    assert "Notre **argumentaire**" in text_of(response)
    assert db.session.scalar(select(CampaignCriterion).where(
        CampaignCriterion.criterion_id == criterion.id)) is None

    response = client.post(url, data={"argument": "Notre **argumentaire**",
                                      "reason": "Pas d’internat à l’E2C Var"})
    assert response.status_code == 302
    readiness = readiness_of(db.session, campaign(), local_today())
    assert readiness.of(criterion.id).state is State.NOT_APPLICABLE
    page = text_of(client.get(url))
    assert "Non applicable : Pas d’internat à l’E2C Var" in page


def test_stale_decision_is_refused_and_loses_nothing(client, auth, story):
    auth.login_demo(story, "qualite")
    criterion = e2c("A3")  # the story wrote its argument
    url = f"/campagnes/{campaign().id}/preparation/criteres/{criterion.id}"
    decision = db.session.scalar(select(CampaignCriterion).where(
        CampaignCriterion.criterion_id == criterion.id))
    seen, before = decision.lock_version, decision.argument
    assert client.post(url, data={"argument": "Première", "applicable": "y",
                                  "lock_version": seen}).status_code == 302
    response = client.post(url, data={"argument": "Seconde", "applicable": "y",
                                      "lock_version": seen})
    assert response.status_code == 409
    assert "modifié par quelqu’un d’autre" in text_of(response)
    db.session.expire_all()
    kept = db.session.get(CampaignCriterion, decision.id)
    assert kept.argument == "Première" and before != "Première"


def test_site_exemption_is_added_and_removed(client, auth, story):
    auth.login_demo(story, "qualite")
    criterion = e2c("D4")
    site = next(s for s in campaign().school.sites if s.code == "dracenie")
    base = f"/campagnes/{campaign().id}/preparation/criteres/{criterion.id}"
    assert client.post(base + "/sites", data={"site_id": site.id, "reason": ""}).status_code == 400
    assert client.post(base + "/sites", data={"site_id": site.id,
                                              "reason": "Site ouvert en octobre"}
                       ).status_code == 302
    readiness = readiness_of(db.session, campaign(), local_today(), site_id=site.id)
    assert readiness.of(criterion.id).state is State.NOT_APPLICABLE
    page = text_of(client.get(base))
    assert "Site Dracénie : Site ouvert en octobre" in page
    again = client.post(base + "/sites", data={"site_id": site.id, "reason": "bis"})
    assert "déjà exempté" in text_of(again)
    from audit_tracker.models import SiteExemption

    exemption = db.session.scalar(select(SiteExemption))
    assert client.post(f"{base}/sites/{exemption.id}/supprimer").status_code == 302
    assert db.session.scalar(select(SiteExemption)) is None


def test_go_no_go_lists_what_blocks_and_prints(client, auth, story):
    auth.login_demo(story, "direction")
    audit = milestone(MilestoneKind.INITIAL_AUDIT)
    page = text_of(client.get(f"/campagnes/{campaign().id}/preparation/go-no-go/{audit.id}"))
    assert "NO-GO" in page
    assert 'data-code="retards" data-ok="non"' in page and "9 jours de retard" in page
    assert 'data-code="nc_majeures" data-ok="oui"' in page
    assert 'data-code="indispensables" data-ok="non"' in page
    assert "data-print" in page and "print.js" in page  # the button, its script a file (CSP)


def test_go_when_every_rule_holds(app, referentiels, make_user, make_evidence):
    quality = make_user(Role.QUALITY_LEAD)
    e2c_label = db.session.scalar(select(Framework).where(Framework.code == "e2c-label"))
    the_campaign = factories.CampaignFactory(school=quality.school, frameworks=[e2c_label])
    today = date(2018, 2, 28)
    audit = factories.MilestoneFactory(campaign=the_campaign)
    db.session.commit()
    for criterion in [c for c in e2c_label.criteria if c.indispensable]:
        proof = make_evidence(quality, name=f"{criterion.code}.pdf",
                              valid_until=date(2019, 1, 1))
        link_criterion(db.session, proof, criterion, "", quality)
        review(db.session, proof, quality, ReviewStatus.VALIDATED)
    db.session.commit()
    checklist = go_no_go(db.session, the_campaign, audit, today)
    assert checklist.go, [i for i in checklist.items if not i.ok]

    create_action(db.session, the_campaign, quality, ActionInput(
        title="Relancer les conventions", owner=quality, due_on=today - timedelta(days=3)))
    checklist = go_no_go(db.session, the_campaign, audit, today)
    assert not checklist.go
    late = next(i for i in checklist.items if i.code == "retards")
    assert late.details == [f"Relancer les conventions · {quality.full_name} · 3 jours de retard"]


def test_signature_is_frozen_and_stays_viewable_after_changes(client, auth, story,
                                                              make_evidence):
    auth.login_demo(story, "direction")
    the_campaign = campaign()
    audit = milestone(MilestoneKind.INITIAL_AUDIT)
    response = client.post(f"/campagnes/{the_campaign.id}/preparation/signatures", data={
        "as_of": audit.starts_on.isoformat(), "milestone_id": audit.id,
        "comment": "Prêts, sous réserve des deux actions en retard."})
    assert response.status_code == 302
    frozen_url = response.location
    page = text_of(client.get(frozen_url))
    assert "Direction de l’E2C Var" in page and "intègre" in page
    assert "Aucun critère n’a changé d’état" in page

    # A proof is validated on A3 after the signature: the frozen state does not move.
    quality = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    proof = make_evidence(quality, name="moyens.pdf")
    link_criterion(db.session, proof, e2c("A3"), "", quality)
    # Four-eyes (on in the demo): the director decides on the quality lead's proof.
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    review(db.session, proof, director, ReviewStatus.VALIDATED)
    db.session.commit()
    page = text_of(client.get(frozen_url))
    assert "Depuis la signature, 1 critère a changé d’état" in page
    row = page[page.index('data-code="A3"'):]
    assert "Preuve manquante" in row[:1500]

    # Editing the stored JSON breaks the hash, and the page says so.
    snapshot = db.session.scalar(select(ReadinessSnapshot).where(
        ReadinessSnapshot.kind == "signature"))
    snapshot.criteria = [{**c, "state": "demontrable"} for c in snapshot.criteria]
    db.session.commit()
    assert "altéré" in text_of(client.get(frozen_url))


def test_only_the_director_signs(client, auth, story):
    auth.login_demo(story, "qualite")
    response = client.post(f"/campagnes/{campaign().id}/preparation/signatures",
                           data={"as_of": "2018-04-24", "milestone_id": 0})
    assert response.status_code == 403
    assert db.session.scalar(select(ReadinessSnapshot).where(
        ReadinessSnapshot.kind == "signature")) is None


def test_readiness_api(client, story, token_for):
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    headers = token_for(director)
    the_campaign = campaign()
    audit = milestone(MilestoneKind.INITIAL_AUDIT)
    response = client.get(f"/api/v1/campaigns/{the_campaign.id}/readiness"
                          f"?as_of={audit.starts_on.isoformat()}", headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["as_of"] == audit.starts_on.isoformat() and data["reference"] == "audit"
    summary = data["summary"]
    assert sum(summary["counts"].values()) == len(data["criteria"])
    assert summary["share_demonstrable"] == pytest.approx(
        summary["counts"]["demontrable"] / summary["applicable"], abs=1e-4)
    a3 = next(c for c in data["criteria"] if c["code"] == "A3")
    assert a3["state"] == "preuve_manquante" and a3["indispensable"] is True
    assert a3["reasons"] == [{"code": "aucune_preuve", "text": "Aucune preuve liée"}]

    bad = client.get(f"/api/v1/campaigns/{the_campaign.id}/readiness?as_of=24/04/2018",
                     headers=headers)
    assert bad.status_code == 400 and "AAAA-MM-JJ" in bad.get_json()["error"]
    site = client.get(f"/api/v1/campaigns/{the_campaign.id}/readiness?site=nulle-part",
                      headers=headers)
    assert site.status_code == 400 and "Site inconnu" in site.get_json()["error"]


# --- the number of SQL statements does not grow with the campaign ----------------------------

def _grow(the_campaign: Campaign, times: int) -> None:
    """Add ``times`` × (a proof linked to a criterion, a finding, a late action, a meeting
    without minutes, a daily snapshot) to the campaign."""
    today = local_today()
    owners = list(db.session.scalars(select(User).where(
        User.school_id == the_campaign.school_id)))
    # Taken in turn from each référentiel, in a fixed order: the findings span every scale.
    by_framework = [list(db.session.scalars(select(Criterion).where(
        Criterion.framework_id == framework.id).order_by(Criterion.id)))
        for framework in sorted(the_campaign.frameworks, key=lambda f: f.id)]
    criteria = [c for row in zip(*by_framework, strict=False) for c in row]
    pre_audit = next(m for m in the_campaign.milestones if m.kind is MilestoneKind.PRE_AUDIT)
    minor = {t.framework_id: t for t in db.session.scalars(
        select(FindingType).where(FindingType.code == "nc_mineure"))}
    start = (db.session.scalar(select(Finding.number).where(
        Finding.milestone_id == pre_audit.id).order_by(Finding.number.desc()).limit(1)) or 0)
    for i in range(times):
        owner = owners[i % len(owners)]
        criterion = criteria[i % len(criteria)]
        proof = Evidence(school_id=the_campaign.school_id, owner=owner, kind=EvidenceKind.LINK,
                         title=f"Lien {i}", url=f"https://exemple.fr/{i}",
                         status=ReviewStatus.VALIDATED, valid_until=today + timedelta(days=i))
        db.session.add(proof)
        db.session.add(EvidenceLink(evidence=proof, criterion=criterion, created_by=owner))
        finding = Finding(milestone=pre_audit, framework_id=criterion.framework_id,
                          finding_type=minor[criterion.framework_id], number=start + i + 1,
                          title=f"Constat {i}", created_by=owner, criteria=[criterion])
        db.session.add(finding)
        db.session.add(Action(campaign=the_campaign, title=f"Action {i}", owner=owner,
                              created_by=owner, due_on=today - timedelta(days=i + 1),
                              status=ActionStatus.TODO, findings=[finding],
                              criteria=[criterion]))
        db.session.add(Meeting(campaign=the_campaign, kind=MeetingKind.OTHER,
                               title=f"Réunion {i}", held_on=today - timedelta(days=i + 1)))
        readiness = readiness_of(db.session, the_campaign, today)
        snapshot = freeze(readiness, DAILY, today - timedelta(days=i + 1))
        db.session.add(snapshot)
    db.session.commit()


def _statements(app, client, url: str, **kwargs) -> int:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    engine = db.engine
    client.get(url, **kwargs)  # warm-up: today's snapshot is taken once
    page_cache.clear(app)  # the page as computed, not as served from the cache
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url, **kwargs)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    return count


def test_statement_count_does_not_grow_with_the_campaign(app, client, auth, story, token_for):
    auth.login_demo(story, "direction")
    the_campaign = campaign()
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    headers = token_for(director)
    dashboard = f"/campagnes/{the_campaign.id}/preparation"
    api = f"/api/v1/campaigns/{the_campaign.id}/readiness"

    _grow(the_campaign, 3)
    small = (_statements(app, client, dashboard), _statements(app, client, api, headers=headers))
    _grow(the_campaign, 27)  # ten times the first growth
    large = (_statements(app, client, dashboard), _statements(app, client, api, headers=headers))
    assert large == small, (small, large)
    # The API's budget holds the bearer token's checks (expiry, its account's session rules)
    # and the throttled note of the token's use with its journal entry: constant per request.
    assert small[0] < 40 and small[1] < 20, small


def _smallest_school(the_campaign: Campaign) -> User:
    """A school of one site with one bare campaign on the same référentiels: its director."""
    school = factories.SchoolFactory(name="Petite école")
    factories.SiteFactory(school=school)
    small = factories.CampaignFactory(school=school, frameworks=list(the_campaign.frameworks),
                                      categories=list(the_campaign.categories))
    factories.MilestoneFactory(campaign=small, kind=MilestoneKind.PRE_AUDIT, title="Pré-audit",
                               starts_on=local_today() - timedelta(days=30), ends_on=None)
    factories.MilestoneFactory(campaign=small, starts_on=local_today() + timedelta(days=40),
                               ends_on=local_today() + timedelta(days=42))
    director = factories.UserFactory(school=school, role=Role.DIRECTOR)
    db.session.commit()
    return director


def test_statement_count_is_the_same_for_the_smallest_and_the_largest_school(
        app, client, auth, story, token_for):
    """A school of one site with one proof, finding, late action, meeting and snapshot costs the
    dashboard and the API as many statements as the demo's four sites grown by thirty of each."""
    the_campaign = campaign()
    _grow(the_campaign, 30)
    director = _smallest_school(the_campaign)
    small_campaign = db.session.scalar(select(Campaign).where(
        Campaign.school_id == director.school_id))
    auth.login(director)

    def small_school() -> tuple[int, int]:
        return (_statements(app, client, f"/campagnes/{small_campaign.id}/preparation"),
                _statements(app, client, f"/api/v1/campaigns/{small_campaign.id}/readiness",
                            headers=token_for(director)))

    empty = small_school()
    _grow(small_campaign, 1)  # one of each: the smallest school that has begun
    small_campaign.meetings[0].site = small_campaign.school.sites[0]  # as the demo's have
    db.session.commit()
    small = small_school()
    auth.logout()
    auth.login_demo(story, "direction")
    demo_director = db.session.scalar(select(User).where(
        User.email == "direction@e2c-var.example"))
    large = (_statements(app, client, f"/campagnes/{the_campaign.id}/preparation"),
             _statements(app, client, f"/api/v1/campaigns/{the_campaign.id}/readiness",
                         headers=token_for(demo_director)))
    assert large == small, (small, large)
    # Empty, a school costs less: a relationship with nothing to load issues no statement.
    assert empty[0] <= small[0] and empty[1] <= small[1], (empty, small)


def test_snapshot_command_replaces_the_days_snapshot(runner, story):
    result = runner.invoke(args=["readiness", "snapshot"])
    assert result.exit_code == 0, result.output
    assert "critère(s) démontrable(s)" in result.output
    daily = db.session.scalars(select(ReadinessSnapshot).where(
        ReadinessSnapshot.kind == DAILY, ReadinessSnapshot.taken_on == local_today())).all()
    assert len(daily) == 1
    result = runner.invoke(args=["readiness", "snapshot"])
    assert result.exit_code == 0
    assert len(db.session.scalars(select(ReadinessSnapshot).where(
        ReadinessSnapshot.kind == DAILY, ReadinessSnapshot.taken_on == local_today())).all()) == 1
    bad = runner.invoke(args=["readiness", "snapshot", "--date", "hier"])
    assert bad.exit_code != 0 and "AAAA-MM-JJ" in bad.output


def test_campaign_categories_decide_which_criteria_apply(client, auth, story):
    auth.login_demo(story, "qualite")
    the_campaign = campaign()
    cfa_only = db.session.scalar(select(Criterion).join(Framework).where(
        Framework.code == "qualiopi-v9", Criterion.code == "14"))
    assert readiness_of(db.session, the_campaign, local_today()).of(cfa_only.id).state \
        is State.NOT_APPLICABLE  # the demo runs actions de formation only
    form = client.get(f"/campagnes/{the_campaign.id}/modifier")
    assert "CFA — Actions de formation par apprentissage" in text_of(form)
    response = client.post(f"/campagnes/{the_campaign.id}/modifier", data={
        "name": the_campaign.name, "description": the_campaign.description,
        "framework_ids": [f.id for f in the_campaign.frameworks], "categories": ["AF", "CFA"]})
    assert response.status_code == 302
    db.session.expire_all()
    the_campaign = campaign()
    assert the_campaign.categories == ["AF", "CFA"]
    readiness = readiness_of(db.session, the_campaign, local_today())
    assert readiness.of(cfa_only.id).state is State.MISSING
    refused = client.post(f"/campagnes/{the_campaign.id}/modifier", data={
        "name": the_campaign.name, "framework_ids": [f.id for f in the_campaign.frameworks],
        "categories": ["XYZ"]})
    assert refused.status_code == 200 and "Not a valid choice" not in text_of(refused)
    db.session.expire_all()
    assert campaign().categories == ["AF", "CFA"]


def test_readiness_seen_from_one_site(client, auth, story):
    from audit_tracker.models import SiteExemption

    auth.login_demo(story, "direction")
    the_campaign = campaign()
    dracenie = next(s for s in the_campaign.school.sites if s.code == "dracenie")
    db.session.add(SiteExemption(campaign=the_campaign, criterion=e2c("D4"), site=dracenie,
                                 reason="Site ouvert en octobre"))
    db.session.commit()
    base = f"/campagnes/{the_campaign.id}/preparation"
    page = text_of(client.get(f"{base}/criteres?site=dracenie&etat=non_applicable"))
    assert "Vu du site Site Dracénie" in page
    row = page[page.index('data-code="D4"'):]
    assert "Non applicable au site Site Dracénie : Site ouvert en octobre" in row[:2000]
    school_wide = text_of(client.get(f"{base}/criteres?etat=non_applicable"))
    assert 'data-code="D4"' not in school_wide
    dashboard = text_of(client.get(f"{base}?site=dracenie"))
    assert "Critères vus du site Site Dracénie" in dashboard
    assert "site=dracenie" in dashboard  # the links keep the site
    unknown = text_of(client.get(f"{base}?site=nulle-part"))
    assert "Site inconnu : nulle-part" in unknown


def test_site_manager_is_told_a_counted_proof_is_another_sites(client, auth, story):
    """Issue 13: a site manager told a proof counts must learn it is another site's, not
    meet « Aucune preuve liée » beneath it."""
    the_campaign = campaign()
    cavem = next(s for s in the_campaign.school.sites if s.code == "cavem")
    readiness = readiness_of(db.session, the_campaign,
                             milestone(MilestoneKind.INITIAL_AUDIT).starts_on, today=local_today())
    alone = next(c for c in readiness.criteria if len(c.evidence_ids) == 1)
    pair = next(c for c in readiness.criteria if len(c.evidence_ids) == 2
                and not set(c.evidence_ids) & set(alone.evidence_ids))
    for evidence_id in alone.evidence_ids + pair.evidence_ids:
        db.session.get(Evidence, evidence_id).site_id = cavem.id
    db.session.commit()
    base = f"/campagnes/{the_campaign.id}/preparation"

    auth.login_demo(story, "tpm")
    page = text_of(client.get(f"{base}/criteres/{alone.criterion_id}"))
    verdict = page[page.index('data-testid="verdict"'):page.index('data-testid="proofs"')]
    assert ("1 preuve d’un autre site (Site CAVEM (Var Estérel Méditerranée)), comptée ici"
            in verdict)
    proofs = page[page.index('data-testid="proofs"'):page.index('data-testid="findings"')]
    assert "Aucune preuve liée." not in proofs  # no contradiction with the reason above
    assert "Seul son site peut l’ouvrir : elle n’est pas listée." in proofs
    assert f"/preuves/{alone.evidence_ids[0]}" not in page  # no link to a refusal
    refused = client.get(f"/preuves/{alone.evidence_ids[0]}")
    assert refused.status_code == 403 and "Site CAVEM" in text_of(refused)
    listed = text_of(client.get(f"{base}/criteres"))
    row = listed[listed.index(f'data-code="{pair.code}"'):]
    row = row[:row.index("</tr>")]
    assert "2 preuves d’autres sites (Site CAVEM (Var Estérel Méditerranée)), comptées ici" in row

    auth.logout()
    auth.login_demo(story, "direction")
    page = text_of(client.get(f"{base}/criteres/{alone.criterion_id}"))
    assert "d’un autre site" not in page  # the director sees every site's proofs

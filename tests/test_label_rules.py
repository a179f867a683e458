"""The label's rules by kind of event, on the E2C Var demo at its real dates (pré-audit
20–22/02/2018, AFNOR audit 24–26/04/2018, commission 17/05/2018): accompaniment findings due
before the audit, certification findings counted from the report's notification, the NC mineure
that becomes majeure at the next audit (and the go / no-go that fails on it), and Qualiopi's
« 5 NC mineures = 1 NC majeure ». Every expected date is written out.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from audit_tracker.clock import set_today
from audit_tracker.demo_story import load_demo_story
from audit_tracker.extensions import db
from audit_tracker.findings.deadlines import ScaleRules, compute_deadline, minors_as_majors
from audit_tracker.findings.service import (
    FindingInput,
    counts_as_major,
    create_finding,
    deadline_for,
    escalation_of,
    minors_rule_hits,
    refresh_deadlines,
)
from audit_tracker.models import (
    Campaign,
    Finding,
    FindingStatus,
    Milestone,
    MilestoneKind,
    User,
)
from audit_tracker.readiness.dashboard import go_no_go
from audit_tracker.referentiel.importer import latest_framework
from audit_tracker.storage import upload_tmp_dir


def campaign_of_demo() -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.name.like("Labellisation E2C%")))


def event(campaign: Campaign, kind: MilestoneKind) -> Milestone:
    return next(m for m in campaign.milestones if m.kind is kind)


def quality_lead() -> User:
    return db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))


def record(milestone: Milestone, type_code: str, framework_code: str = "e2c-label",
           title: str = "Constat") -> Finding:
    finding = create_finding(db.session, milestone, quality_lead(), FindingInput(
        framework=latest_framework(db.session, framework_code), type_code=type_code,
        title=title))
    db.session.commit()
    return finding


@pytest.fixture
def campaign(demo) -> Campaign:
    return campaign_of_demo()


@pytest.fixture
def afnor(campaign) -> Milestone:
    return event(campaign, MilestoneKind.INITIAL_AUDIT)


@pytest.fixture
def suivi(campaign) -> Milestone:
    """A follow-up audit a year after the label audit: 23–24 April 2019."""
    milestone = Milestone(campaign=campaign, kind=MilestoneKind.SURVEILLANCE_AUDIT,
                          title="Audit de suivi", starts_on=date(2019, 4, 23),
                          ends_on=date(2019, 4, 24))
    db.session.add(milestone)
    db.session.commit()
    return milestone


# ------------------------------------------------------------------------ accompaniment visits


def test_the_demos_pre_audit_findings_are_due_before_24_april_2018(app, demo, storage):
    """The real demo: every pré-audit finding calling for an answer is due 15 days before the
    AFNOR audit (9 April 2018), never in August; an NC mineure the pré-audit would raise too
    (the note names none: it is recorded here)."""
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=None)
    campaign = campaign_of_demo()
    pre_audit = event(campaign, MilestoneKind.PRE_AUDIT)
    record(pre_audit, "nc_mineure", title="Comptes rendus non diffusés")
    findings = db.session.scalars(select(Finding).where(Finding.milestone_id == pre_audit.id))
    answered = {f.finding_type.code: f for f in findings if f.finding_type.code != "point_fort"}
    assert set(answered) == {"point_sensible", "nc_mineure", "point_vigilance", "piste_progres"}
    for finding in answered.values():
        assert finding.due_on == date(2018, 4, 9), finding.title
        assert finding.due_on < date(2018, 4, 24)
        assert finding.verify_by is None
    minor = answered["nc_mineure"]
    rule = deadline_for(minor)
    assert "15 jours avant le premier jour de l’audit de certification" in rule.explanation
    assert "24/04/2018" in rule.basis
    assert rule.counts_from == date(2018, 4, 24)
    # An accompaniment finding never becomes a certification non-conformity.
    assert escalation_of(minor, date(2018, 4, 24)) is None
    assert not counts_as_major(minor, date(2018, 4, 25))


def test_a_visit_finding_without_a_certification_audit_says_it_is_not_planned(campaign, afnor):
    visit = event(campaign, MilestoneKind.ADVISORY_VISIT)
    afnor.kind = MilestoneKind.OTHER
    db.session.commit()
    finding = record(visit, "point_sensible")
    assert finding.due_on is None
    assert "pas encore planifié" in deadline_for(finding).explanation


# ------------------------------------------------------------- certification: the notification


def test_an_afnor_nc_majeure_notified_on_15_may_is_due_15_august_verified_by_15_september(afnor):
    finding = record(afnor, "nc_majeure")
    # Until the notification is known: from the audit's last day, and it says so.
    assert (finding.due_on, finding.verify_by) == (date(2018, 7, 26), date(2018, 8, 26))
    assert "dernier jour de l’audit (26/04/2018)" in deadline_for(finding).basis
    assert "notification du rapport n’est pas connue" in deadline_for(finding).basis

    afnor.report_notified_on = date(2018, 5, 15)
    assert refresh_deadlines(db.session, afnor.campaign) == 1
    db.session.commit()
    assert finding.due_on == date(2018, 8, 15)
    assert finding.verify_by == date(2018, 9, 15)
    rule = deadline_for(finding)
    assert rule.counts_from == date(2018, 5, 15)
    assert rule.basis == "Compté à partir de la notification du rapport, le 15/05/2018."
    assert "sous 3 mois après la notification du rapport" in rule.explanation
    assert rule.summary.endswith(rule.basis)


def test_an_nc_mineure_has_its_action_plan_within_the_certifiers_delay_and_six_months(afnor):
    afnor.report_notified_on = date(2018, 5, 15)
    finding = record(afnor, "nc_mineure", framework_code="qualiopi-v9")
    rule = deadline_for(finding)
    assert rule.plan_due_on == date(2018, 6, 14)  # 30 days, the scale's data
    assert finding.due_on == date(2018, 11, 15)
    assert finding.verify_by is None


def test_an_overridden_due_date_survives_a_notification(afnor):
    finding = create_finding(db.session, afnor, quality_lead(), FindingInput(
        framework=latest_framework(db.session, "e2c-label"), type_code="nc_majeure",
        title="Constat", due_override=date(2018, 6, 30), override_reason="Accord de l’auditeur"))
    afnor.report_notified_on = date(2018, 5, 15)
    assert refresh_deadlines(db.session, afnor.campaign) == 0
    assert finding.due_on == date(2018, 6, 30)


def test_the_notification_is_set_on_the_event_page_and_moves_the_due_dates(client, auth, demo,
                                                                           afnor):
    finding = record(afnor, "nc_majeure")
    auth.login_demo(demo, "qualite")
    page = client.get(f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}").get_data(as_text=True)
    assert "inconnu : les délais comptent du dernier jour de l’audit (26/04/2018)" in page
    response = client.post(f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}/rapport",
                           data={"report_notified_on": "2018-05-15"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).due_on == date(2018, 8, 15)
    page = client.get(f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}").get_data(as_text=True)
    assert "Compté à partir de la notification du rapport, le 15/05/2018." in page
    assert "15/08/2018" in page
    refused = client.post(f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}/rapport",
                          data={"report_notified_on": "2018-04-01"}, follow_redirects=True)
    assert "ne peut pas être notifié avant le début de l’audit" in refused.get_data(as_text=True)
    assert db.session.get(Milestone, afnor.id).report_notified_on == date(2018, 5, 15)


# ------------------------------------------------------------------------------- escalation


def test_an_nc_mineure_open_on_the_next_audits_first_day_becomes_majeure(app, afnor, suivi,
                                                                          client, auth, demo):
    finding = record(afnor, "nc_mineure", title="Comptes rendus non diffusés")
    the_day_before, first_day = date(2019, 4, 22), date(2019, 4, 23)

    before = escalation_of(finding, the_day_before)
    assert before is not None and not before.done
    assert before.words == ("Deviendra non-conformité majeure le 23/04/2019 si elle est encore "
                            "ouverte.")
    assert not counts_as_major(finding, the_day_before)
    on_the_day = escalation_of(finding, first_day)
    assert on_the_day is not None and on_the_day.done
    assert "Devenue non-conformité majeure le 23/04/2019" in on_the_day.words
    assert "requalifiée en majeure" in on_the_day.rule  # the rule's reason, in its trail
    assert counts_as_major(finding, first_day)

    # The finding's page, with the clock on each day.
    url = f"/campagnes/{afnor.campaign_id}/constats/{finding.id}"
    set_today(app, the_day_before)  # before logging in: a session is dated by the clock
    auth.login_demo(demo, "qualite")
    assert "Deviendra non-conformité majeure le 23/04/2019" in client.get(url).get_data(
        as_text=True)
    set_today(app, first_day)
    page = client.get(url).get_data(as_text=True)
    assert "Devenue non-conformité majeure le 23/04/2019" in page
    assert "requalifiée en majeure" in page

    # Lifted before the audit: nothing escalates.
    finding.status = FindingStatus.LIFTED
    assert escalation_of(finding, first_day) is None


def test_the_go_no_go_of_the_next_audit_fails_on_an_open_nc_mineure(afnor, suivi):
    finding = record(afnor, "nc_mineure", title="Comptes rendus non diffusés")
    checklist = go_no_go(db.session, afnor.campaign, suivi, date(2019, 4, 22))
    item = next(i for i in checklist.items if i.code == "escalade")
    assert not item.ok
    assert not checklist.go
    assert any("Comptes rendus non diffusés" in d and "Deviendra non-conformité majeure" in d
               for d in item.details)
    # On the day itself it is majeure: the NC majeure rule fails too.
    on_the_day = go_no_go(db.session, afnor.campaign, suivi, date(2019, 4, 23))
    majors = next(i for i in on_the_day.items if i.code == "nc_majeures")
    assert not majors.ok and any("Comptes rendus" in d for d in majors.details)

    finding.status = FindingStatus.LIFTED
    db.session.commit()
    cleared = go_no_go(db.session, afnor.campaign, suivi, date(2019, 4, 22))
    assert next(i for i in cleared.items if i.code == "escalade").ok


# --------------------------------------------------------------- five mineures make one majeure


def test_five_nc_mineures_on_one_qualiopi_audit_count_as_one_majeure(afnor, suivi, client,
                                                                      auth, demo):
    for number in range(4):
        record(afnor, "nc_mineure", framework_code="qualiopi-v9", title=f"Mineure {number + 1}")
    assert minors_rule_hits(list(db.session.scalars(select(Finding)))) == []
    record(afnor, "nc_mineure", framework_code="qualiopi-v9", title="Mineure 5")
    hits = minors_rule_hits(list(db.session.scalars(select(Finding))))
    assert [(h.milestone.id, h.minors, h.majors) for h in hits] == [(afnor.id, 5, 1)]
    assert "règle supposée" in hits[0].rule

    checklist = go_no_go(db.session, afnor.campaign, suivi, date(2019, 1, 10))
    majors = next(i for i in checklist.items if i.code == "nc_majeures")
    assert not majors.ok
    assert any("5 NC mineures comptent comme une NC majeure" in d for d in majors.details)

    auth.login_demo(demo, "qualite")
    page = client.get(f"/campagnes/{afnor.campaign_id}/audits/{afnor.id}").get_data(as_text=True)
    assert "5 NC mineures ouvertes sur cet audit comptent comme une NC majeure." in page


def test_the_minors_rule_is_data_of_the_scale():
    rules = ScaleRules.of({"minors_make_major": {"count": 5, "type": "nc_mineure",
                                                 "as": "nc_majeure"}})
    assert minors_as_majors(["nc_mineure"] * 4, rules) == 0
    assert minors_as_majors(["nc_mineure"] * 5 + ["point_fort"], rules) == 1
    assert minors_as_majors(["nc_mineure"] * 10, rules) == 2
    assert minors_as_majors(["nc_mineure"] * 10, ScaleRules.of({})) == 0  # E2C: no such rule


def test_the_accompaniment_margin_is_data_of_the_scale():
    from audit_tracker.models import FindingKind, FindingType
    minor = FindingType(code="nc_mineure", label="NC mineure", kind=FindingKind.NONCONFORMITY,
                        action_months=6, escalates_to="nc_majeure", rule="")
    pre_audit = Milestone(kind=MilestoneKind.PRE_AUDIT, title="Pré-audit",
                          starts_on=date(2018, 2, 20), ends_on=date(2018, 2, 22))
    audit = Milestone(kind=MilestoneKind.INITIAL_AUDIT, title="Audit",
                      starts_on=date(2018, 4, 24), ends_on=date(2018, 4, 26))
    margin_15 = ScaleRules.of({"accompaniment": {"margin_days": 15}})
    assert compute_deadline(minor, pre_audit, audit, margin_15).due_on == date(2018, 4, 9)
    margin_30 = ScaleRules.of({"accompaniment": {"margin_days": 30}})
    assert compute_deadline(minor, pre_audit, audit, margin_30).due_on == date(2018, 3, 25)
    # The same type on the certification audit counts in months from its last day.
    assert compute_deadline(minor, audit, None, margin_15).due_on == date(2018, 10, 26)


# ------------------------------------------------------------------- non-certifying actions


def test_a_non_certifying_campaign_leaves_qualiopi_3_7_and_16_non_applicable(campaign):
    from audit_tracker.readiness.rules import State, readiness_of
    qualiopi = latest_framework(db.session, "qualiopi-v9")
    by_code = {c.code: c for c in qualiopi.criteria}

    def state(code: str):
        result = readiness_of(db.session, campaign, date(2018, 4, 24),
                              today=date(2018, 2, 28)).of(by_code[code].id)
        return result.state, [str(r) for r in result.reasons]

    assert campaign.certifying  # the default: the actions lead to a certification
    assert state("3")[0] is State.MISSING
    campaign.certifying = False
    db.session.commit()
    for code in ("3", "7", "16"):
        found, reasons = state(code)
        assert found is State.NOT_APPLICABLE, code
        assert reasons == ["Non applicable : Les actions de la campagne ne conduisent pas à une "
                           "certification (diplôme, titre RNCP) : indicateur réservé aux actions "
                           "certifiantes."]
    assert state("4")[0] is State.MISSING  # the others still apply
    e2c = latest_framework(db.session, "e2c-label")
    assert readiness_of(db.session, campaign, date(2018, 4, 24)).of(e2c.criteria[0].id).state \
        is not State.NOT_APPLICABLE


def test_the_campaign_form_sets_the_flag(client, auth, demo, campaign):
    auth.login_demo(demo, "direction")
    form = client.get(f"/campagnes/{campaign.id}/modifier").get_data(as_text=True)
    assert "conduisent à une certification" in form
    response = client.post(f"/campagnes/{campaign.id}/modifier", data={
        "name": campaign.name, "framework_ids": [str(f.id) for f in campaign.frameworks],
        "categories": ["AF"]})  # the box left unticked
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).certifying is False
    page = client.get(f"/campagnes/{campaign.id}").get_data(as_text=True)
    assert "Actions non certifiantes" in page
    client.post(f"/campagnes/{campaign.id}/modifier", data={
        "name": campaign.name, "framework_ids": [str(f.id) for f in campaign.frameworks],
        "categories": ["AF"], "certifying": "y"})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).certifying is True


# ------------------------------------------------------------------------------- life cycle


def test_validity_counts_whole_years_to_the_day_before():
    from audit_tracker.findings.cycle import validity_end
    assert validity_end(date(2018, 6, 14), 4) == date(2022, 6, 13)
    assert validity_end(date(2020, 2, 29), 4) == date(2024, 2, 28)  # a leap day, 4 years on
    assert validity_end(date(2019, 1, 1), 3) == date(2021, 12, 31)


def test_qualiopis_surveillance_audit_falls_between_months_14_and_22(referentiels):
    from audit_tracker.findings.cycle import cycle_steps
    qualiopi = latest_framework(db.session, "qualiopi-v9")
    steps = {s.title: s for s in cycle_steps(qualiopi, date(2018, 6, 14))}
    surveillance = steps["Audit de surveillance Qualiopi"]
    assert surveillance.kind is MilestoneKind.SURVEILLANCE_AUDIT
    assert surveillance.starts_on == date(2019, 12, 14)  # month 18, the window's middle
    assert "du 14/08/2019 au 14/04/2020" in surveillance.notes
    assert not surveillance.assumed  # the arrêté's rule, cited
    renewal = steps["Audit de renouvellement Qualiopi"]
    assert renewal.starts_on == date(2021, 3, 14)  # 3 months before 13/06/2021 (3-year cycle)
    assert renewal.assumed


def test_a_label_granted_on_14_june_2018_expires_on_13_june_2022_and_the_next_campaign_carries(
        app, demo, storage, client, auth):
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=None)
    campaign = campaign_of_demo()
    afnor = event(campaign, MilestoneKind.INITIAL_AUDIT)
    open_minor = record(afnor, "nc_mineure", title="Livret d’accueil à mettre à jour")
    lifted = record(afnor, "point_sensible", title="Déjà traité")
    lifted.status = FindingStatus.CLOSED
    db.session.commit()
    set_today(app, date(2018, 6, 20))  # before logging in: a session is dated by the clock
    auth.login_demo(demo, "direction")

    refused = client.post(f"/campagnes/{campaign.id}/decision", data={
        "decided_on": "2018-05-01", "decision": "label_accorde"}, follow_redirects=True)
    assert "ne peut pas précéder la commission (17/05/2018)" in refused.get_data(as_text=True)
    response = client.post(f"/campagnes/{campaign.id}/decision", data={
        "decided_on": "2018-06-14", "decision": "accorde_avec_preconisations",
        "conditions": "Formaliser les comptes rendus des comités locaux avant le suivi."})
    assert response.status_code == 302
    db.session.expire_all()
    campaign = campaign_of_demo()
    planned = {m.title: m for m in campaign.milestones}
    decision = planned["Décision de labellisation"]
    assert decision.starts_on == date(2018, 6, 14)
    assert decision.conditions.startswith("Formaliser")
    suivi = planned["Audit de suivi du label"]
    assert (suivi.kind, suivi.starts_on, suivi.assumed) == (
        MilestoneKind.SURVEILLANCE_AUDIT, date(2020, 6, 14), True)
    assert "règle supposée" in suivi.notes
    renewal = planned["Audit de renouvellement du label"]
    assert (renewal.starts_on, renewal.assumed) == (date(2022, 2, 14), True)
    end = next(m for t, m in planned.items() if t.startswith("Fin de validité"))
    assert end.starts_on == date(2022, 6, 13)
    page = client.get(f"/campagnes/{campaign.id}").get_data(as_text=True)
    assert "Label valable jusqu’au 13 juin 2022." in page
    assert 'data-state="next"' in page and "Audit de suivi du label" in page
    # Recorded again (corrected), the cycle is not planned twice.
    client.post(f"/campagnes/{campaign.id}/decision", data={
        "decided_on": "2018-06-14", "decision": "accorde_avec_preconisations"})
    db.session.expire_all()
    assert sum(m.title == "Audit de suivi du label"
               for m in campaign_of_demo().milestones) == 1

    response = client.post(f"/campagnes/{campaign.id}/campagne-suivante")
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalar(select(Campaign).where(Campaign.previous_id == campaign.id))
    assert new is not None
    assert response.location.endswith(f"/campagnes/{new.id}")
    assert {f.code for f in new.frameworks} == {"e2c-label", "qualiopi-v9"}
    assert {m.title for m in new.milestones} >= {"Audit de suivi du label",
                                                 "Audit de renouvellement du label"}
    carried = {f.title: f for m in new.milestones
               for f in db.session.scalars(select(Finding).where(Finding.milestone_id == m.id))}
    assert "Livret d’accueil à mettre à jour" in carried
    assert "Déjà traité" not in carried
    minor = carried["Livret d’accueil à mettre à jour"]
    assert minor.status is FindingStatus.OPEN and minor.id != open_minor.id
    # Its next certification audit is now the suivi: it escalates there.
    change = escalation_of(minor, date(2020, 6, 14))
    assert change is not None and change.done
    page = client.get(response.location).get_data(as_text=True)
    assert "preuves valables reprises" in page
    assert "Non repris" in page and "Déjà traité" in page
    # Open actions came along; the proofs stay the school's, listed as carried.
    from audit_tracker.models import Action
    assert db.session.scalars(select(Action).where(Action.campaign_id == new.id)).first()
    again = client.post(f"/campagnes/{campaign.id}/campagne-suivante", follow_redirects=True)
    assert "La campagne suivante a déjà été ouverte." in again.get_data(as_text=True)


def test_the_next_campaign_lists_valid_and_expired_proofs(app, demo, storage):
    from audit_tracker.findings.cycle import DecisionInput, open_next_campaign, record_decision
    from audit_tracker.models import CommissionDecision, Evidence
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=None)
    campaign = campaign_of_demo()
    record_decision(db.session, campaign, DecisionInput(date(2018, 6, 14),
                                                        CommissionDecision.GRANTED))
    result = open_next_campaign(db.session, campaign, date(2018, 6, 20))
    db.session.commit()
    expired = [e for e in db.session.scalars(select(Evidence))
               if e.valid_until is not None and e.valid_until < date(2018, 6, 20)]
    assert expired  # the demo's month-end dashboard (31/03/2018)
    for proof in expired:
        assert proof not in result.proofs
        assert any(proof.title in line and "expirée" in line for line in result.not_carried)
    assert result.proofs and all(p.valid_until is None or p.valid_until >= date(2018, 6, 20)
                                 for p in result.proofs)
    assert {f.title for f in result.findings} >= {
        "Part de stagiaires issus des QPV insuffisante (16 % ; objectif : 40 %)"}


def test_the_readiness_names_an_escalated_mineure_majeure_from_the_audits_first_day(afnor,
                                                                                       suivi):
    from audit_tracker.findings.service import FindingInput as Input
    from audit_tracker.readiness.rules import readiness_of
    e2c = latest_framework(db.session, "e2c-label")
    a2 = next(c for c in e2c.criteria if c.code == "A2")
    create_finding(db.session, afnor, quality_lead(), Input(
        framework=e2c, type_code="nc_mineure", title="Comptes rendus", criteria=[a2]))
    db.session.commit()

    def reasons(as_of: date) -> list[str]:
        return [str(r) for r in readiness_of(db.session, afnor.campaign, as_of).of(a2.id).reasons]

    assert "Non-conformité mineure ouverte (Audit initial n°1)" in reasons(date(2019, 4, 22))
    assert "Non-conformité majeure ouverte (Audit initial n°1)" in reasons(date(2019, 4, 23))

"""Findings and corrective actions through the service, on the E2C Var demo at its real dates
(pré-audit 20–22/02/2018, AFNOR audit 24–26/04/2018, commission 17/05/2018): the checks on
what a finding may be, its due dates, numbering and optimistic lock, who moves and verifies an
action, when a non-conformity is lifted, the action plan's filters, and minutes still missing.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_tracker.demo import SEED_DATE
from audit_tracker.domain.errors import Conflict
from audit_tracker.extensions import db
from audit_tracker.findings.service import (
    ActionFilters,
    ActionInput,
    FindingError,
    FindingInput,
    actions_of,
    can_update_action,
    create_action,
    create_finding,
    deadline_for,
    meetings_without_minutes,
    set_action_status,
    set_finding_status,
    update_action,
    update_finding,
)
from audit_tracker.models import (
    Action,
    ActionStatus,
    Campaign,
    Criterion,
    Finding,
    FindingStatus,
    Framework,
    Milestone,
    MilestoneKind,
    Role,
    Site,
    User,
)
from audit_tracker.referentiel.importer import latest_framework

from .factories import CampaignFactory, MilestoneFactory, SiteFactory

# ------------------------------------------------------------------------------------ helpers


def account(local_part: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))


def demo_campaign() -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.name.like("Labellisation E2C%")))


def event_of(campaign: Campaign, kind: MilestoneKind) -> Milestone:
    return next(m for m in campaign.milestones if m.kind is kind)


def framework(code: str) -> Framework:
    return latest_framework(db.session, code)


def criterion(framework_code: str, code: str) -> Criterion:
    fw = framework(framework_code)
    return db.session.scalar(select(Criterion).where(Criterion.framework_id == fw.id,
                                                     Criterion.code == code))


def site(code: str) -> Site:
    return db.session.scalar(select(Site).where(Site.code == code))


def record(event: Milestone, type_code: str = "point_sensible", *,
           framework_code: str = "e2c-label", title: str = "Constat", author: User | None = None,
           **fields) -> Finding:
    finding = create_finding(db.session, event, author or account("qualite"), FindingInput(
        framework=framework(framework_code), type_code=type_code, title=title, **fields))
    db.session.commit()
    return finding


def plan(campaign: Campaign, title: str = "Action", *, owner: User | None = None,
         due_on: date = date(2018, 6, 30), author: User | None = None, **fields) -> Action:
    action = create_action(db.session, campaign, author or account("qualite"), ActionInput(
        title=title, owner=owner or account("qualite"), due_on=due_on, **fields))
    db.session.commit()
    return action


def finding_count() -> int:
    return len(db.session.scalars(select(Finding.id)).all())


@pytest.fixture
def campaign(demo) -> Campaign:
    return demo_campaign()


@pytest.fixture
def pre_audit(campaign) -> Milestone:
    return event_of(campaign, MilestoneKind.PRE_AUDIT)


@pytest.fixture
def afnor(campaign) -> Milestone:
    return event_of(campaign, MilestoneKind.INITIAL_AUDIT)


def test_demo_dates_are_the_ones_these_tests_assume(pre_audit, afnor, campaign):
    assert (pre_audit.starts_on, pre_audit.ends_on) == (date(2018, 2, 20), date(2018, 2, 22))
    assert (afnor.starts_on, afnor.ends_on) == (date(2018, 4, 24), date(2018, 4, 26))
    commission = event_of(campaign, MilestoneKind.NATIONAL_COMMISSION)
    assert commission.starts_on == date(2018, 5, 17)


# ----------------------------------------------------------------------- findings: due dates


def test_point_sensible_of_the_pre_audit_is_due_15_days_before_the_afnor_audit(pre_audit):
    # Issue 16: an accompaniment visit's findings are due before the audit minus the scale's
    # margin (15 days), no longer the day before.
    finding = record(pre_audit, "point_sensible", title="  Affichage des indicateurs  ")
    assert finding.number == 1
    assert finding.title == "Affichage des indicateurs"
    assert finding.status is FindingStatus.OPEN
    assert finding.due_on == date(2018, 4, 9)
    assert finding.verify_by is None
    assert finding.due_override_reason == ""
    assert finding.reference == "Pré-audit n°1"
    assert "avant le premier jour de l’audit de certification" in \
        deadline_for(finding).explanation


def test_point_sensible_of_the_label_audit_has_no_due_date_while_no_audit_follows(afnor):
    finding = record(afnor, "point_sensible")
    assert finding.due_on is None
    assert finding.verify_by is None
    assert "pas encore planifié" in deadline_for(finding).explanation


def test_major_nonconformity_of_the_audit_is_due_three_months_after_its_last_day(afnor):
    finding = record(afnor, "nc_majeure", criteria=[criterion("e2c-label", "A1")])
    assert finding.due_on == date(2018, 7, 26)
    assert finding.verify_by == date(2018, 8, 26)
    assert [c.code for c in finding.criteria] == ["A1"]


def test_minor_nonconformity_of_the_audit_is_due_six_months_later(afnor):
    finding = record(afnor, "nc_mineure")
    assert finding.due_on == date(2018, 10, 26)
    assert finding.verify_by is None


def test_point_fort_has_no_due_date(afnor):
    finding = record(afnor, "point_fort")
    assert finding.due_on is None
    assert finding.verify_by is None


def test_qualiopi_major_nonconformity_on_an_only_major_indicator_is_accepted(afnor):
    finding = record(afnor, "nc_majeure", framework_code="qualiopi-v9",
                     criteria=[criterion("qualiopi-v9", "4")])
    assert finding.due_on == date(2018, 7, 26)
    assert finding.verify_by == date(2018, 8, 26)


# ------------------------------------------------------------------------ findings: refusals


def test_only_major_qualiopi_indicator_refuses_a_minor_nonconformity(afnor):
    indicator_4 = criterion("qualiopi-v9", "4")
    assert indicator_4.finding_types == ["nc_majeure"]
    with pytest.raises(FindingError, match="Indicateur 4") as refused:
        record(afnor, "nc_mineure", framework_code="qualiopi-v9", criteria=[indicator_4])
    assert "non-conformité majeure" in str(refused.value)
    assert "non-conformité mineure" in str(refused.value)
    # Refused even alongside an indicator that takes any non-conformity.
    with pytest.raises(FindingError, match="Indicateur 4"):
        record(afnor, "nc_mineure", framework_code="qualiopi-v9",
               criteria=[criterion("qualiopi-v9", "1"), indicator_4])
    assert finding_count() == 0
    minor = record(afnor, "nc_mineure", framework_code="qualiopi-v9",
                   criteria=[criterion("qualiopi-v9", "1")])
    assert minor.due_on == date(2018, 10, 26)


def test_type_code_missing_from_the_frameworks_scale_is_refused(afnor):
    with pytest.raises(FindingError, match="point_fort"):  # E2C's scale, not Qualiopi's
        record(afnor, "point_fort", framework_code="qualiopi-v9")
    with pytest.raises(FindingError, match="inconnu"):
        record(afnor, "inconnu")
    assert finding_count() == 0


def test_criterion_of_another_framework_is_refused(afnor):
    with pytest.raises(FindingError, match="Indicateur 1"):
        record(afnor, "nc_majeure", criteria=[criterion("qualiopi-v9", "1")])
    assert finding_count() == 0


def test_framework_the_campaign_does_not_follow_is_refused(campaign, afnor):
    campaign.frameworks = [framework("e2c-label")]
    db.session.commit()
    with pytest.raises(FindingError, match="pas suivi par la campagne"):
        record(afnor, "nc_majeure", framework_code="qualiopi-v9")
    assert finding_count() == 0


def test_site_of_another_school_is_refused_and_the_schools_own_is_kept(afnor):
    elsewhere = SiteFactory()
    db.session.commit()
    with pytest.raises(FindingError, match="site"):
        record(afnor, site=elsewhere)
    assert finding_count() == 0
    assert record(afnor, site=site("tpm")).site.code == "tpm"


def test_decision_milestone_and_empty_title_are_refused(campaign, afnor):
    other = event_of(campaign, MilestoneKind.OTHER)
    with pytest.raises(FindingError, match="constats"):
        record(other)
    with pytest.raises(FindingError, match="intitulé"):
        record(afnor, title="   ")
    with pytest.raises(FindingError, match="300"):
        record(afnor, title="x" * 301)
    assert finding_count() == 0


def test_override_needs_a_reason(afnor):
    for reason in ("", "   "):
        with pytest.raises(FindingError, match="pourquoi"):
            record(afnor, "nc_majeure", due_override=date(2018, 9, 14), override_reason=reason)
    assert finding_count() == 0


def test_override_with_a_reason_is_kept_and_shifts_the_verification_date(afnor):
    finding = record(afnor, "nc_majeure", due_override=date(2018, 9, 14),
                     override_reason="  Délai accordé par l’auditeur  ")
    assert finding.due_on == date(2018, 9, 14)
    assert finding.verify_by == date(2018, 10, 14)
    assert finding.due_override_reason == "Délai accordé par l’auditeur"
    rule = deadline_for(finding)  # the rule still says what it gives
    assert (rule.due_on, rule.verify_by) == (date(2018, 7, 26), date(2018, 8, 26))


def test_override_of_a_type_without_verification_leaves_no_verification_date(afnor):
    finding = record(afnor, "nc_mineure", due_override=date(2018, 12, 31),
                     override_reason="Fermeture estivale")
    assert finding.due_on == date(2018, 12, 31)
    assert finding.verify_by is None


def test_override_cannot_precede_the_audit(afnor):
    with pytest.raises(FindingError, match="24/04/2018"):
        record(afnor, "nc_majeure", due_override=date(2018, 4, 23), override_reason="Urgent")
    assert finding_count() == 0
    first_day = record(afnor, "nc_majeure", due_override=date(2018, 4, 24),
                       override_reason="Corrigé pendant l’audit")
    assert first_day.due_on == date(2018, 4, 24)
    assert first_day.verify_by == date(2018, 5, 24)


# ------------------------------------------------------------------------- numbering, update


def test_findings_are_numbered_per_event(pre_audit, afnor):
    assert [record(pre_audit, title=f"P{n}").number for n in range(3)] == [1, 2, 3]
    assert [record(afnor, title=f"A{n}").number for n in range(2)] == [1, 2]
    assert record(pre_audit, title="P4").number == 4
    assert record(afnor, "point_fort").reference == "Audit initial n°3"


def test_update_recomputes_the_due_dates_and_drops_the_override(afnor):
    finding = record(afnor, "nc_mineure", due_override=date(2018, 12, 31),
                     override_reason="Fermeture estivale")
    seen = finding.lock_version
    update_finding(db.session, finding, FindingInput(
        framework=framework("e2c-label"), type_code="nc_majeure", title="Requalifiée"),
        seen_lock_version=seen)
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    assert (finding.title, finding.finding_type.code) == ("Requalifiée", "nc_majeure")
    assert (finding.due_on, finding.verify_by) == (date(2018, 7, 26), date(2018, 8, 26))
    assert finding.due_override_reason == ""
    assert finding.lock_version == seen + 1
    assert finding.number == 1


def test_update_with_a_stale_lock_version_is_a_conflict_and_changes_nothing(afnor):
    finding = record(afnor, "point_sensible", title="Premier")
    opened = finding.lock_version  # two people open the form
    update_finding(db.session, finding, FindingInput(
        framework=framework("e2c-label"), type_code="point_sensible", title="Deuxième"),
        seen_lock_version=opened)
    with pytest.raises(Conflict):
        update_finding(db.session, finding, FindingInput(
            framework=framework("e2c-label"), type_code="nc_majeure", title="Troisième"),
            seen_lock_version=opened)
    db.session.expire_all()
    stored = db.session.get(Finding, finding.id)
    assert stored.title == "Deuxième"
    assert stored.finding_type.code == "point_sensible"
    assert stored.due_on is None
    assert stored.lock_version == opened + 1


def test_concurrent_save_between_reading_and_committing_is_a_conflict(afnor):
    finding = record(afnor, "point_sensible", title="Premier")
    finding_id = finding.id
    assert finding.title == "Premier"  # loaded in this session, not expired
    with Session(db.engine) as other:
        theirs = other.get(Finding, finding_id)
        theirs.title = "Le leur"
        other.commit()
    with pytest.raises(Conflict):
        update_finding(db.session, finding, FindingInput(
            framework=framework("e2c-label"), type_code="nc_majeure", title="Le mien"),
            seen_lock_version=None)
    db.session.expire_all()
    stored = db.session.get(Finding, finding_id)
    assert stored.title == "Le leur"
    assert stored.finding_type.code == "point_sensible"


# -------------------------------------------------------------------------- actions: checks


def test_action_update_with_a_stale_lock_version_is_a_conflict(campaign, afnor):
    finding = record(afnor, "nc_majeure")
    action = plan(campaign, "Premier", findings=[finding])
    opened = action.lock_version
    update_action(db.session, action, ActionInput(
        title="Deuxième", owner=account("qualite"), due_on=date(2018, 6, 30),
        findings=[finding]), seen_lock_version=opened)
    assert action.lock_version == opened + 1  # one save, one version
    with pytest.raises(Conflict):
        update_action(db.session, action, ActionInput(
            title="Troisième", owner=account("tpm"), due_on=date(2018, 7, 30)),
            seen_lock_version=opened)
    db.session.expire_all()
    stored = db.session.get(Action, action.id)
    assert (stored.title, stored.owner.email, stored.due_on) == (
        "Deuxième", "qualite@e2c-var.example", date(2018, 6, 30))
    assert [f.id for f in stored.findings] == [finding.id]


def test_concurrent_action_save_between_reading_and_committing_is_a_conflict(campaign, afnor):
    finding = record(afnor, "nc_majeure")
    action = plan(campaign, "Premier", findings=[finding])
    action_id = action.id
    assert action.title == "Premier"  # loaded in this session, not expired
    with Session(db.engine) as other:
        theirs = other.get(Action, action_id)
        theirs.title = "Le leur"
        other.commit()
    with pytest.raises(Conflict):
        update_action(db.session, action, ActionInput(
            title="Le mien", owner=account("qualite"), due_on=date(2018, 6, 30)),
            seen_lock_version=None)
    db.session.expire_all()
    stored = db.session.get(Action, action_id)
    assert stored.title == "Le leur"
    assert [f.id for f in stored.findings] == [finding.id]


def test_action_owner_of_another_school_is_refused(campaign, afnor, make_user):
    stranger = make_user(Role.QUALITY_LEAD)
    with pytest.raises(FindingError, match="votre école"):
        plan(campaign, owner=stranger)
    assert db.session.scalars(select(Action.id)).all() == []


def test_auditor_cannot_own_an_action(campaign):
    with pytest.raises(FindingError, match="auditeur"):
        plan(campaign, owner=account("auditeur"))
    assert db.session.scalars(select(Action.id)).all() == []


def test_action_due_before_the_audit_of_a_linked_finding_is_refused(campaign, pre_audit, afnor):
    early = record(pre_audit, "point_sensible")
    finding = record(afnor, "nc_majeure")
    with pytest.raises(FindingError, match="24/04/2018"):
        plan(campaign, findings=[early, finding], due_on=date(2018, 4, 23))
    assert db.session.scalars(select(Action.id)).all() == []
    action = plan(campaign, findings=[early, finding], due_on=date(2018, 4, 24))
    assert action.due_on == date(2018, 4, 24)


def test_action_answering_a_finding_of_another_campaign_is_refused(campaign, afnor):
    other_event = MilestoneFactory(campaign=CampaignFactory(school=campaign.school,
                                                            frameworks=campaign.frameworks))
    db.session.commit()
    elsewhere = record(other_event, "nc_majeure")
    with pytest.raises(FindingError, match="campagne"):
        plan(campaign, findings=[elsewhere])


def test_closing_proof_and_site_of_another_school_are_refused(campaign, make_user, make_evidence):
    stranger = make_user(Role.QUALITY_LEAD)
    foreign_proof = make_evidence(stranger)
    with pytest.raises(FindingError, match="preuve"):
        plan(campaign, closing_evidence=foreign_proof)
    with pytest.raises(FindingError, match="site"):
        plan(campaign, site=SiteFactory(school=stranger.school))
    assert db.session.scalars(select(Action.id)).all() == []


def test_creating_an_action_puts_its_open_findings_in_progress(campaign, pre_audit, afnor):
    open_finding = record(afnor, "nc_majeure")
    closed = record(pre_audit, "point_fort")
    set_finding_status(db.session, closed, FindingStatus.CLOSED, account("qualite"))
    untouched = record(afnor, "nc_mineure")
    action = plan(campaign, findings=[open_finding, closed])
    assert action.status is ActionStatus.TODO
    db.session.expire_all()
    assert db.session.get(Finding, open_finding.id).status is FindingStatus.IN_PROGRESS
    assert db.session.get(Finding, closed.id).status is FindingStatus.CLOSED
    assert db.session.get(Finding, untouched.id).status is FindingStatus.OPEN


# ------------------------------------------------------------------------- actions: statuses


@pytest.fixture
def nc_action(campaign, afnor) -> Action:
    """A done action, owned by the TPM site manager, answering a major non-conformity."""
    finding = record(afnor, "nc_majeure")
    action = plan(campaign, "Refaire l’affichage", owner=account("tpm"), site=site("tpm"),
                  findings=[finding], due_on=date(2018, 7, 26))
    set_action_status(db.session, action, ActionStatus.DONE, account("tpm"), date(2018, 7, 2))
    return action


def test_done_records_the_day_and_going_back_clears_it(campaign, afnor):
    action = plan(campaign)
    set_action_status(db.session, action, ActionStatus.DONE, account("qualite"), date(2018, 7, 2))
    assert action.done_on == date(2018, 7, 2)
    set_action_status(db.session, action, ActionStatus.DONE, account("qualite"), date(2018, 7, 9))
    assert action.done_on == date(2018, 7, 2)  # done once, on the first day
    set_action_status(db.session, action, ActionStatus.IN_PROGRESS, account("qualite"),
                      date(2018, 7, 10))
    assert action.done_on is None


def test_site_manager_cannot_verify_an_action(nc_action, make_evidence):
    nc_action.closing_evidence = make_evidence(account("tpm"))
    db.session.commit()
    with pytest.raises(FindingError, match="direction et le responsable qualité"):
        set_action_status(db.session, nc_action, ActionStatus.VERIFIED, account("tpm"),
                          date(2018, 7, 3))
    db.session.expire_all()
    stored = db.session.get(Action, nc_action.id)
    assert stored.status is ActionStatus.DONE
    assert stored.verified_by is None


def test_an_action_not_done_cannot_be_verified(campaign, afnor):
    action = plan(campaign)
    for status in (ActionStatus.TODO, ActionStatus.IN_PROGRESS):
        if status is not action.status:
            set_action_status(db.session, action, status, account("qualite"), date(2018, 6, 1))
        with pytest.raises(FindingError, match="réalisée"):
            set_action_status(db.session, action, ActionStatus.VERIFIED, account("qualite"),
                              date(2018, 6, 1))
        assert action.status is status


def test_action_answering_a_nonconformity_needs_its_closing_proof_to_be_verified(
        nc_action, make_evidence):
    with pytest.raises(FindingError, match="preuve de clôture"):
        set_action_status(db.session, nc_action, ActionStatus.VERIFIED, account("qualite"),
                          date(2018, 7, 3))
    assert nc_action.status is ActionStatus.DONE
    proof = make_evidence(account("tpm"), name="affichage.pdf")
    data = ActionInput(title=nc_action.title, owner=nc_action.owner, due_on=nc_action.due_on,
                       site=nc_action.site, findings=list(nc_action.findings),
                       closing_evidence=proof)
    update_action(db.session, nc_action, data, seen_lock_version=nc_action.lock_version)
    set_action_status(db.session, nc_action, ActionStatus.VERIFIED, account("direction"),
                      date(2018, 7, 3), note="  Affichage contrôlé sur site  ")
    db.session.expire_all()
    stored = db.session.get(Action, nc_action.id)
    assert stored.status is ActionStatus.VERIFIED
    assert stored.verified_by.email == "direction@e2c-var.example"
    assert stored.verified_at is not None
    assert stored.verification_note == "Affichage contrôlé sur site"
    assert stored.done_on == date(2018, 7, 2)


def test_action_on_a_point_sensible_is_verified_without_a_closing_proof(campaign, pre_audit):
    action = plan(campaign, findings=[record(pre_audit, "point_sensible")])
    set_action_status(db.session, action, ActionStatus.DONE, account("qualite"), date(2018, 4, 1))
    set_action_status(db.session, action, ActionStatus.VERIFIED, account("qualite"),
                      date(2018, 4, 2))
    assert action.status is ActionStatus.VERIFIED
    assert action.verified_by.email == "qualite@e2c-var.example"


def test_only_quality_or_direction_reopen_a_verified_action(nc_action, make_evidence):
    nc_action.closing_evidence = make_evidence(account("qualite"))
    db.session.commit()
    set_action_status(db.session, nc_action, ActionStatus.VERIFIED, account("qualite"),
                      date(2018, 7, 3))
    with pytest.raises(FindingError, match="rouvrent"):
        set_action_status(db.session, nc_action, ActionStatus.IN_PROGRESS, account("tpm"),
                          date(2018, 7, 4))
    with pytest.raises(FindingError, match="rouvrent"):
        set_action_status(db.session, nc_action, ActionStatus.DONE, account("tpm"),
                          date(2018, 7, 4))
    db.session.expire_all()
    stored = db.session.get(Action, nc_action.id)
    assert stored.status is ActionStatus.VERIFIED
    assert stored.verified_by is not None
    set_action_status(db.session, stored, ActionStatus.IN_PROGRESS, account("direction"),
                      date(2018, 7, 4))
    assert stored.status is ActionStatus.IN_PROGRESS
    assert stored.verified_by is None
    assert stored.verified_at is None
    assert stored.done_on is None


def test_action_status_with_a_stale_lock_version_is_a_conflict(campaign):
    action = plan(campaign)
    opened = action.lock_version
    set_action_status(db.session, action, ActionStatus.IN_PROGRESS, account("qualite"),
                      date(2018, 6, 1), seen_lock_version=opened)
    with pytest.raises(Conflict):
        set_action_status(db.session, action, ActionStatus.DONE, account("tpm"),
                          date(2018, 6, 2), seen_lock_version=opened)
    db.session.expire_all()
    assert db.session.get(Action, action.id).status is ActionStatus.IN_PROGRESS


# ------------------------------------------------------------------- lifting a finding


def test_nonconformity_is_lifted_only_once_every_action_is_verified(campaign, afnor,
                                                                    make_evidence):
    finding = record(afnor, "nc_majeure")
    qualite = account("qualite")
    with pytest.raises(FindingError, match="sans action corrective"):
        set_finding_status(db.session, finding, FindingStatus.LIFTED, qualite)
    proof = make_evidence(qualite)
    first = plan(campaign, "Première", findings=[finding], closing_evidence=proof)
    second = plan(campaign, "Seconde", findings=[finding], closing_evidence=proof)
    for action in (first, second):
        set_action_status(db.session, action, ActionStatus.DONE, qualite, date(2018, 7, 2))
    set_action_status(db.session, first, ActionStatus.VERIFIED, qualite, date(2018, 7, 3))
    with pytest.raises(FindingError, match="Seconde"):
        set_finding_status(db.session, finding, FindingStatus.LIFTED, qualite)
    with pytest.raises(FindingError, match="Seconde"):
        set_finding_status(db.session, finding, FindingStatus.CLOSED, qualite)
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status is FindingStatus.IN_PROGRESS
    set_action_status(db.session, second, ActionStatus.VERIFIED, qualite, date(2018, 7, 3))
    with pytest.raises(FindingError, match="changent le statut d’un constat"):
        set_finding_status(db.session, finding, FindingStatus.LIFTED, account("tpm"))
    with pytest.raises(FindingError, match="lèvent une non-conformité"):
        set_finding_status(db.session, finding, FindingStatus.LIFTED, account("admin"))
    set_finding_status(db.session, finding, FindingStatus.LIFTED, account("direction"))
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status is FindingStatus.LIFTED


def test_point_fort_is_closed_without_any_action(afnor):
    finding = record(afnor, "point_fort")
    set_finding_status(db.session, finding, FindingStatus.CLOSED, account("qualite"))
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status is FindingStatus.CLOSED


# -------------------------------------------------------------------------- can_update_action


def test_who_may_move_an_action(campaign, make_user):
    tpm, cavem = account("tpm"), account("cavem")
    owned_by_tpm = plan(campaign, "Du responsable TPM", owner=tpm)
    on_tpm_site = plan(campaign, "Sur le site TPM", site=site("tpm"))
    on_cavem_site = plan(campaign, "Sur le site CAVEM", site=site("cavem"))
    school_wide = plan(campaign, "Pour toute l’école")
    actions = [owned_by_tpm, on_tpm_site, on_cavem_site, school_wide]
    stranger = make_user(Role.QUALITY_LEAD)
    expected = {
        "qualite": [True, True, True, True],
        "direction": [True, True, True, True],
        "tpm": [True, True, False, False],
        "cavem": [False, False, True, False],
        "auditeur": [False, False, False, False],
    }
    for local, allowed in expected.items():
        assert [can_update_action(account(local), a) for a in actions] == allowed, local
    assert [can_update_action(stranger, a) for a in actions] == [False] * 4
    assert cavem.site.code == "cavem"


# ------------------------------------------------------------------------------- actions_of


def test_action_plan_filters(campaign, pre_audit, afnor, make_evidence):
    a1, a2 = criterion("e2c-label", "A1"), criterion("e2c-label", "A2")
    tpm, qualite = account("tpm"), account("qualite")
    on_a1 = record(afnor, "nc_majeure", title="Sur A1", criteria=[a1])
    on_a2 = record(pre_audit, "point_sensible", title="Sur A2", criteria=[a2])
    plan(campaign, "TPM, constat A1", owner=tpm, site=site("tpm"),
         findings=[on_a1], due_on=date(2018, 5, 15))
    plan(campaign, "Critère A2", site=site("cavem"), criteria=[a2], due_on=date(2018, 6, 30))
    done = plan(campaign, "Faite, A2 deux fois", findings=[on_a2], criteria=[a2],
                due_on=date(2018, 5, 1))
    set_action_status(db.session, done, ActionStatus.DONE, qualite, date(2018, 4, 20))
    going = plan(campaign, "TPM en cours", owner=tpm, due_on=date(2018, 7, 31))
    set_action_status(db.session, going, ActionStatus.IN_PROGRESS, tpm, date(2018, 6, 1))
    other = CampaignFactory(school=campaign.school)
    db.session.commit()
    plan(other, "Autre campagne", owner=tpm, due_on=date(2018, 5, 2))

    def titles(**filters) -> list[str]:
        return [a.title for a in actions_of(db.session, campaign, ActionFilters(**filters))]

    assert titles() == ["Faite, A2 deux fois", "TPM, constat A1", "Critère A2", "TPM en cours"]
    assert titles(mine_user_id=tpm.id) == ["TPM, constat A1", "TPM en cours"]
    assert titles(mine_user_id=account("cavem").id) == []
    assert titles(late_on=date(2018, 5, 15)) == []  # due that day: not late yet
    assert titles(late_on=date(2018, 5, 16)) == ["TPM, constat A1"]  # the done one is not late
    assert titles(late_on=date(2018, 8, 1)) == ["TPM, constat A1", "Critère A2", "TPM en cours"]
    assert titles(site_id=site("tpm").id) == ["TPM, constat A1"]
    assert titles(site_id=site("cavem").id) == ["Critère A2"]
    assert titles(finding_id=on_a1.id) == ["TPM, constat A1"]
    assert titles(finding_id=on_a2.id) == ["Faite, A2 deux fois"]
    assert titles(criterion_id=a1.id) == ["TPM, constat A1"]  # through its finding only
    # Through its own criteria, its findings' criteria, or both (listed once).
    assert titles(criterion_id=a2.id) == ["Faite, A2 deux fois", "Critère A2"]
    assert titles(criterion_id=criterion("e2c-label", "A3").id) == []
    assert titles(open_only=True) == ["TPM, constat A1", "Critère A2", "TPM en cours"]
    assert titles(open_only=True, mine_user_id=tpm.id, late_on=date(2018, 8, 1)) == [
        "TPM, constat A1", "TPM en cours"]
    assert titles(criterion_id=a2.id, open_only=True) == ["Critère A2"]


# ---------------------------------------------------------------------------------- meetings


def test_meetings_held_without_minutes(demo_today, make_evidence):
    campaign = demo_campaign()
    today = event_of(campaign, MilestoneKind.PRE_AUDIT).starts_on + (SEED_DATE
                                                                      - date(2018, 2, 20))
    missing = meetings_without_minutes(campaign, today)
    assert [m.title for m in missing] == ["Rencontre des relais des quartiers prioritaires"]
    # A meeting held today is not yet expected to have its minutes.
    assert meetings_without_minutes(campaign, missing[0].held_on) == []
    three_weeks_on = today + timedelta(days=21)  # the March commissions de suivi are past
    assert [m.held_on - today for m in meetings_without_minutes(campaign, three_weeks_on)] == [
        timedelta(days=d) for d in (-20, 13, 15, 20)]  # 8 Feb; 13, 15 and 20 March 2018
    meeting = missing[0]
    meeting.minutes_evidence = make_evidence(account("qualite"), name="compte-rendu.pdf")
    db.session.commit()
    assert meetings_without_minutes(campaign, today) == []
    assert len(meetings_without_minutes(campaign, three_weeks_on)) == 3


def test_two_people_entering_findings_on_one_audit_get_two_numbers(pre_audit):
    """The second waits for the first one's commit instead of reading the same last number and
    failing on it (PostgreSQL only: SQLite has one writer at a time anyway)."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    first = create_finding(db.session, pre_audit, account("qualite"), FindingInput(
        framework=framework("e2c-label"), type_code="piste_progres", title="Premier"))
    # Not committed yet: another writer asking for the audit's numbering waits (NO KEY UPDATE:
    # the finding's foreign key alone takes a KEY SHARE lock, which would not stop it).
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(Exception, match="lock"):
            other.execute(text("SELECT id FROM milestone WHERE id = :id FOR NO KEY UPDATE"),
                          {"id": pre_audit.id})
    db.session.commit()
    second = record(pre_audit, "piste_progres", title="Second")
    assert second.number == first.number + 1

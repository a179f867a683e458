"""The readiness rules, one case each: what makes a criterion missing, à risque, à valider or
démontrable at a reference date, and the reasons given in words."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from audit_tracker.evidence.service import link_criterion, review
from audit_tracker.extensions import db
from audit_tracker.findings.service import (
    ActionInput,
    FindingInput,
    create_action,
    create_finding,
    set_action_status,
)
from audit_tracker.models import (
    ActionStatus,
    CampaignCriterion,
    Criterion,
    EvidenceKind,
    Framework,
    MilestoneKind,
    ReviewStatus,
    Role,
    SiteExemption,
)
from audit_tracker.readiness.rules import State, default_reference_date, readiness_of

from . import factories

AUDIT = date(2018, 4, 24)
COMMISSION = date(2018, 5, 17)
TODAY = date(2018, 2, 28)


@pytest.fixture
def setting(referentiels, make_user):
    """A school's campaign on both shipped frameworks, an audit and a commission ahead."""
    quality = make_user(Role.QUALITY_LEAD)
    frameworks = list(db.session.scalars(select(Framework).order_by(Framework.code)))
    campaign = factories.CampaignFactory(school=quality.school, frameworks=frameworks)
    factories.MilestoneFactory(campaign=campaign, kind=MilestoneKind.PRE_AUDIT,
                               title="Pré-audit", starts_on=date(2018, 2, 20),
                               ends_on=date(2018, 2, 22))
    factories.MilestoneFactory(campaign=campaign, starts_on=AUDIT, ends_on=date(2018, 4, 26))
    factories.MilestoneFactory(campaign=campaign, kind=MilestoneKind.NATIONAL_COMMISSION,
                               title="Commission", starts_on=COMMISSION, ends_on=None)
    db.session.commit()
    criterion = db.session.scalar(
        select(Criterion).join(Framework)
        .where(Framework.code == "qualiopi-v9", Criterion.code == "1"))
    return campaign, quality, criterion


def validated_proof(make_evidence, author, criterion, **fields):
    evidence = make_evidence(author, **fields)
    link_criterion(db.session, evidence, criterion, "", author)
    review(db.session, evidence, author, ReviewStatus.VALIDATED)
    db.session.commit()
    return evidence


def state_of(campaign, criterion, as_of=AUDIT, **kwargs):
    readiness = readiness_of(db.session, campaign, as_of, today=kwargs.pop("today", TODAY),
                             **kwargs)
    result = readiness.of(criterion.id)
    return result.state, [str(r) for r in result.reasons]


def test_no_proof_is_missing(setting):
    campaign, _quality, criterion = setting
    assert state_of(campaign, criterion) == (State.MISSING, ["Aucune preuve liée"])


def test_proof_expiring_the_day_before_the_audit_puts_it_at_risk(setting, make_evidence):
    campaign, quality, criterion = setting
    validated_proof(make_evidence, quality, criterion, title="Livret d’accueil",
                    valid_until=date(2018, 4, 23))
    state, reasons = state_of(campaign, criterion)
    assert state is State.AT_RISK
    assert reasons == ["La seule preuve (« Livret d’accueil ») expire le 23/04/2018, "
                       "avant l’audit"]


def test_proof_expiring_the_day_of_the_audit_is_still_demonstrable(setting, make_evidence):
    campaign, quality, criterion = setting
    validated_proof(make_evidence, quality, criterion, valid_until=AUDIT)
    state, reasons = state_of(campaign, criterion)
    assert state is State.DEMONSTRABLE
    assert reasons == ["1 preuve validée, valable à la date de référence"]
    # The same proof does not reach the commission.
    state, reasons = state_of(campaign, criterion, as_of=COMMISSION)
    assert state is State.AT_RISK
    assert "avant la commission" in reasons[0]


def test_reference_date_outside_any_milestone_is_named_by_its_day(setting, make_evidence):
    campaign, quality, criterion = setting
    validated_proof(make_evidence, quality, criterion, valid_until=date(2018, 3, 31))
    _state, reasons = state_of(campaign, criterion, as_of=date(2018, 4, 2))
    assert reasons[0].endswith("expire le 31/03/2018, avant le 02/04/2018")


def test_not_applicable_criterion_keeps_its_reason(setting, make_evidence):
    campaign, quality, criterion = setting
    db.session.add(CampaignCriterion(campaign=campaign, criterion=criterion, applicable=False,
                                     not_applicable_reason="aucune action de VAE"))
    db.session.commit()
    readiness = readiness_of(db.session, campaign, AUDIT, today=TODAY)
    assert state_of(campaign, criterion) == (
        State.NOT_APPLICABLE, ["Non applicable : aucune action de VAE"])
    # It leaves the share démontrable: the denominator is the applicable criteria.
    assert len(readiness.applicable) == len(readiness.criteria) - 1


def test_criterion_reserved_to_another_category_does_not_apply(setting):
    campaign, _quality, _criterion = setting
    campaign.categories = ["AF"]
    db.session.commit()
    cfa_only = db.session.scalar(
        select(Criterion).join(Framework)
        .where(Framework.code == "qualiopi-v9", Criterion.code == "14"))
    assert cfa_only.applies_to == ["CFA"]
    state, reasons = state_of(campaign, cfa_only)
    assert state is State.NOT_APPLICABLE
    assert reasons == ["Réservé aux catégories CFA, que la campagne ne couvre pas"]


def test_site_exemption_applies_to_that_site_only(setting, make_evidence):
    campaign, quality, criterion = setting
    site = factories.SiteFactory(school=quality.school, name="Site Dracénie")
    other = factories.SiteFactory(school=quality.school)
    db.session.add(SiteExemption(campaign=campaign, criterion=criterion, site=site,
                                 reason="pas d’atelier sur ce site"))
    db.session.commit()
    assert state_of(campaign, criterion, site_id=site.id) == (
        State.NOT_APPLICABLE, ["Non applicable au site Site Dracénie : pas d’atelier sur ce site"])
    assert state_of(campaign, criterion, site_id=other.id)[0] is State.MISSING
    assert state_of(campaign, criterion)[0] is State.MISSING


def test_major_nonconformity_on_one_criterion_only(setting, make_evidence):
    campaign, quality, criterion = setting
    other = db.session.scalar(
        select(Criterion).join(Framework).where(Framework.code == "qualiopi-v9",
                                                Criterion.code == "2"))
    validated_proof(make_evidence, quality, criterion)
    validated_proof(make_evidence, quality, other, name="autre.pdf")
    qualiopi = criterion.framework
    pre_audit = campaign.milestones[0]
    create_finding(db.session, pre_audit, quality, FindingInput(
        framework=qualiopi, type_code="nc_majeure", title="Information non publiée",
        criteria=[criterion]))
    state, reasons = state_of(campaign, criterion)
    assert state is State.AT_RISK
    assert reasons[0] == "Non-conformité majeure ouverte (Pré-audit n°1)"
    assert state_of(campaign, other)[0] is State.DEMONSTRABLE


def test_late_action_puts_its_criterion_at_risk_with_the_days(setting, make_evidence):
    campaign, quality, criterion = setting
    validated_proof(make_evidence, quality, criterion)
    create_action(db.session, campaign, quality, ActionInput(
        title="Mettre à jour le site web", owner=quality, due_on=date(2018, 2, 19),
        criteria=[criterion]))
    state, reasons = state_of(campaign, criterion)
    assert state is State.AT_RISK
    assert reasons == [f"Action « Mettre à jour le site web » en retard de 9 jours "
                       f"({quality.full_name})"]


def test_finished_action_no_longer_counts(setting, make_evidence):
    campaign, quality, criterion = setting
    validated_proof(make_evidence, quality, criterion)
    action = create_action(db.session, campaign, quality, ActionInput(
        title="Mettre à jour le site web", owner=quality, due_on=date(2018, 2, 19),
        criteria=[criterion]))
    set_action_status(db.session, action, ActionStatus.DONE, quality, TODAY)
    assert state_of(campaign, criterion)[0] is State.DEMONSTRABLE


def test_action_still_open_at_the_reference_date(setting, make_evidence):
    campaign, quality, criterion = setting
    validated_proof(make_evidence, quality, criterion)
    create_action(db.session, campaign, quality, ActionInput(
        title="Former les formateurs", owner=quality, due_on=date(2018, 5, 1),
        criteria=[criterion]))
    state, reasons = state_of(campaign, criterion)
    assert state is State.AT_RISK
    assert reasons == ["Action « Former les formateurs » prévue le 01/05/2018, avant l’audit"]
    # Planned before the commission, it no longer blocks readiness for the commission date.
    assert state_of(campaign, criterion, as_of=COMMISSION)[0] is State.DEMONSTRABLE


def test_only_a_paper_proof_is_demonstrable_on_site(setting, make_evidence):
    campaign, quality, criterion = setting
    validated_proof(make_evidence, quality, criterion, kind=EvidenceKind.PAPER,
                    title="Registre des entrées", paper_location="Bureau de direction, TPM")
    state, reasons = state_of(campaign, criterion)
    assert state is State.DEMONSTRABLE
    assert reasons[1] == ("Seule une preuve papier, à présenter sur place (« Bureau de "
                          "direction, TPM ») : elle ne peut pas figurer dans le dossier envoyé")


def test_unvalidated_proof_is_to_validate(setting, make_evidence):
    campaign, quality, criterion = setting
    evidence = make_evidence(quality)
    link_criterion(db.session, evidence, criterion, "", quality)
    db.session.commit()
    assert state_of(campaign, criterion) == (
        State.TO_VALIDATE, ["1 preuve en attente de validation"])


def test_refused_proof_counts_as_missing(setting, make_evidence):
    campaign, quality, criterion = setting
    evidence = make_evidence(quality)
    link_criterion(db.session, evidence, criterion, "", quality)
    review(db.session, evidence, quality, ReviewStatus.REFUSED, "illisible")
    db.session.commit()
    assert state_of(campaign, criterion) == (
        State.MISSING, ["La seule preuve liée a été refusée"])


def test_default_reference_date_is_the_next_audit(setting):
    campaign, _quality, _criterion = setting
    assert default_reference_date(campaign, TODAY) == AUDIT
    assert default_reference_date(campaign, date(2018, 4, 25)) == date(2018, 4, 25)
    assert default_reference_date(campaign, date(2018, 5, 1)) == COMMISSION
    assert default_reference_date(campaign, date(2018, 6, 1)) == date(2018, 6, 1)

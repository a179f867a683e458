"""The demo's working state at the seed's date: proofs, the pré-audit's findings, late actions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from audit_tracker.clock import local_today
from audit_tracker.demo_story import load_demo_story
from audit_tracker.evidence.service import validity_warnings
from audit_tracker.extensions import db
from audit_tracker.models import (
    Action,
    Campaign,
    Evidence,
    EvidenceKind,
    Finding,
    MilestoneKind,
    ReviewStatus,
)
from audit_tracker.storage import upload_tmp_dir


@pytest.fixture
def story(app, demo_today, storage):
    counts = load_demo_story(db.session, storage, upload_tmp_dir(app), today=local_today())
    return counts


def test_story_fills_the_library_with_every_kind_of_proof(story, storage):
    """Documents, links and paper proofs, in every review state, each file really stored."""
    assert story == {"proofs": 12, "findings": 9, "actions": 6}
    proofs = list(db.session.scalars(select(Evidence)))
    assert {p.kind for p in proofs} == set(EvidenceKind)
    assert {p.status for p in proofs} == {ReviewStatus.DRAFT, ReviewStatus.TO_REVIEW,
                                          ReviewStatus.VALIDATED}
    keys = {v.storage_key for p in proofs for v in p.versions}
    assert keys and keys == set(storage.keys())


def test_story_holds_a_proof_valid_today_but_not_at_the_audit(story):
    """The month-end dashboard expires on 31/03: fine today, stale at the AFNOR audit."""
    campaign = db.session.scalar(select(Campaign))
    dashboard = db.session.scalar(select(Evidence).where(Evidence.title.like("Tableau de bord%")))
    warnings = validity_warnings(dashboard, local_today(), campaign.milestones)
    assert [w.code for w in warnings] == ["audit_initial", "commission_nationale"]


def test_story_follows_the_pre_audit_report(story):
    """Graduates, QPV and the logique de preuve, with deadlines from the scale's rules."""
    campaign = db.session.scalar(select(Campaign))
    events = {m.kind: m for m in campaign.milestones}
    pre_audit, audit = events[MilestoneKind.PRE_AUDIT], events[MilestoneKind.INITIAL_AUDIT]
    assert pre_audit.report_evidence.title.startswith("Rapport de pré-audit")
    found = {f.title: f for f in db.session.scalars(
        select(Finding).where(Finding.milestone_id == pre_audit.id))}
    assert len(found) == 7
    qpv = next(f for t, f in found.items() if "QPV" in t)
    assert qpv.finding_type.code == "point_sensible"
    # An accompaniment visit's findings: 15 days before the audit (issue 16), whatever the type.
    assert qpv.due_on == audit.starts_on - timedelta(days=15)
    minutes = next(f for t, f in found.items() if t.startswith("Comptes rendus des comités"))
    assert minutes.due_on == audit.starts_on - timedelta(days=15)
    assert minutes.verify_by is None
    assert sum(f.finding_type.code == "point_fort" for f in found.values()) == 2
    # The note names no non-conformity: the demo invents none.
    assert [f.title for f in found.values() if f.finding_type.is_nonconformity] == []


def test_story_has_two_late_actions_one_nine_days_late(story):
    """As of the seed's date, the proof-filing action is 9 days late, the COL minutes 5."""
    today = local_today()
    late = {a.title: a.days_late(today) for a in db.session.scalars(select(Action))
            if a.days_late(today)}
    assert late == {
        "Classer chaque preuve par critère dans l’outil qualité": 9,
        "Formaliser et diffuser les comptes rendus des comités opérationnels locaux": 5,
    }


def test_story_at_real_dates_keeps_the_2018_calendar(app, demo, storage):
    """Without a shift, the late action was due on 19 February 2018."""
    load_demo_story(db.session, storage, upload_tmp_dir(app), today=None)
    due = db.session.scalar(select(Action.due_on).where(Action.title.like("Classer%")))
    assert due == date(2018, 2, 19)
    assert db.session.scalar(select(func.count(Finding.id))) == 9

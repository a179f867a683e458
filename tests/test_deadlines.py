"""Deadline rules of the finding scale: month arithmetic at month ends, each rule's due dates,
and which audit counts as « the next one ». Pure unit tests on objects built in memory.

Every expected date is written out, never recomputed with the function under test.
"""

from __future__ import annotations

from datetime import date

import pytest

from audit_tracker.findings.deadlines import add_months, compute_deadline, next_audit_after
from audit_tracker.models import FindingKind, FindingType, Milestone, MilestoneKind

# ------------------------------------------------------------------------------- add_months


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2018, 1, 31), 1, date(2018, 2, 28)),  # no 31 February: the month's last day
        (date(2020, 1, 31), 1, date(2020, 2, 29)),  # leap year
        (date(2020, 2, 29), 12, date(2021, 2, 28)),  # leap day, a year on, in a common year
        (date(2024, 2, 29), 1, date(2024, 3, 29)),  # the day exists next month: kept, not 31
        (date(2018, 11, 30), 3, date(2019, 2, 28)),
        (date(2019, 11, 30), 3, date(2020, 2, 29)),
        (date(2018, 3, 31), 1, date(2018, 4, 30)),
        (date(2018, 8, 31), 6, date(2019, 2, 28)),
        (date(2018, 12, 15), 1, date(2019, 1, 15)),  # December rolls over to January
        (date(2018, 12, 31), 1, date(2019, 1, 31)),
        (date(2018, 12, 31), 2, date(2019, 2, 28)),
        (date(2018, 11, 15), 2, date(2019, 1, 15)),
        (date(2018, 1, 15), 12, date(2019, 1, 15)),
        (date(2018, 1, 15), 24, date(2020, 1, 15)),
        (date(2018, 4, 26), 3, date(2018, 7, 26)),
        (date(2018, 4, 26), 6, date(2018, 10, 26)),
        (date(2018, 4, 26), 0, date(2018, 4, 26)),  # 0 months: the same day
        (date(2020, 2, 29), 0, date(2020, 2, 29)),
    ],
)
def test_add_months_keeps_the_day_or_falls_back_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


# -------------------------------------------------------------------------- compute_deadline


def finding_type(code: str, kind: FindingKind = FindingKind.NONCONFORMITY, *,
                 action_months: int | None = None, verify_months: int | None = None,
                 before_next_audit: bool = False, rule: str = "") -> FindingType:
    return FindingType(code=code, label=code, kind=kind, action_months=action_months,
                       verify_months=verify_months, before_next_audit=before_next_audit,
                       rule=rule)


def nc_majeure() -> FindingType:
    return finding_type("nc_majeure", action_months=3, verify_months=1,
                        rule="Actions correctives effectives sous 3 mois après l’audit.")


def audit(starts_on: date, ends_on: date | None = None,
          kind: MilestoneKind = MilestoneKind.INITIAL_AUDIT, title: str = "Audit") -> Milestone:
    return Milestone(kind=kind, title=title, starts_on=starts_on, ends_on=ends_on)


def test_major_nonconformity_from_an_audit_ending_on_31_january():
    deadline = compute_deadline(nc_majeure(), audit(date(2018, 1, 29), date(2018, 1, 31)), None)
    assert deadline.exists
    assert deadline.due_on == date(2018, 4, 30)  # 31 January + 3 months: no 31 April
    assert deadline.verify_by == date(2018, 5, 30)  # a month after the due date, not the audit
    assert deadline.explanation == "Actions correctives effectives sous 3 mois après l’audit."


def test_major_nonconformity_from_30_november_lands_on_the_leap_day():
    deadline = compute_deadline(nc_majeure(), audit(date(2019, 11, 28), date(2019, 11, 30)), None)
    assert deadline.due_on == date(2020, 2, 29)
    assert deadline.verify_by == date(2020, 3, 29)


def test_rule_counts_from_the_audits_last_day_not_its_first():
    afnor = audit(date(2018, 4, 24), date(2018, 4, 26))
    deadline = compute_deadline(nc_majeure(), afnor, None)
    assert deadline.due_on == date(2018, 7, 26)
    assert deadline.verify_by == date(2018, 8, 26)


def test_one_day_event_counts_from_its_only_day():
    deadline = compute_deadline(nc_majeure(), audit(date(2018, 5, 17)), None)
    assert deadline.due_on == date(2018, 8, 17)
    assert deadline.verify_by == date(2018, 9, 17)


def test_minor_nonconformity_gets_six_months_and_no_verification_date():
    mineure = finding_type("nc_mineure", action_months=6, rule="Plan d’action sous 6 mois.")
    deadline = compute_deadline(mineure, audit(date(2018, 4, 24), date(2018, 4, 26)), None)
    assert deadline.due_on == date(2018, 10, 26)
    assert deadline.verify_by is None
    assert deadline.explanation == "Plan d’action sous 6 mois."


def test_minor_nonconformity_six_months_from_31_august_is_28_february():
    mineure = finding_type("nc_mineure", action_months=6)
    deadline = compute_deadline(mineure, audit(date(2018, 8, 29), date(2018, 8, 31)), None)
    assert deadline.due_on == date(2019, 2, 28)


def test_a_month_rule_without_its_own_wording_explains_itself_with_the_audit_day():
    mineure = finding_type("nc_mineure", action_months=6)
    deadline = compute_deadline(mineure, audit(date(2018, 4, 24), date(2018, 4, 26)), None)
    assert "6 mois" in deadline.explanation
    assert "26/04/2018" in deadline.explanation


def test_a_month_rule_ignores_the_next_audit():
    later = audit(date(2018, 6, 1), kind=MilestoneKind.SURVEILLANCE_AUDIT)
    deadline = compute_deadline(nc_majeure(), audit(date(2018, 4, 24), date(2018, 4, 26)), later)
    assert deadline.due_on == date(2018, 7, 26)


SENSIBLE_RULE = "À traiter avant l’audit suivant (règle supposée, à confirmer avec le réseau)."


def point_sensible() -> FindingType:
    return finding_type("point_sensible", FindingKind.WATCH, before_next_audit=True,
                        rule=SENSIBLE_RULE)


def test_point_sensible_is_due_the_day_before_the_next_audit_starts():
    pre_audit = audit(date(2018, 2, 20), date(2018, 2, 22), kind=MilestoneKind.PRE_AUDIT)
    afnor = audit(date(2018, 4, 24), date(2018, 4, 26))
    deadline = compute_deadline(point_sensible(), pre_audit, afnor)
    assert deadline.due_on == date(2018, 4, 23)
    assert deadline.verify_by is None
    assert deadline.explanation == SENSIBLE_RULE


@pytest.mark.parametrize(
    ("next_start", "expected"),
    [
        (date(2020, 3, 1), date(2020, 2, 29)),  # day before, across a leap February
        (date(2019, 3, 1), date(2019, 2, 28)),
        (date(2019, 1, 1), date(2018, 12, 31)),  # day before, across the new year
    ],
)
def test_day_before_the_next_audit_crosses_month_and_year_ends(next_start, expected):
    event = audit(date(2018, 11, 20), date(2018, 11, 22), kind=MilestoneKind.PRE_AUDIT)
    next_audit = audit(next_start, kind=MilestoneKind.SURVEILLANCE_AUDIT)
    assert compute_deadline(point_sensible(), event, next_audit).due_on == expected


def test_before_next_audit_without_a_next_audit_has_no_due_date_and_says_why():
    deadline = compute_deadline(point_sensible(), audit(date(2018, 4, 24), date(2018, 4, 26)),
                                None)
    assert not deadline.exists
    assert deadline.due_on is None
    assert deadline.verify_by is None
    assert "pas encore planifié" in deadline.explanation


def test_type_without_a_rule_has_no_due_date():
    point_fort = finding_type("point_fort", FindingKind.STRENGTH)
    afnor = audit(date(2018, 4, 24), date(2018, 4, 26))
    later = audit(date(2019, 4, 24), kind=MilestoneKind.SURVEILLANCE_AUDIT)
    deadline = compute_deadline(point_fort, afnor, later)
    assert not deadline.exists
    assert deadline.due_on is None
    assert deadline.verify_by is None
    assert deadline.explanation == ""


# --------------------------------------------------------------------------- next_audit_after


def campaign_events() -> dict[str, Milestone]:
    return {
        "visite": audit(date(2017, 12, 12), kind=MilestoneKind.ADVISORY_VISIT,
                        title="Visite conseil"),
        "pre_audit": audit(date(2018, 2, 20), date(2018, 2, 22), kind=MilestoneKind.PRE_AUDIT,
                           title="Pré-audit"),
        "afnor": audit(date(2018, 4, 24), date(2018, 4, 26), title="Audit AFNOR"),
        "commission": audit(date(2018, 5, 17), kind=MilestoneKind.NATIONAL_COMMISSION,
                            title="Commission"),
        "decision": audit(date(2018, 6, 1), kind=MilestoneKind.DECISION, title="Décision"),
        "visite_2": audit(date(2019, 1, 10), kind=MilestoneKind.ADVISORY_VISIT,
                          title="Visite conseil 2"),
        "suivi": audit(date(2020, 4, 21), date(2020, 4, 22), kind=MilestoneKind.SURVEILLANCE_AUDIT,
                       title="Audit de suivi"),
    }


def test_next_audit_after_a_visit_or_pre_audit_is_the_label_audit():
    events = campaign_events()
    shuffled = [events[k] for k in ("suivi", "commission", "afnor", "visite", "pre_audit")]
    assert next_audit_after(shuffled, events["visite"]) is events["afnor"]
    assert next_audit_after(shuffled, events["pre_audit"]) is events["afnor"]


def test_next_audit_after_an_audit_skips_the_commission_and_visits_for_the_follow_up():
    events = campaign_events()
    milestones = list(events.values())
    assert next_audit_after(milestones, events["afnor"]) is events["suivi"]
    assert next_audit_after(milestones, events["commission"]) is events["suivi"]


def test_next_audit_after_the_last_audit_is_none():
    events = campaign_events()
    assert next_audit_after(list(events.values()), events["suivi"]) is None
    assert next_audit_after([events["visite"], events["commission"]], events["visite"]) is None
    assert next_audit_after([], events["visite"]) is None


def test_an_audit_starting_before_the_event_ends_is_not_the_next_one():
    pre_audit = audit(date(2018, 2, 20), date(2018, 2, 22), kind=MilestoneKind.PRE_AUDIT)
    same_day = audit(date(2018, 2, 22), date(2018, 2, 23))  # starts on the pre-audit's last day
    following = audit(date(2018, 2, 23))
    assert next_audit_after([same_day, pre_audit, following], pre_audit) is following
    assert next_audit_after([same_day, pre_audit], pre_audit) is None


def test_follow_up_audits_count_as_next_audits():
    afnor = audit(date(2018, 4, 24), date(2018, 4, 26))
    first = audit(date(2019, 4, 23), kind=MilestoneKind.SURVEILLANCE_AUDIT)
    second = audit(date(2020, 4, 21), kind=MilestoneKind.SURVEILLANCE_AUDIT)
    assert next_audit_after([second, first, afnor], afnor) is first

"""Readiness of each criterion at a reference date: the rules, in one place.

The product never says "conforme": the auditor decides. It says whether the school can
*demonstrate* a criterion on a given day, and why not. For an applicable criterion, the first rule
that matches gives the state:

1. **preuve manquante**: no proof linked, or only refused ones;
2. **à risque**: a non-conformity is open on it, an action on it is late (today) or will still be
   open on the reference date, or every validated proof will have expired by then;
3. **à valider**: proofs are linked but none is validated yet;
4. **démontrable**: at least one validated proof valid on the reference date, nothing above.

A criterion is **non applicable** when the school said so (with a reason), when it is reserved to
categories of action the campaign does not run (Qualiopi's CFA indicators for a school without
apprentices), when the campaign's actions lead to no certification and the framework reserves it
to certifying actions (Qualiopi 3, 7 and 16, its ``rules.non_certifying``), or, for one site,
when that site is exempted. Every state carries its reasons as structured ``Reason`` objects,
rendered in the reader's language when shown, so a snapshot taken in French reads in English
later.

Everything is loaded in a fixed number of queries, whatever the size of the campaign: the
dashboard and the API call this once per page.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, selectinload

from ..findings.service import escalation_of
from ..models import (
    Action,
    ActionStatus,
    Campaign,
    CampaignCriterion,
    ClaimStatus,
    Criterion,
    Evidence,
    EvidenceKind,
    EvidenceLink,
    Finding,
    FindingKind,
    FindingStatus,
    FindingType,
    Framework,
    Milestone,
    MilestoneKind,
    ReviewStatus,
    Section,
    SiteExemption,
    User,
    action_criterion,
    action_finding,
    finding_criterion,
)


class State(enum.StrEnum):
    NOT_APPLICABLE = "non_applicable"
    MISSING = "preuve_manquante"
    TO_VALIDATE = "a_valider"
    AT_RISK = "a_risque"
    DEMONSTRABLE = "demontrable"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])

    @property
    def rank(self) -> int:
        """Worst first: the order of the dashboard's lists."""
        return STATE_ORDER.index(self)

    @property
    def tone(self) -> str:
        """The Bootstrap colour name of the state's badge on the pages."""
        return STATE_COLOURS[self][0]

    @property
    def colour(self) -> str:
        """The same colour in hex, for the PDF and the charts drawn with reportlab."""
        return STATE_COLOURS[self][1]


STATE_LABELS = {
    State.NOT_APPLICABLE: _l("Non applicable"),
    State.MISSING: _l("Preuve manquante"),
    State.TO_VALIDATE: _l("À valider"),
    State.AT_RISK: _l("À risque"),
    State.DEMONSTRABLE: _l("Démontrable"),
}
# Each state's one colour: its Bootstrap name on the pages and that name's hex in the PDF.
STATE_COLOURS = {
    State.NOT_APPLICABLE: ("secondary", "#6c757d"),
    State.MISSING: ("danger", "#b02a37"),
    State.TO_VALIDATE: ("info", "#087990"),
    State.AT_RISK: ("warning", "#ca6510"),
    State.DEMONSTRABLE: ("success", "#146c43"),
}
STATE_ORDER = (State.MISSING, State.AT_RISK, State.TO_VALIDATE, State.DEMONSTRABLE,
               State.NOT_APPLICABLE)

@dataclass(frozen=True)
class Reason:
    """Why a criterion is in its state: a code, and the facts to word it with."""

    code: str
    params: dict = field(default_factory=dict, hash=False, compare=True)

    def to_json(self) -> dict:
        return {"code": self.code, "params": self.params}

    @classmethod
    def from_json(cls, data: dict) -> Reason:
        return cls(data["code"], dict(data.get("params") or {}))

    @property
    def text(self) -> str:
        return _WORDING[self.code](self.params)

    def __str__(self) -> str:
        return self.text


def _day(value: str) -> str:
    return format_date(date.fromisoformat(value), "dd/MM/yyyy")


def _before(p: dict) -> str:
    """« avant l’audit » when the reference date is a milestone's, else « avant le 24/04/2018 »."""
    if p.get("reference"):
        return gettext("avant %(reference)s", reference=REFERENCE_WORDS[p["reference"]])
    return gettext("avant le %(day)s", day=_day(p["as_of"]))


REFERENCE_WORDS = {
    "audit": _l("l’audit"),
    "commission": _l("la commission"),
    "pre_audit": _l("le pré-audit"),
}

_WORDING = {
    "non_applicable": lambda p: gettext("Non applicable : %(reason)s", reason=p["reason"]),
    "non_certifiant": lambda p: gettext("Non applicable : %(reason)s", reason=p["reason"]),
    "categorie": lambda p: gettext(
        "Réservé aux catégories %(categories)s, que la campagne ne couvre pas",
        categories=", ".join(p["categories"])),
    "site_exempte": lambda p: gettext("Non applicable au site %(site)s : %(reason)s",
                                      site=p["site"], reason=p["reason"]),
    "aucune_preuve": lambda p: gettext("Aucune preuve liée"),
    "preuves_refusees": lambda p: ngettext(
        "La seule preuve liée a été refusée", "Les %(num)d preuves liées ont été refusées",
        p["count"]),
    "a_valider": lambda p: ngettext(
        "%(num)d preuve en attente de validation", "%(num)d preuves en attente de validation",
        p["count"]),
    "lien_a_confirmer": lambda p: ngettext(
        "%(num)d preuve validée liée à ce critère, lien à confirmer",
        "%(num)d preuves validées liées à ce critère, liens à confirmer", p["count"]),
    "seule_preuve_expire": lambda p: gettext(
        "La seule preuve (« %(title)s ») expire le %(day)s, %(before)s",
        title=p["title"], day=_day(p["valid_until"]), before=_before(p)),
    "preuves_expirent": lambda p: ngettext(
        "La preuve validée expire le %(day)s, %(before)s",
        "Les %(num)d preuves validées expirent au plus tard le %(day)s, %(before)s",
        p["count"], day=_day(p["valid_until"]), before=_before(p)),
    "nc_ouverte": lambda p: gettext("%(type)s ouverte (%(finding)s)",
                                    type=p["type"], finding=p["finding"]),
    "action_en_retard": lambda p: ngettext(
        "Action « %(title)s » en retard de %(num)d jour (%(owner)s)",
        "Action « %(title)s » en retard de %(num)d jours (%(owner)s)",
        p["days"], title=p["title"], owner=p["owner"]),
    "action_apres_reference": lambda p: gettext(
        "Action « %(title)s » prévue le %(day)s, %(before)s", title=p["title"],
        day=_day(p["due_on"]), before=_before(p)),
    "constat_sans_action": lambda p: gettext("%(finding)s ouvert sans action prévue",
                                             finding=p["finding"]),
    "papier_seul": lambda p: gettext(
        "Seule une preuve papier, à présenter sur place (« %(location)s ») : elle ne peut pas "
        "figurer dans le dossier envoyé", location=p["location"]),
    "preuves_valides": lambda p: ngettext(
        "%(num)d preuve validée, valable à la date de référence",
        "%(num)d preuves validées, valables à la date de référence", p["count"]),
}


@dataclass(frozen=True)
class CriterionReadiness:
    criterion_id: int
    framework_id: int
    framework_code: str
    section_id: int
    section_code: str
    section_title: str
    code: str
    title: str
    indispensable: bool
    state: State
    reasons: tuple[Reason, ...]
    evidence_ids: tuple[int, ...]  # proofs linked and not refused, in link order

    def to_json(self) -> dict:
        return {
            "id": self.criterion_id,
            "framework_id": self.framework_id,
            "framework_code": self.framework_code,
            "section_id": self.section_id,
            "section_code": self.section_code,
            "section_title": self.section_title,
            "code": self.code,
            "title": self.title,
            "indispensable": self.indispensable,
            "state": self.state.value,
            "reasons": [r.to_json() for r in self.reasons],
            "evidence_ids": list(self.evidence_ids),
        }

    @classmethod
    def from_json(cls, data: dict) -> CriterionReadiness:
        return cls(
            criterion_id=data["id"], framework_id=data["framework_id"],
            framework_code=data["framework_code"], section_id=data["section_id"],
            section_code=data["section_code"], section_title=data.get("section_title", ""),
            code=data["code"], title=data["title"],
            indispensable=data["indispensable"], state=State(data["state"]),
            reasons=tuple(Reason.from_json(r) for r in data["reasons"]),
            evidence_ids=tuple(data["evidence_ids"]),
        )


@dataclass(frozen=True)
class Readiness:
    campaign_id: int
    as_of: date
    criteria: tuple[CriterionReadiness, ...]  # référentiel order
    site_id: int | None = None

    def counts(self) -> dict[State, int]:
        counted = Counter(c.state for c in self.criteria)
        return {state: counted.get(state, 0) for state in State}

    @property
    def applicable(self) -> list[CriterionReadiness]:
        return [c for c in self.criteria if c.state is not State.NOT_APPLICABLE]

    @property
    def share_demonstrable(self) -> float | None:
        """Démontrables among applicable criteria; None when nothing applies."""
        applicable = self.applicable
        if not applicable:
            return None
        return sum(c.state is State.DEMONSTRABLE for c in applicable) / len(applicable)

    def of(self, criterion_id: int) -> CriterionReadiness:
        return next(c for c in self.criteria if c.criterion_id == criterion_id)

    def in_state(self, state: State) -> list[CriterionReadiness]:
        return [c for c in self.criteria if c.state is state]

    def worst_first(self, *, indispensable_first: bool = True) -> list[CriterionReadiness]:
        """Applicable criteria, indispensable ones first, then worst state first, stable."""
        return sorted(
            self.applicable,
            key=lambda c: ((not c.indispensable) if indispensable_first else False,
                           c.state.rank),
        )

    def groups(self) -> list[tuple[str, str, dict[State, int]]]:
        """(framework code, section label, counts per state) in référentiel order."""
        grouped: dict[tuple[str, str], Counter] = {}
        for c in self.criteria:
            label = f"{c.section_code} · {c.section_title}" if c.section_title else c.section_code
            grouped.setdefault((c.framework_code, label), Counter())[c.state] += 1
        return [(fw, section, {s: n.get(s, 0) for s in State})
                for (fw, section), n in grouped.items()]


def _is_audit(kind: MilestoneKind) -> bool:
    return kind.is_certification_audit


def _is_commission(kind: MilestoneKind) -> bool:
    return kind is MilestoneKind.NATIONAL_COMMISSION


def default_reference_date(campaign: Campaign, today: date) -> date:
    """The next audit's first day; else the next commission or milestone; else today."""
    coming = [m for m in campaign.milestones if m.last_day >= today]
    for wanted in (_is_audit, _is_commission, None):
        for milestone in coming:
            if wanted is None or wanted(milestone.kind):
                return max(milestone.starts_on, today)
    return today


def reference_name(campaign: Campaign, as_of: date) -> str | None:
    """Which milestone the reference date is the day of, as a code for the wording."""
    for milestone in campaign.milestones:
        if milestone.starts_on <= as_of <= milestone.last_day:
            if milestone.kind.is_certification_audit:
                return "audit"
            if milestone.kind is MilestoneKind.NATIONAL_COMMISSION:
                return "commission"
            if milestone.kind is MilestoneKind.PRE_AUDIT:
                return "pre_audit"
    return None


@dataclass
class _Proof:
    id: int
    title: str
    kind: EvidenceKind
    status: ReviewStatus
    valid_until: date | None
    paper_location: str | None
    claim: ClaimStatus = ClaimStatus.CONFIRMED

    @property
    def claim_pending(self) -> bool:
        """A validated proof newly claimed for this criterion: nobody confirmed it here yet."""
        return self.status is ReviewStatus.VALIDATED and self.claim is ClaimStatus.TO_CONFIRM


@dataclass
class _Facts:
    """Everything the rules read about one criterion."""

    proofs: list[_Proof] = field(default_factory=list)
    findings: list[tuple] = field(default_factory=list)
    actions: dict[int, tuple] = field(default_factory=dict)


def readiness_of(session: Session, campaign: Campaign, as_of: date, *, today: date | None = None,
                 site_id: int | None = None) -> Readiness:
    """Readiness of every criterion of the campaign's frameworks on ``as_of``.

    ``today`` decides lateness (an action is late now, whatever the reference date); it defaults
    to ``as_of``. With ``site_id``, only that site's and school-wide records count.
    """
    today = today or as_of
    framework_ids = [f.id for f in campaign.frameworks]
    criteria = session.execute(
        select(Criterion.id, Criterion.framework_id, Framework.code, Criterion.section_id,
               Section.code, Section.title, Criterion.code, Criterion.title,
               Criterion.indispensable,
               Criterion.applies_to)
        .join(Framework, Criterion.framework_id == Framework.id)
        .join(Section, Criterion.section_id == Section.id)
        .where(Criterion.framework_id.in_(framework_ids))
        .order_by(Framework.code, Criterion.position)
    ).all()
    in_campaign = Criterion.framework_id.in_(framework_ids)
    decisions = {
        row.criterion_id: row for row in session.scalars(
            select(CampaignCriterion).where(CampaignCriterion.campaign_id == campaign.id))
    }
    exemptions = {}
    if site_id is not None:
        exemptions = {
            row.criterion_id: row for row in session.scalars(
                select(SiteExemption).where(SiteExemption.campaign_id == campaign.id,
                                            SiteExemption.site_id == site_id)
                .join(SiteExemption.site))
        }
    facts: dict[int, _Facts] = defaultdict(_Facts)
    for row in _proof_rows(session, campaign, in_campaign, site_id):
        facts[row[0]].proofs.append(_Proof(*row[1:]))
    escalated = _escalated_labels(session, campaign, as_of)
    for row in _finding_rows(session, campaign, site_id):
        criterion_id, finding_id, number, label, *rest = row
        facts[criterion_id].findings.append(
            (finding_id, number, escalated.get(finding_id, label), *rest))
    for row in _action_rows(session, campaign, site_id):
        facts[row[0]].actions.setdefault(row[1], row[1:])

    reference = reference_name(campaign, as_of)
    context = {"as_of": as_of.isoformat(), "reference": reference}
    categories = set(campaign.categories or [])
    # A campaign whose actions lead to no certification does not answer the criteria the
    # framework reserves to certifying actions (Qualiopi 3, 7 and 16).
    not_certifying: dict[int, tuple[set[str], str]] = {}
    if not campaign.certifying:
        for framework in campaign.frameworks:
            rule = (framework.rules or {}).get("non_certifying") or {}
            if rule.get("criteria"):
                not_certifying[framework.id] = ({str(c) for c in rule["criteria"]},
                                                str(rule.get("reason") or ""))
    results = []
    for (criterion_id, framework_id, framework_code, section_id, section_code, section_title,
         code, title, indispensable, applies_to) in criteria:
        known = facts.get(criterion_id, _Facts())
        state, reasons = _judge(
            known, as_of, today, context,
            decision=decisions.get(criterion_id), exemption=exemptions.get(criterion_id),
            not_certifying=not_certifying[framework_id][1]
            if framework_id in not_certifying and code in not_certifying[framework_id][0]
            else None,
            reserved_to=applies_to if categories and applies_to
            and not categories.intersection(applies_to) else None,
        )
        results.append(CriterionReadiness(
            criterion_id=criterion_id, framework_id=framework_id, framework_code=framework_code,
            section_id=section_id, section_code=section_code, section_title=section_title,
            code=code, title=title,
            indispensable=indispensable, state=state, reasons=tuple(reasons),
            evidence_ids=tuple(p.id for p in known.proofs if p.status is not ReviewStatus.REFUSED),
        ))
    return Readiness(campaign.id, as_of, tuple(results), site_id)


def _judge(known: _Facts, as_of: date, today: date, context: dict, *, decision, exemption,
           reserved_to: Iterable[str] | None,
           not_certifying: str | None = None) -> tuple[State, list[Reason]]:
    if decision is not None and not decision.applicable:
        return State.NOT_APPLICABLE, [Reason("non_applicable",
                                             {"reason": decision.not_applicable_reason})]
    if not_certifying is not None:
        return State.NOT_APPLICABLE, [Reason("non_certifiant", {"reason": not_certifying})]
    if reserved_to:
        return State.NOT_APPLICABLE, [Reason("categorie", {"categories": sorted(reserved_to)})]
    if exemption is not None:
        return State.NOT_APPLICABLE, [Reason("site_exempte", {"site": exemption.site.name,
                                                              "reason": exemption.reason})]

    kept = [p for p in known.proofs if p.status is not ReviewStatus.REFUSED]
    validated = [p for p in kept if p.status is ReviewStatus.VALIDATED and not p.claim_pending]
    valid = [p for p in validated if p.valid_until is None or p.valid_until >= as_of]
    pending = [p for p in kept if p.status in {ReviewStatus.DRAFT, ReviewStatus.TO_REVIEW}]
    claims = [p for p in kept if p.claim_pending]

    risks: list[Reason] = []
    for (_id, number, type_label, kind, milestone_kind, _site) in known.findings:
        finding = gettext("%(event)s n°%(number)s", event=MilestoneKind(milestone_kind).label,
                          number=number)
        if kind is FindingKind.NONCONFORMITY:
            risks.append(Reason("nc_ouverte", {"type": type_label, "finding": finding}))
    for (_id, title, due_on, _status, owner, _site) in known.actions.values():
        if due_on < today:
            risks.append(Reason("action_en_retard", {"title": title, "owner": owner,
                                                     "days": (today - due_on).days}))
        elif due_on > as_of:
            risks.append(Reason("action_apres_reference",
                                {"title": title, "due_on": due_on.isoformat(), **context}))
    if validated and not valid:
        last = max(validated, key=lambda p: p.valid_until or date.min)  # all dated here
        if len(kept) == 1:
            risks.append(Reason("seule_preuve_expire", {
                "title": last.title, "valid_until": last.valid_until.isoformat(), **context}))
        else:
            risks.append(Reason("preuves_expirent", {
                "count": len(validated), "valid_until": last.valid_until.isoformat(),
                **context}))

    notes: list[Reason] = []
    if pending:
        notes.append(Reason("a_valider", {"count": len(pending)}))
    if claims:
        notes.append(Reason("lien_a_confirmer", {"count": len(claims)}))
    if valid and all(p.kind is EvidenceKind.PAPER for p in valid):
        notes.append(Reason("papier_seul", {"location": valid[0].paper_location or ""}))

    if not kept:
        reasons = [Reason("aucune_preuve")]
        if known.proofs:
            reasons = [Reason("preuves_refusees", {"count": len(known.proofs)})]
        return State.MISSING, reasons + risks
    if risks:
        return State.AT_RISK, risks + notes
    if not validated:
        return State.TO_VALIDATE, notes
    return State.DEMONSTRABLE, [Reason("preuves_valides", {"count": len(valid)})] + notes


def _site_filter(column, site_id: int | None):
    return True if site_id is None else (column.is_(None) | (column == site_id))


def _proof_rows(session: Session, campaign: Campaign, in_campaign, site_id: int | None):
    return session.execute(
        select(EvidenceLink.criterion_id, Evidence.id, Evidence.title, Evidence.kind,
               Evidence.status, Evidence.valid_until, Evidence.paper_location,
               EvidenceLink.status)
        .join(Evidence, EvidenceLink.evidence_id == Evidence.id)
        .join(Criterion, EvidenceLink.criterion_id == Criterion.id)
        .where(in_campaign, Evidence.school_id == campaign.school_id,
               EvidenceLink.status != ClaimStatus.REFUSED,
               _site_filter(Evidence.site_id, site_id))
        .order_by(EvidenceLink.id)
    ).all()


def _escalated_labels(session: Session, campaign: Campaign, as_of: date) -> dict[int, str]:
    """Open NC mineures that are majeures on ``as_of`` (still open at the next certification
    audit's first day): the type they count as, by finding id."""
    findings = session.scalars(
        select(Finding).join(Milestone, Finding.milestone_id == Milestone.id)
        .join(FindingType, Finding.finding_type_id == FindingType.id)
        .where(Milestone.campaign_id == campaign.id, FindingType.escalates_to.is_not(None),
               Finding.status.in_([FindingStatus.OPEN, FindingStatus.IN_PROGRESS]))
        # The scales of all the findings' référentiels in one statement, however many there are.
        .options(contains_eager(Finding.finding_type), contains_eager(Finding.milestone),
                 selectinload(Finding.framework).selectinload(Framework.finding_types)))
    labels = {}
    for finding in findings:
        change = escalation_of(finding, as_of)
        if change is not None and change.done:
            labels[finding.id] = change.to_label
    return labels


def _finding_rows(session: Session, campaign: Campaign, site_id: int | None):
    """Open findings of the campaign's visits, audits and commission, per criterion."""
    return session.execute(
        select(finding_criterion.c.criterion_id, Finding.id, Finding.number, FindingType.label,
               FindingType.kind, Milestone.kind, Finding.site_id)
        .join(Finding, finding_criterion.c.finding_id == Finding.id)
        .join(FindingType, Finding.finding_type_id == FindingType.id)
        .join(Milestone, Finding.milestone_id == Milestone.id)
        .where(Milestone.campaign_id == campaign.id,
               Finding.status.in_([FindingStatus.OPEN, FindingStatus.IN_PROGRESS]),
               _site_filter(Finding.site_id, site_id))
        .order_by(Milestone.starts_on, Finding.number)
    ).all()


def _action_rows(session: Session, campaign: Campaign, site_id: int | None):
    """Unfinished actions per criterion: linked directly, or through a finding on it."""
    columns = (Action.id, Action.title, Action.due_on, Action.status, User.full_name,
               Action.site_id)
    unfinished = Action.status.in_([ActionStatus.TODO, ActionStatus.IN_PROGRESS])
    direct = (
        select(action_criterion.c.criterion_id, *columns)
        .join(Action, action_criterion.c.action_id == Action.id)
        .join(User, Action.owner_id == User.id)
        .where(Action.campaign_id == campaign.id, unfinished,
               _site_filter(Action.site_id, site_id))
    )
    through_findings = (
        select(finding_criterion.c.criterion_id, *columns)
        .join(action_finding, action_finding.c.finding_id == finding_criterion.c.finding_id)
        .join(Action, action_finding.c.action_id == Action.id)
        .join(User, Action.owner_id == User.id)
        .where(Action.campaign_id == campaign.id, unfinished,
               _site_filter(Action.site_id, site_id))
    )
    rows = session.execute(direct.union(through_findings)).all()
    return sorted(rows, key=lambda r: (r[3], r[1]))

"""Findings pages: fast entry on an audit event, finding edits, the action plan and its filters,
governance meetings; every refusal in French with nothing lost, and flat SQL counts."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, func, select

from audit_tracker.clock import local_today
from audit_tracker.extensions import db
from audit_tracker.findings import service
from audit_tracker.models import (
    Action,
    ActionStatus,
    Campaign,
    CommissionDecision,
    Finding,
    FindingStatus,
    Meeting,
    MeetingKind,
    Milestone,
    MilestoneKind,
    Role,
    Site,
    User,
)
from audit_tracker.referentiel.importer import latest_framework

# ------------------------------------------------------------------------------------ helpers


class FormReader(HTMLParser):
    """What a browser would send back: selected options and input values, by field name."""

    def __init__(self, html: str):
        super().__init__()
        self.selected: dict[str, list[str]] = {}
        self.inputs: dict[str, dict[str, str | None]] = {}
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "select":
            self._select = attributes.get("name")
            self.selected.setdefault(self._select, [])
        elif tag == "option" and self._select and "selected" in attributes:
            self.selected[self._select].append(attributes.get("value"))
        elif tag == "input" and attributes.get("name"):
            self.inputs[attributes["name"]] = attributes

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _user(local_part: str) -> User:
    return db.session.scalar(select(User).where(User.email == f"{local_part}@e2c-var.example"))


def _campaign() -> Campaign:
    return db.session.scalar(select(Campaign).limit(1))


def _event(kind: MilestoneKind = MilestoneKind.PRE_AUDIT) -> Milestone:
    return next(m for m in _campaign().milestones if m.kind is kind)


def _site(code: str) -> Site:
    return db.session.scalar(select(Site).where(Site.code == code))


def _framework(code: str = "e2c-label"):
    return latest_framework(db.session, code)


def _finding(event_: Milestone | None = None, *, type_code: str = "point_sensible",
             framework: str = "e2c-label", criteria: tuple[str, ...] = (),
             site: Site | None = None, title: str = "Constat") -> Finding:
    fw = _framework(framework)
    finding = service.create_finding(
        db.session, event_ or _event(), _user("qualite"),
        service.FindingInput(framework=fw, type_code=type_code, title=title, site=site,
                             criteria=[c for c in fw.criteria if c.code in criteria]),
    )
    db.session.commit()
    return finding


def _action(*, title: str = "Action", owner: str = "qualite", due_on: date | None = None,
            findings: tuple[Finding, ...] = (), site: Site | None = None,
            criteria: tuple[str, ...] = ()) -> Action:
    fw = _framework()
    action = service.create_action(
        db.session, _campaign(), _user("qualite"),
        service.ActionInput(title=title, owner=_user(owner),
                            due_on=due_on or local_today() + timedelta(days=30),
                            site=site, findings=list(findings),
                            criteria=[c for c in fw.criteria if c.code in criteria]),
    )
    db.session.commit()
    return action


def _base(campaign_id: int | None = None) -> str:
    return f"/campagnes/{campaign_id or _campaign().id}"


def _fast(client, event_: Milestone, **fields):
    data = {"framework_id": _framework().id, "type_code": "point_sensible", "title": "Constat",
            "criteria": "", "site_id": "0", "description": ""}
    data.update(fields)
    return client.post(f"{_base()}/audits/{event_.id}/constats", data=data)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _fresh(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


def _row_ids(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'<tr id="action-(\d+)"', page)}


@pytest.fixture
def lead(client, auth, demo_today):
    """The shifted demo with its quality lead logged in."""
    auth.login_demo(demo_today, "qualite")
    return demo_today


# ------------------------------------------------------------------------------ fast entry


def test_quality_lead_types_three_findings_in_a_row_keeping_framework_type_and_site(
        client, lead):
    """Three fast entries are numbered 1, 2, 3; each save comes back with the same choices."""
    pre_audit, e2c, tpm = _event(), _framework(), _site("tpm")
    location = None
    for n in (1, 2, 3):
        response = _fast(client, pre_audit, title=f"Constat {n}", type_code="point_vigilance",
                         site_id=str(tpm.id))
        assert response.status_code == 302
        location = response.location
        form = FormReader(_text(client.get(location)))
        assert form.selected["framework_id"] == [str(e2c.id)]
        assert form.selected["type_code"] == ["point_vigilance"]
        assert form.selected["site_id"] == [str(tpm.id)]
        assert "autofocus" in form.inputs["title"] and not form.inputs["title"].get("value")

    assert "#saisie" in location
    findings = service.findings_of(db.session, _campaign(), milestone_id=pre_audit.id)
    assert [(f.number, f.title, f.site_id) for f in findings] == [
        (1, "Constat 1", tpm.id), (2, "Constat 2", tpm.id), (3, "Constat 3", tpm.id)]
    assert "Saisir le constat n°4" in _text(client.get(location))


def test_criteria_codes_are_resolved_within_the_chosen_framework(client, lead):
    """« 4, 5 » names Qualiopi indicators, « a1 B2 » E2C criteria, whatever the separators."""
    qualiopi = _framework("qualiopi-v9")
    assert _fast(client, _event(), framework_id=qualiopi.id, type_code="nc_majeure",
                 criteria="4, 5").status_code == 302
    assert _fast(client, _event(), criteria="a1 B2;B2").status_code == 302

    first, second = service.findings_of(db.session, _campaign())
    assert [(c.framework.code, c.code) for c in first.criteria] == [
        ("qualiopi-v9", "4"), ("qualiopi-v9", "5")]
    assert [c.code for c in second.criteria] == ["A1", "B2"]
    page = _text(client.get(f"{_base()}/audits/{_event().id}"))
    assert "A1</span>, <span" in page


def test_unknown_criterion_code_is_refused_in_french_and_nothing_saved(client, lead):
    """An unknown code is named in the message; the typed values stay in the form."""
    response = _fast(client, _event(), title="Accueil non tracé", criteria="A1 Z9",
                     description="Pas de registre")

    page = _text(response)
    assert response.status_code == 200
    assert "Code de critère inconnu" in page and "« Z9 »" in page
    assert _count(Finding) == 0
    form = FormReader(page)
    assert form.inputs["title"]["value"] == "Accueil non tracé"
    assert form.inputs["criteria"]["value"] == "A1 Z9"
    assert "Pas de registre</textarea>" in page


def test_qualiopi_indicator_4_refuses_a_minor_nonconformity_naming_the_indicator(client, lead):
    """Indicator 4 allows only a major NC: a minor one is refused with a message naming it."""
    response = _fast(client, _event(), framework_id=_framework("qualiopi-v9").id,
                     type_code="nc_mineure", criteria="4", title="Analyse du besoin")

    assert response.status_code == 200
    assert ("Indicateur 4 ne peut donner lieu qu’à une non-conformité majeure : "
            "« non-conformité mineure » est refusée.") in _text(response)
    assert _count(Finding) == 0


def test_finding_type_outside_the_framework_scale_is_refused_in_french(client, lead):
    """A type code the scale does not have is refused, listing the scale."""
    response = _fast(client, _event(), type_code="nc_critique", title="Inventé")

    assert response.status_code == 200
    assert "Type de constat « nc_critique » absent de l’échelle" in _text(response)
    assert _count(Finding) == 0


# ------------------------------------------------------------------------- finding edits


def _edit_finding(client, finding: Finding, **fields):
    data = {"type_code": finding.finding_type.code, "title": finding.title, "criteria": "",
            "site_id": "0", "description": "", "root_cause": "", "due_override": "",
            "override_reason": "", "lock_version": str(finding.lock_version)}
    data.update(fields)
    return client.post(f"{_base()}/constats/{finding.id}", data=data)


def test_due_override_without_a_reason_is_refused_and_with_one_is_kept(client, lead):
    """Replacing the computed due date needs a reason; once given it is kept and shown."""
    finding = _finding(_event(MilestoneKind.INITIAL_AUDIT), type_code="nc_majeure")
    computed = finding.due_on
    new_day = (computed + timedelta(days=20)).isoformat()

    refused = _edit_finding(client, finding, due_override=new_day)
    assert refused.status_code == 200
    assert "Indiquez pourquoi l’échéance calculée est remplacée." in _text(refused)
    assert _fresh(finding).due_on == computed

    kept = _edit_finding(client, _fresh(finding), due_override=new_day,
                         override_reason="Fermeture estivale")
    assert kept.status_code == 302
    assert (_fresh(finding).due_on.isoformat(), _fresh(finding).due_override_reason) == (
        new_day, "Fermeture estivale")
    page = _text(client.get(f"{_base()}/audits/{finding.milestone_id}"))
    assert "Fermeture estivale" in page and "Actions correctives effectives" in page


def test_due_override_before_the_audit_is_refused(client, lead):
    """A due date before the audit's first day is refused, naming that day."""
    audit = _event(MilestoneKind.INITIAL_AUDIT)
    finding = _finding(audit, type_code="nc_majeure")
    day_before = audit.starts_on - timedelta(days=1)

    response = _edit_finding(client, finding, due_override=day_before.isoformat(),
                             override_reason="Erreur")

    assert response.status_code == 200
    assert (f"L’échéance ne peut pas précéder l’audit ({audit.starts_on:%d/%m/%Y})."
            in _text(response))
    assert _fresh(finding).due_on != day_before


def test_lifting_an_nc_finding_with_unverified_actions_is_refused(client, lead):
    """A non-conformity stays open while an action answering it is not verified effective."""
    finding = _finding(type_code="nc_mineure")
    _action(title="Refaire le livret d’accueil", findings=(finding,))

    response = client.post(f"{_base()}/constats/{finding.id}/statut", data={"status": "leve"},
                           follow_redirects=True)

    assert ("Non-conformité encore ouverte : l’efficacité de ces actions n’est pas vérifiée : "
            "Refaire le livret d’accueil.") in _text(response)
    assert _fresh(finding).status is FindingStatus.IN_PROGRESS


# ------------------------------------------------------------------------------- actions


def _action_form(**fields):
    data = {"title": "Former les référents", "description": "", "owner_id": "0",
            "site_id": "0", "due_on": "", "criteria": "", "closing_evidence_id": "0",
            "lock_version": ""}
    data.update(fields)
    return data


def test_action_with_an_owner_from_another_school_is_refused(client, lead, make_user):
    """A foreign account's id posted as owner is refused in French; no action is created."""
    stranger = make_user(Role.QUALITY_LEAD)

    response = client.post(f"{_base()}/actions/nouvelle", data=_action_form(
        owner_id=str(stranger.id), due_on=(local_today() + timedelta(days=10)).isoformat()))

    assert response.status_code == 200
    assert "Le responsable de l’action doit être un compte de votre école." in _text(response)
    assert _count(Action) == 0
    assert FormReader(_text(response)).inputs["title"]["value"] == "Former les référents"


def test_action_due_before_the_audit_of_its_finding_is_refused(client, lead):
    """An action cannot be due before the audit that raised the finding it answers."""
    pre_audit = _event()
    finding = _finding(pre_audit, title="Livret incomplet")
    too_early = pre_audit.starts_on - timedelta(days=3)

    response = client.post(f"{_base()}/actions/nouvelle", data=_action_form(
        owner_id=str(_user("qualite").id), due_on=too_early.isoformat(),
        finding_ids=[str(finding.id)]))

    assert response.status_code == 200
    assert (f"L’échéance ({too_early:%d/%m/%Y}) précède l’audit qui a relevé le constat "
            f"« Livret incomplet » ({pre_audit.starts_on:%d/%m/%Y}).") in _text(response)
    assert _count(Action) == 0


def test_new_action_from_a_finding_is_prefilled_and_created(client, lead):
    """« Ajouter une action » from a finding preselects it, its site, due date and criteria."""
    tpm = _site("tpm")
    finding = _finding(type_code="nc_majeure", criteria=("A1",), site=tpm)

    page = _text(client.get(f"{_base()}/actions/nouvelle?constat={finding.id}"))
    form = FormReader(page)
    assert form.selected["finding_ids"] == [str(finding.id)]
    assert form.selected["site_id"] == [str(tpm.id)]
    assert form.inputs["due_on"]["value"] == finding.due_on.isoformat()
    assert form.inputs["criteria"]["value"] == "A1"

    response = client.post(f"{_base()}/actions/nouvelle", data=_action_form(
        owner_id=str(_user("tpm").id), site_id=str(tpm.id), due_on=finding.due_on.isoformat(),
        finding_ids=[str(finding.id)], criteria="A1"))
    assert response.status_code == 302
    [action] = db.session.scalars(select(Action)).all()
    assert ([f.id for f in action.findings], [c.code for c in action.criteria]) == (
        [finding.id], ["A1"])
    assert _fresh(finding).status is FindingStatus.IN_PROGRESS


def test_verifying_an_nc_action_without_its_closing_proof_is_refused(
        client, lead, make_evidence):
    """Effectiveness of an action answering an NC is verified only once its proof is joined."""
    action = _action(findings=(_finding(type_code="nc_mineure"),))
    url = f"{_base()}/actions/{action.id}/statut"
    assert client.post(url, data={"status": "realisee"}).status_code == 302

    response = client.post(url, data={"status": "efficacite_verifiee"}, follow_redirects=True)
    assert ("Cette action répond à une non-conformité : joignez la preuve de clôture avant de "
            "vérifier son efficacité.") in _text(response)
    assert _fresh(action).status is ActionStatus.DONE

    proof = make_evidence(_user("qualite"), title="Nouveau livret d’accueil")
    action = _fresh(action)
    service.update_action(db.session, action, service.ActionInput(
        title=action.title, owner=action.owner, due_on=action.due_on,
        findings=list(action.findings), closing_evidence=proof), action.lock_version)
    db.session.commit()
    response = client.post(url, data={"status": "efficacite_verifiee", "note": "Vu en CSS"})
    assert response.status_code == 302
    verified = _fresh(action)
    assert (verified.status, verified.verified_by.email, verified.verification_note) == (
        ActionStatus.VERIFIED, "qualite@e2c-var.example", "Vu en CSS")


def test_second_edit_from_the_same_lock_version_gets_409_and_the_first_is_kept(client, lead):
    """Two people edit one action: the second gets a conflict message and keeps their typing."""
    action = _action(title="Mettre à jour le site web")
    seen = action.lock_version
    page = FormReader(_text(client.get(f"{_base()}/actions/{action.id}")))
    assert page.inputs["lock_version"]["value"] == str(seen)
    common = {"owner_id": str(_user("qualite").id), "due_on": action.due_on.isoformat(),
              "lock_version": str(seen)}

    first = client.post(f"{_base()}/actions/{action.id}",
                        data=_action_form(title="Version de la direction", **common))
    second = client.post(f"{_base()}/actions/{action.id}",
                         data=_action_form(title="Version du qualiticien", **common))

    assert first.status_code == 302
    assert second.status_code == 409
    text = _text(second)
    assert "modifié par quelqu’un d’autre" in text and 'data-testid="conflict"' in text
    assert FormReader(text).inputs["title"]["value"] == "Version du qualiticien"
    assert _fresh(action).title == "Version de la direction"


def test_site_manager_marks_own_action_done_but_gets_403_on_another_sites(
        client, auth, demo_today):
    """The TPM manager moves the TPM action along; the CAVEM one answers 403, unchanged."""
    own = _action(title="Affichage TPM", owner="tpm", site=_site("tpm"))
    other = _action(title="Affichage CAVEM", owner="cavem", site=_site("cavem"))
    auth.login_demo(demo_today, "tpm")

    plan = f"{_base()}/actions?site={_site('tpm').id}"
    done = client.post(f"{_base()}/actions/{own.id}/statut",
                       data={"status": "realisee", "next": plan})
    refused = client.post(f"{_base()}/actions/{other.id}/statut", data={"status": "realisee"})

    assert (done.status_code, done.location) == (302, plan)
    assert (_fresh(own).status, _fresh(own).done_on) == (ActionStatus.DONE, local_today())
    assert refused.status_code == 403
    assert _fresh(other).status is ActionStatus.TODO


def test_auditor_gets_403_on_every_post_of_the_findings_pages(app, client, auth, demo_today):
    """The auditor reads everything and changes nothing: each POST route answers 403."""
    finding = _finding()
    action = _action(findings=(finding,))
    values = {"campaign_id": _campaign().id, "event_id": finding.milestone_id,
              "finding_id": finding.id, "action_id": action.id,
              "meeting_id": _campaign().meetings[0].id}
    auth.login_demo(demo_today, "auditeur")
    posts = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("findings.") and "POST" in r.methods]
    assert len(posts) >= 8

    answers = {r.endpoint: client.post(r.build(values, append_unknown=False)[1],
                                       data={"status": "realisee", "title": "x"}).status_code
               for r in posts}

    assert set(answers.values()) == {403}, answers
    assert client.get(f"{_base()}/actions/{action.id}").status_code == 200


def test_action_plan_filters_mine_late_site_finding_and_criterion(client, lead):
    """Each filter of the plan returns exactly the matching actions."""
    today = local_today()
    f1 = _finding(criteria=("A1",), title="Constat A1")
    f2 = _finding(criteria=("A2",), title="Constat A2")
    late = _action(title="En retard", due_on=today - timedelta(days=2), site=_site("tpm"),
                   findings=(f1,))
    theirs = _action(title="Du site", owner="cavem", site=_site("cavem"), findings=(f2,))
    done = _action(title="Faite", due_on=today - timedelta(days=2), criteria=("B1",))
    service.set_action_status(db.session, done, ActionStatus.DONE, _user("qualite"), today)
    db.session.commit()

    def rows(query: str) -> set[int]:
        response = client.get(f"{_base()}/actions?{query}")
        assert response.status_code == 200
        return _row_ids(_text(response))

    assert rows("") == {late.id, theirs.id, done.id}
    assert rows("mine=y") == {late.id, done.id}
    assert rows("late=y") == {late.id}
    assert rows(f"site={_site('tpm').id}") == {late.id}
    assert rows(f"finding={f2.id}") == {theirs.id}
    a1 = next(c for c in _framework().criteria if c.code == "A1")
    b1 = next(c for c in _framework().criteria if c.code == "B1")
    assert rows(f"criterion={a1.id}") == {late.id}
    assert rows(f"criterion={b1.id}") == {done.id}
    assert "en retard de 2 jours" in _text(client.get(f"{_base()}/actions?late=y"))


# ------------------------------------------------------------------------------ meetings


def test_meeting_past_its_date_without_minutes_is_flagged_and_a_proof_clears_it(
        client, lead, make_evidence):
    """The past meeting shows « compte rendu manquant » until a proof is joined as minutes."""
    past = next(m for m in _campaign().meetings if m.held_on < local_today())
    coming = next(m for m in _campaign().meetings if m.held_on > local_today())
    proof = make_evidence(_user("qualite"), title="CR rencontre des relais")

    def row(page: str, meeting: Meeting) -> str:
        start = page.index(f'data-testid="meeting-{meeting.id}"')
        return page[start:page.index("</tr>", start)]

    page = _text(client.get(f"{_base()}/instances"))
    assert "compte rendu manquant" in row(page, past)
    assert "compte rendu manquant" not in row(page, coming)

    response = client.post(f"{_base()}/instances/{past.id}/compte-rendu",
                           data={"evidence_id": str(proof.id)})
    assert response.status_code == 302
    page = _text(client.get(f"{_base()}/instances"))
    assert "compte rendu manquant" not in row(page, past)
    assert "CR rencontre des relais" in row(page, past)
    assert _fresh(past).minutes_evidence_id == proof.id


def test_meeting_is_added_with_its_site_and_times(client, lead):
    """A meeting added from the page is listed under its site with its hours."""
    response = client.post(f"{_base()}/instances", data={
        "kind": MeetingKind.LOCAL_COMMITTEE.value, "title": "COL TPM extraordinaire",
        "site_id": str(_site("tpm").id), "held_on": "2030-01-15", "starts_at": "09:30",
        "ends_at": "11:00"})
    assert response.status_code == 302

    page = _text(client.get(f"{_base()}/instances"))
    assert "COL TPM extraordinaire" in page and "09:30–11:00" in page
    refused = client.post(f"{_base()}/instances", data={
        "kind": "autre", "title": "À l’envers", "site_id": "0", "held_on": "2030-01-15",
        "starts_at": "11:00", "ends_at": "09:00"})
    assert "L’heure de fin doit suivre l’heure de début." in _text(refused)


# ------------------------------------------------------------------ events and campaign page


def test_report_proof_and_commission_decision_are_recorded(client, lead, make_evidence):
    """The commission's page takes its report proof and its decision, and shows both."""
    commission = _event(MilestoneKind.NATIONAL_COMMISSION)
    proof = make_evidence(_user("qualite"), title="Avis de la commission")

    response = client.post(f"{_base()}/audits/{commission.id}/rapport", data={
        "report_evidence_id": str(proof.id),
        "decision": CommissionDecision.GRANTED_WITH_RECOMMENDATIONS.value})

    assert response.status_code == 302
    stored = _fresh(commission)
    assert (stored.report_evidence_id, stored.decision) == (
        proof.id, CommissionDecision.GRANTED_WITH_RECOMMENDATIONS)
    page = _text(client.get(f"{_base()}/audits/{commission.id}"))
    assert "Avis de la commission" in page and "Label accordé avec préconisations" in page
    assert FormReader(page).selected["type_code"] == ["preconisation"]


def test_campaign_page_links_audit_events_with_their_finding_counts(client, lead):
    """The timeline links each audit event with its count; the plan and meetings are linked."""
    pre_audit = _event()
    _finding(pre_audit)
    _finding(pre_audit)

    page = _text(client.get(_base()))

    assert f'href="{_base()}/audits/{pre_audit.id}"' in page
    assert "2 constats" in page
    assert f'href="{_base()}/actions"' in page and f'href="{_base()}/instances"' in page
    assert client.get(f"{_base()}/audits/{_event(MilestoneKind.OTHER).id}").status_code == 404


def test_event_page_and_action_plan_keep_sql_statement_counts_flat(app, client, lead):
    """More findings and actions do not mean more queries on the event page and the plan."""
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def measure(url: str) -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    def add(n: int) -> None:
        finding = _finding(criteria=("A1", "B2"), site=_site("tpm"), title=f"Constat {n}")
        _action(title=f"Action {n}", site=_site("cavem"), findings=(finding,), criteria=("C1",),
                owner="tpm" if n % 2 else "qualite")

    pages = [f"{_base()}/audits/{_event().id}", f"{_base()}/actions",
             f"{_base()}/constats/{{finding}}"]
    add(0)
    first = db.session.scalar(select(Finding.id).limit(1))
    before = [measure(p.format(finding=first)) for p in pages]
    for n in range(1, 6):
        add(n)
    after = [measure(p.format(finding=first)) for p in pages]

    assert after == before

"""The permission matrix: every route × every role → allowed or refused, checked by real requests.

The table below is written by hand on purpose: it is the specification. A new route that is not
in it fails ``test_every_route_is_in_the_matrix``; a route whose guard drifts from the table fails
the per-role test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from audit_tracker.accounts.permissions import Permission
from audit_tracker.evidence.service import link_criterion
from audit_tracker.extensions import db
from audit_tracker.models import ApiToken, Campaign, Criterion, Framework, User

ROLES = ("admin", "direction", "qualite", "site", "auditeur")
EVERYONE = frozenset(ROLES)
# An auditor invited for the sample campaign (auditors/): only the pages of what the school
# sends; every other page and the whole API refuse them.
INVITED = "invite"
SENT_READERS = EVERYONE | {INVITED}
EDITORS = frozenset({"admin", "direction", "qualite"})
EVIDENCE_EDITORS = frozenset({"admin", "direction", "qualite", "site"})
REVIEWERS = frozenset({"direction", "qualite"})
ADMIN = frozenset({"admin"})
NOTE_WRITERS = frozenset({"direction", "qualite"})
PUBLIC = "public"

MATRIX: dict[str, frozenset[str] | str] = {
    "accounts.login": PUBLIC,
    "accounts.language": PUBLIC,
    "ops.healthz": PUBLIC,
    "ops.readyz": PUBLIC,
    "api.openapi": PUBLIC,
    "accounts.logout": SENT_READERS,
    "accounts.preview": EVERYONE,  # the formatted text's preview (an invited auditor writes none)
    "accounts.set_password": PUBLIC,  # an invitation or reset link (an unknown one is a 404)
    "accounts.password": SENT_READERS,  # one's own password
    "auditors.invite": EDITORS,
    "auditors.end_access": EDITORS,
    # The invited auditor's page and its proofs: a 404 for any other account.
    "auditors.home": SENT_READERS,
    "auditors.proof": SENT_READERS,
    "accounts.users": ADMIN,
    # The admin runs accounts: role, deactivation, a reset link (of any school's account).
    "accounts.account": ADMIN,
    "accounts.reset_link": ADMIN,
    "accounts.totp_policy": ADMIN,
    # Everyone's own API tokens (the sample id is another's: refused as unknown, redirected).
    "accounts.api_tokens": EVERYONE,
    "accounts.login_code": PUBLIC,  # the login's second step (without one pending: to login)
    "accounts.two_factor": EVERYONE,  # a 404 for roles without a second factor
    "accounts.revoke_api_token": EVERYONE,
    "accounts.schools": ADMIN,
    "network.index": ADMIN,  # and the référent réseau (tests/test_network.py)
    "network.led_milestone_findings": ADMIN,  # and the référent réseau (tests/test_network.py)
    "campaigns.index": SENT_READERS,  # the invited auditor is sent on to their page
    "campaigns.detail": EVERYONE,
    "campaigns.campaign_list": EVERYONE,
    "campaigns.create": EDITORS,
    "campaigns.edit": EDITORS,
    "campaigns.add_milestone": EDITORS,
    "campaigns.edit_milestone": EDITORS,
    "campaigns.delete_milestone": EDITORS,
    # The school's presentation is the school's word: the director and the quality lead.
    "school.profile": EVERYONE,
    "school.edit_profile": REVIEWERS,
    # What the school follows: the director's call, the platform admin's for any school.
    "school.referentiels": frozenset({"admin", "direction"}),
    "cycle.decision": EDITORS,
    "cycle.next_campaign": EDITORS,
    "cycle.plan_commission": EDITORS,
    "programme.programme": EVERYONE,
    "programme.print_programme": EVERYONE,
    "programme.checklist": EVERYONE,
    "programme.add_slot": EDITORS,
    "programme.propose": EDITORS,
    "programme.edit_slot": EDITORS,
    "programme.delete_slot": EDITORS,
    "programme.tick": EDITORS,
    "programme.import_samples": EDITORS,
    "programme.update_sample": EDITORS,
    "referentiel.index": EVERYONE,
    "referentiel.framework": EVERYONE,
    "referentiel.criterion": EVERYONE,
    "referentiel.import_file": ADMIN,
    "evidence.index": EVERYONE,
    "evidence.detail": EVERYONE,
    "evidence.download": SENT_READERS,
    "evidence.preview": SENT_READERS,
    "evidence.create": EVIDENCE_EDITORS,
    "evidence.edit": EVIDENCE_EDITORS,
    "evidence.add_version": EVIDENCE_EDITORS,
    "evidence.submit": EVIDENCE_EDITORS,
    "evidence.link": EVIDENCE_EDITORS,
    "evidence.unlink": EVIDENCE_EDITORS,
    "evidence.review": REVIEWERS,
    "evidence.picker": EVERYONE,
    "evidence.review_queue": REVIEWERS,
    "evidence.decide": REVIEWERS,
    "api.frameworks": EVERYONE,
    "api.framework_criteria": EVERYONE,
    "api.campaign_list": EVERYONE,
    "api.campaign_detail": EVERYONE,
    "api.evidence_list": EVERYONE,
    "api.evidence_detail": EVERYONE,
    "api.evidence_file": EVERYONE,
    "api.evidence_create": EVIDENCE_EDITORS,
    "api.evidence_upload": EVIDENCE_EDITORS,
    "api.evidence_add_version": EVIDENCE_EDITORS,
    "api.evidence_upload_version": EVIDENCE_EDITORS,
    "api.evidence_link": EVIDENCE_EDITORS,
    "api.evidence_review": REVIEWERS,
    "api.finding_list": EVERYONE,
    "api.finding_detail": EVERYONE,
    "api.finding_create": EDITORS,
    "api.finding_update": EDITORS,
    "api.action_list": EVERYONE,
    "api.action_detail": EVERYONE,
    "api.action_create": EDITORS,
    # The TPM manager moves the sample action along: it is on the TPM site.
    "api.action_update": frozenset({"admin", "direction", "qualite", "site"}),
    "exports.plan_xlsx": EVERYONE,
    "exports.plan_csv": EVERYONE,
    "calendar.campaign": EVERYONE,
    "calendar.subscription": SENT_READERS,  # an invited auditor subscribes to the programme
    # The secret URL is the credential (calendar clients send no cookie): an unknown one is a 404.
    "calendar.feed": PUBLIC,
    "api.campaign_calendar": EVERYONE,
    "findings.event": EVERYONE,
    "findings.add_finding": EDITORS,
    "findings.event_report": EDITORS,
    "findings.finding": EVERYONE,
    "findings.edit_finding": EDITORS,
    "findings.finding_status": EDITORS,
    "findings.actions": EVERYONE,
    "findings.action": EVERYONE,
    "findings.new_action": EDITORS,
    "findings.edit_action": EDITORS,
    # Site managers move their own or their site's actions (the sample one is on the TPM site).
    "findings.action_status": frozenset({"admin", "direction", "qualite", "site"}),
    "findings.meetings": EVERYONE,
    "findings.add_meeting": EDITORS,
    "findings.meeting_minutes": EDITORS,
    # Key indicators: everyone reads; site managers enter their own site's counts (the form
    # refuses another site's), targets are campaign editing.
    "indicators.index": EVERYONE,
    "indicators.months": EVERYONE,
    "indicators.entry": EVIDENCE_EDITORS,
    "indicators.save_entry": EVIDENCE_EDITORS,
    "indicators.import_file": EVIDENCE_EDITORS,
    "indicators.import_template": EVIDENCE_EDITORS,
    "indicators.targets": EDITORS,
    "indicators.save_targets": EDITORS,
    "api.campaign_indicators": EVERYONE,
    # Filing the school-wide table as a proof is the quality lead's call.
    "indicators.file_proof": EDITORS,
    # Dossier: building is quality work; every reader may follow and download, the sample build
    # being limited to the TPM site (a site manager gets only their own site's dossiers).
    "dossier.index": EVERYONE,
    "dossier.new": EDITORS,
    "dossier.show": EVERYONE,
    "dossier.status": EVERYONE,
    "dossier.download_pdf": SENT_READERS,
    "dossier.download_zip": EVERYONE,
    "api.dossier_start": EDITORS,
    "api.dossier_list": EVERYONE,
    "api.job_status": EVERYONE,
    "api.job_pdf": EVERYONE,
    "api.job_zip": EVERYONE,
    # Readiness: everyone reads; the argument and applicability are campaign editing; signing
    # is the director's alone.
    "readiness.dashboard": EVERYONE,
    "readiness.criteria": EVERYONE,
    "readiness.criterion": EVERYONE,
    "readiness.save_decision": EDITORS,
    "readiness.add_exemption": EDITORS,
    "readiness.delete_exemption": EDITORS,
    "readiness.checklist": EVERYONE,
    "readiness.signoffs": EVERYONE,
    "readiness.sign_readiness": frozenset({"direction"}),
    "readiness.signoff": EVERYONE,
    "api.campaign_readiness": EVERYONE,
    # Monthly progress notes: the director prepares, edits and issues; the quality lead prepares
    # and edits; everyone reads the issued ones (the sample note is issued).
    "notes.index": EVERYONE,
    "notes.prepare": NOTE_WRITERS,
    "notes.show": EVERYONE,
    "notes.save": NOTE_WRITERS,
    "notes.issue": frozenset({"direction"}),
    "notes.download_pdf": EVERYONE,
    "notes.download_docx": EVERYONE,
    "api.note_list": EVERYONE,
    "api.note_prepare": NOTE_WRITERS,
    "api.note_issue": frozenset({"direction"}),
    "api.note_pdf": EVERYONE,
    "api.note_docx": EVERYONE,
    # The journal: a record's history for those who run the quality work; the whole journal
    # (every person's logins and downloads) for the direction and the admin only.
    "campaigns.history": EDITORS,
    "evidence.history": EDITORS,
    "findings.finding_history": EDITORS,
    "findings.action_history": EDITORS,
    "journal.index": frozenset({"admin", "direction"}),
    "journal.export": frozenset({"admin", "direction"}),
    # Erasing personal data for good is the director's call alone (not the platform admin's).
    "evidence.erase": frozenset({"direction"}),
}

# Requests that change who is logged in or delete the sample rows run last.
RUN_LAST = ("evidence.erase", "evidence.unlink", "campaigns.delete_milestone", "accounts.logout")
NOT_OURS = {"static", "bootstrap.static"}


def _routes(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_OURS]
    return sorted(rules, key=lambda r: (r.endpoint in RUN_LAST, RUN_LAST.index(r.endpoint)
                                        if r.endpoint in RUN_LAST else 0, r.endpoint))


def _sample_values(make_evidence):
    campaign = db.session.scalar(select(Campaign).limit(1))
    qualiopi = db.session.scalar(select(Framework).where(Framework.code == "qualiopi-v9"))
    quality_lead = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    tpm = next(s for s in campaign.school.sites if s.code == "tpm")
    # On the TPM site, so the TPM manager's editing rights are exercised too.
    evidence = make_evidence(quality_lead, site=tpm)
    link = link_criterion(db.session, evidence, qualiopi.criteria[0], "", quality_lead)
    finding, action = _sample_finding_and_action(campaign, qualiopi, quality_lead, tpm)
    build = _sample_dossier_build(campaign, quality_lead, tpm)
    exemption, signoff = _sample_readiness_records(campaign, qualiopi, tpm)
    slot, sample = _sample_programme(finding.milestone)
    db.session.commit()
    note = _sample_issued_note(campaign)
    return {
        "note_id": note.id,
        # No invited auditor (ending their access is refused); the admin's account page opens.
        "user_id": quality_lead.id,
        "token_id": 999_999,
        "slot_id": slot.id,
        "sample_id": sample.id,
        "exemption_id": exemption.id,
        "signoff_id": signoff.id,
        "build_id": build.id,
        "job_id": build.id,
        "finding_id": finding.id,
        "action_id": action.id,
        "event_id": finding.milestone_id,
        "meeting_id": campaign.meetings[0].id,
        "evidence_id": evidence.id,
        "kind": "preuve",
        "target_id": evidence.id,
        "number": 1,
        "link_id": link.id,
        "campaign_id": campaign.id,
        "milestone_id": campaign.milestones[0].id,
        "framework_id": qualiopi.id,
        "criterion_id": db.session.scalar(select(Criterion.id).limit(1)),
        "code": "qualiopi-v9",
        "token": "jeton-de-calendrier-inconnu-0123456789",
    }


def _sample_finding_and_action(campaign, framework, author, site):
    from datetime import date

    from audit_tracker.findings import service

    # Not milestones[0]: the matrix deletes that one (a milestone with findings cannot go).
    event = next(m for m in campaign.milestones if m.kind.value == "pre_audit")
    finding = service.create_finding(db.session, event, author, service.FindingInput(
        framework=framework, type_code="nc_mineure", title="Constat d’essai", site=site))
    action = service.create_action(db.session, campaign, author, service.ActionInput(
        title="Action d’essai", owner=author, due_on=date(2018, 6, 1), site=site,
        findings=[finding]))
    return finding, action


def _sample_programme(event):
    from datetime import time

    from audit_tracker.models import AuditSample, AuditSlot

    slot = AuditSlot(milestone=event, day=event.starts_on, starts_at=time(9), topic="Accueil",
                     checklist={})
    sample = AuditSample(milestone=event, reference="S-001", ready=False)
    db.session.add_all([slot, sample])
    return slot, sample


def _sample_readiness_records(campaign, framework, site):
    from datetime import date

    from audit_tracker.models import SiteExemption
    from audit_tracker.readiness.signoff import sign

    exemption = SiteExemption(campaign=campaign, criterion=framework.criteria[0], site=site,
                              reason="Essai")
    db.session.add(exemption)
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    signoff = sign(db.session, campaign, director, date(2018, 4, 24), date(2018, 2, 28))
    return exemption, signoff


def _sample_issued_note(campaign):
    """February 2018's note, issued by the director: its files and proof really stored."""
    from datetime import date

    from flask import current_app

    from audit_tracker.notes import issuing, service
    from audit_tracker.storage import EVIDENCE, NOTES, storage_for, upload_tmp_dir

    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    note = service.prepare(db.session, campaign, date(2018, 2, 1), director, date(2018, 2, 28))
    issuing.issue(db.session, storage_for(current_app, NOTES), storage_for(current_app, EVIDENCE),
                  upload_tmp_dir(current_app), note, director)
    db.session.commit()
    return note


def _sample_dossier_build(campaign, author, site):
    """A finished build of the TPM site's dossier, its PDF and ZIP really stored."""
    from flask import current_app

    from audit_tracker.models import BuildStatus, DossierBuild
    from audit_tracker.storage import DOSSIERS, new_key, storage_for

    from .conftest import UPLOADS

    storage = storage_for(current_app, DOSSIERS)
    build = DossierBuild(campaign_id=campaign.id, created_by_id=author.id,
                         options={"site_ids": [site.id], "with_zip": True,
                                  "edition": "ecole"},
                         status=BuildStatus.DONE, progress=100)
    for kind in ("pdf", "zip"):
        source = UPLOADS / ("preuve.pdf" if kind == "pdf" else "archive.zip")
        copy = Path(current_app.instance_path) / f"sample.{kind}"
        copy.write_bytes(source.read_bytes())
        key = new_key()
        storage.put(key, copy)
        setattr(build, f"{kind}_key", key)
    db.session.add(build)
    db.session.commit()
    return build


def _request(client, rule, values, headers):
    url = rule.build(values, append_unknown=False)[1]
    method = next(m for m in ("GET", "POST", "PATCH") if m in rule.methods)
    return method, url, client.open(url, method=method, headers=headers)


def _refused(endpoint: str, role: str | None, response) -> bool:
    if role is None:  # anonymous: pages go to the login form, the API answers 401
        if endpoint.startswith("api."):
            return response.status_code == 401
        return response.status_code == 302 and "/connexion" in response.location
    return response.status_code == 403


def test_every_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - NOT_OURS
    assert endpoints == set(MATRIX), "routes and the permission matrix must match exactly"


def test_every_view_declares_the_permission_the_matrix_implies(app):
    for endpoint, allowed in MATRIX.items():
        declared = app.view_functions[endpoint].required_permission
        assert (declared is Permission.PUBLIC) == (allowed == PUBLIC), endpoint


@pytest.mark.parametrize("role", [None, *ROLES, INVITED], ids=lambda r: r or "anonyme")
def test_role_reaches_exactly_what_the_matrix_allows(app, client, auth, demo, make_evidence,
                                                     role):
    headers = {}
    if role == INVITED:
        user = _invited_auditor(client)
        token, clear = ApiToken.issue(user)
        db.session.add(token)
        db.session.commit()
        headers = {"Authorization": f"Bearer {clear}"}
    elif role:
        user = db.session.scalar(select(User).where(User.email == f"{_email(role)}"))
        auth.login_demo(demo, _email(role).split("@")[0])
        token, clear = ApiToken.issue(user)
        db.session.add(token)
        db.session.commit()
        headers = {"Authorization": f"Bearer {clear}"}
    values = _sample_values(make_evidence)
    wrong = []
    for rule in _routes(app):
        allowed = MATRIX[rule.endpoint]
        expected_ok = allowed == PUBLIC or (role is not None and role in allowed)
        method, url, response = _request(client, rule, values, headers)
        refused = _refused(rule.endpoint, role, response)
        if expected_ok == refused or response.status_code >= 500:
            wrong.append(f"{method} {url} → {response.status_code}")
    assert not wrong, f"role {role or 'anonyme'}: " + "; ".join(wrong)


def _invited_auditor(client):
    """An auditor invited for the sample campaign, logged in through their invitation."""
    from datetime import timedelta

    from audit_tracker.auditors.service import invite
    from audit_tracker.clock import local_today, utcnow

    campaign = db.session.scalar(select(Campaign).limit(1))
    today = local_today()
    invitation = invite(db.session, campaign, "auditrice@afnor.example", "Auditrice",
                        today, today + timedelta(days=3), today, utcnow())
    db.session.commit()
    form = {"password": "une phrase de passe longue", "confirm": "une phrase de passe longue"}
    assert client.post(f"/mot-de-passe/{invitation.token}", data=form).status_code == 302
    client.post("/connexion", data={"email": "auditrice@afnor.example",
                                    "password": "une phrase de passe longue"})
    return invitation.user


def _email(role: str) -> str:
    local = {"site": "tpm"}.get(role, role)
    return f"{local}@e2c-var.example"


def test_a_view_without_a_declared_permission_is_refused(app, client, make_user):
    """Fail closed: forgetting ``@requires`` refuses the route instead of opening it."""
    from audit_tracker.models import Role

    app.add_url_rule("/oubli", "forgotten", lambda: "secret")
    client.post("/connexion", data={"email": make_user(Role.ADMIN).email,
                                    "password": "motdepasse-de-test"})
    response = client.get("/oubli")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)

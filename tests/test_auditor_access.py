"""Auditor access that ends (issue 12): invited for one campaign between two dates, the auditor
reads only what the school sends, every page it reads is journaled, and the day after its last
day the account is shut (login and running sessions alike)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from audit_tracker.clock import local_today, set_today
from audit_tracker.evidence.service import link_criterion, review
from audit_tracker.extensions import db
from audit_tracker.models import ApiToken, Campaign, JournalEntry, ReviewStatus, User

from .test_reminders import smtp_server  # noqa: F401 - a real SMTP server (aiosmtpd)

PASSWORD = "une phrase de passe assez longue"
EMAIL = "auditrice@afnor.example"


@pytest.fixture
def campaign(demo):
    return db.session.scalar(select(Campaign).order_by(Campaign.id).limit(1))


@pytest.fixture
def proofs(demo, campaign, make_evidence):
    """A validated proof with a confirmed claim on the campaign's framework, and a draft."""
    quality = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    director = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    criterion = campaign.frameworks[0].criteria[0]
    sent = make_evidence(quality, title="Procédure d’accueil envoyée")
    link_criterion(db.session, sent, criterion, "", quality)
    review(db.session, sent, director, ReviewStatus.VALIDATED)
    draft = make_evidence(quality, title="Brouillon confidentiel")
    link_criterion(db.session, draft, criterion, "", quality)
    db.session.commit()
    return sent, draft


def _invite(client, auth, demo, campaign, days: int = 2) -> str:
    """The quality lead invites the auditor through the page; returns the link it shows once."""
    auth.login_demo(demo, "qualite")
    today = local_today()
    response = client.post(f"/campagnes/{campaign.id}/auditeurs", data={
        "email": EMAIL, "full_name": "Auditrice AFNOR", "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=days)).isoformat()})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    match = re.search(r"http://[^<\s]*/mot-de-passe/([A-Za-z0-9_-]+)", page)
    assert match, "the invitation link is shown once on the page"
    auth.logout()
    return match.group(1)


def _accept(client, token: str) -> None:
    response = client.post(f"/mot-de-passe/{token}",
                           data={"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    response = client.post("/connexion", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302


def test_the_invitation_sets_a_password_once_and_lands_on_the_sent_page(client, auth, demo,
                                                                        campaign):
    token = _invite(client, auth, demo, campaign)
    assert client.post(f"/mot-de-passe/{token}", data={
        "password": "motdepasse2026", "confirm": "motdepasse2026"}).status_code == 200  # common
    assert client.post(f"/mot-de-passe/{token}", data={
        "password": "court", "confirm": "court"}).status_code == 200
    _accept(client, token)
    assert client.get(f"/mot-de-passe/{token}").status_code == 404  # spent
    home = client.get("/")
    assert home.status_code == 302 and home.location.endswith("/auditeur")
    page = client.get("/auditeur").get_data(as_text=True)
    assert campaign.name in page
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert user.access_campaign_id == campaign.id and user.is_invited_auditor


def test_access_is_refused_the_day_after_its_end(app, client, auth, demo, campaign):
    token = _invite(client, auth, demo, campaign, days=0)  # today is its only day
    _accept(client, token)
    assert client.get("/auditeur").status_code == 200
    # A colleague logged in at the same moment, in another browser: still in tomorrow.
    other = app.test_client()
    other.post("/connexion", data={"email": "qualite@e2c-var.example",
                                   "password": demo["qualite@e2c-var.example"].password})
    set_today(app, local_today() + timedelta(days=1))
    response = client.get("/auditeur")
    assert response.status_code == 302 and "/connexion" in response.location
    refused = client.post("/connexion", data={"email": EMAIL, "password": PASSWORD})
    assert refused.status_code == 200
    assert "incorrect" in refused.get_data(as_text=True)
    assert client.get("/auditeur").status_code == 302
    assert other.get("/").status_code == 200


def test_a_draft_is_invisible_in_list_detail_search_and_api(client, auth, demo, campaign,
                                                            proofs):
    sent, draft = proofs
    _accept(client, _invite(client, auth, demo, campaign))
    listing = client.get("/auditeur").get_data(as_text=True)
    assert sent.title in listing.replace("&#39;", "’").replace("&rsquo;", "’")
    assert draft.title not in listing
    found = client.get("/auditeur?q=confidentiel").get_data(as_text=True)
    assert draft.title not in found
    assert client.get(f"/auditeur/preuves/{sent.id}").status_code == 200
    assert client.get(f"/auditeur/preuves/{draft.id}").status_code == 404
    assert client.get(f"/preuves/{draft.id}/versions/1/fichier").status_code == 404
    assert client.get(f"/preuves/{sent.id}/versions/1/fichier").status_code == 200
    # The school's own pages stay closed, search and detail included.
    assert client.get(f"/preuves/?q={draft.title}").status_code == 403
    assert client.get(f"/preuves/{draft.id}").status_code == 403
    assert client.get(f"/campagnes/{campaign.id}/preparation/signatures").status_code == 403
    assert client.get(f"/campagnes/{campaign.id}").status_code == 403
    # The API refuses the account outright, even with a token.
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    api_token, clear = ApiToken.issue(user)
    db.session.add(api_token)
    db.session.commit()
    headers = {"Authorization": f"Bearer {clear}"}
    for url in (f"/api/v1/evidence/{draft.id}", "/api/v1/evidence?q=confidentiel"):
        response = client.get(url, headers=headers)
        assert response.status_code == 403
        assert draft.title not in response.get_data(as_text=True)


def test_every_page_the_auditor_reads_is_journaled(client, auth, demo, campaign, proofs):
    sent, _draft = proofs
    _accept(client, _invite(client, auth, demo, campaign))
    client.get("/auditeur")
    client.get(f"/auditeur/preuves/{sent.id}")
    entries = list(db.session.scalars(
        select(JournalEntry).where(JournalEntry.kind == "page_read").order_by(JournalEntry.seq)))
    paths = [json.loads(e.detail)["path"] for e in entries]
    assert paths[-2:] == ["/auditeur", f"/auditeur/preuves/{sent.id}"]
    assert {e.actor_email for e in entries} == {EMAIL}


def test_ending_access_early_and_bad_dates_are_refused(client, auth, demo, campaign):
    token = _invite(client, auth, demo, campaign, days=5)
    _accept(client, token)
    assert client.get("/auditeur").status_code == 200
    other = client.application.test_client()
    other.post("/connexion", data={"email": "qualite@e2c-var.example",
                                   "password": demo["qualite@e2c-var.example"].password})
    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert other.post(f"/campagnes/{campaign.id}/auditeurs/{user.id}/fin").status_code == 302
    assert client.get("/auditeur").status_code == 302
    today = local_today()
    page = other.post(f"/campagnes/{campaign.id}/auditeurs", data={
        "email": "autre@afnor.example", "starts_on": today.isoformat(),
        "ends_on": (today - timedelta(days=1)).isoformat()}).get_data(as_text=True)
    assert "précède son début" in page
    assert db.session.scalar(select(User).where(User.email == "autre@afnor.example")) is None


def test_other_accounts_have_no_auditor_page(client, auth, demo):
    auth.login_demo(demo, "qualite")
    assert client.get("/auditeur").status_code == 404


def test_the_invitation_is_e_mailed_when_mail_is_configured(client, auth, demo, campaign,
                                                           smtp_server):  # noqa: F811
    token = _invite(client, auth, demo, campaign)
    (recipients, message), = smtp_server.received
    assert recipients == [EMAIL]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"/mot-de-passe/{token}" in body and campaign.name in body

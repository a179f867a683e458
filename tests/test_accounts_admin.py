"""Accounts administered (issue 12): one's own password, the admin's deactivation, role change
and reset link, API tokens that expire and are revoked on a page."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

from sqlalchemy import select

from audit_tracker.accounts.passwords import WeakPassword, check_password_rule
from audit_tracker.clock import local_today, set_today
from audit_tracker.extensions import db
from audit_tracker.models import ApiToken, Role, User

from .factories import PASSWORD
from .test_reminders import smtp_server  # noqa: F401 - a real SMTP server (aiosmtpd)

NEW = "une toute nouvelle phrase"


def test_the_password_rule_refuses_short_and_common_ones(app):
    for weak in ("court", "onze-caract", "motdepasse2026", "AZERTY123456", "Passwordpassword"):
        try:
            check_password_rule(weak)
        except WeakPassword:
            continue
        raise AssertionError(f"{weak!r} was accepted")
    check_password_rule(NEW)


def test_a_user_changes_their_own_password_and_other_sessions_end(app, client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    other = app.test_client()
    other.post("/connexion", data={"email": user.email, "password": PASSWORD})
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    wrong = client.post("/compte/mot-de-passe", data={
        "current": "pas le bon mot de passe", "password": NEW, "confirm": NEW})
    assert "actuel est incorrect" in wrong.get_data(as_text=True)
    common = client.post("/compte/mot-de-passe", data={
        "current": PASSWORD, "password": "azerty123456", "confirm": "azerty123456"})
    assert "trop courant" in common.get_data(as_text=True)
    done = client.post("/compte/mot-de-passe", data={
        "current": PASSWORD, "password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # this browser stays in
    assert other.get("/").status_code == 302  # the other one is out
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(NEW)


def test_the_admin_deactivates_changes_a_role_and_issues_a_reset_link(app, client, make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.QUALITY_LEAD)
    theirs = app.test_client()
    theirs.post("/connexion", data={"email": user.email, "password": PASSWORD})
    client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    assert client.post(f"/comptes/{user.id}", data={
        "role": Role.AUDITOR.value, "site_id": 0, "active": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).role is Role.AUDITOR
    assert theirs.get("/").status_code == 302  # a role change ends their sessions
    client.post(f"/comptes/{user.id}", data={"role": Role.AUDITOR.value, "site_id": 0})
    db.session.expire_all()
    assert not db.session.get(User, user.id).active
    refused = theirs.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 200
    # The admin cannot shut themselves out.
    page = client.post(f"/comptes/{admin.id}", data={"role": Role.ADMIN.value, "site_id": 0})
    assert "propre compte" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active
    # A reset link: the old password holds until the link is used, then the new one.
    client.post(f"/comptes/{user.id}", data={"role": Role.QUALITY_LEAD.value, "site_id": 0,
                                              "active": "y"})
    page = client.post(f"/comptes/{user.id}/lien").get_data(as_text=True)
    token = re.search(r"/mot-de-passe/([A-Za-z0-9_-]+)", page).group(1)
    assert theirs.post(f"/mot-de-passe/{token}",
                       data={"password": NEW, "confirm": NEW}).status_code == 302
    assert theirs.post("/connexion", data={"email": user.email,
                                           "password": PASSWORD}).status_code == 200
    assert theirs.post("/connexion", data={"email": user.email,
                                           "password": NEW}).status_code == 302
    assert theirs.get(f"/mot-de-passe/{token}").status_code == 404  # one use


def test_a_reset_link_expires_after_a_day(app, client, make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.DIRECTOR)
    client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    page = client.post(f"/comptes/{user.id}/lien").get_data(as_text=True)
    token = re.search(r"/mot-de-passe/([A-Za-z0-9_-]+)", page).group(1)
    set_today(app, local_today() + timedelta(days=2))
    assert client.get(f"/mot-de-passe/{token}").status_code == 404


def test_api_tokens_expire_are_listed_and_revoked(app, client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    page = client.post("/compte/jetons", data={"label": "Tableur", "days": 2})
    clear = re.search(r"(at_[A-Za-z0-9_-]+)", page.get_data(as_text=True)).group(1)
    headers = {"Authorization": f"Bearer {clear}"}
    assert client.get("/api/v1/frameworks", headers=headers).status_code == 200
    listing = client.get("/compte/jetons").get_data(as_text=True)
    assert "Tableur" in listing and clear not in listing  # shown once only
    assert client.post("/compte/jetons", data={"label": "Trop long", "days": 400}
                       ).status_code == 200
    assert db.session.scalar(select(ApiToken).where(ApiToken.label == "Trop long")) is None
    # Expired the day after its last day…
    set_today(app, local_today() + timedelta(days=3))
    assert client.get("/api/v1/frameworks", headers=headers).status_code == 401
    assert "Expiré" in client.get("/compte/jetons").get_data(as_text=True)
    # …and a fresh one revoked from the page.
    set_today(app, local_today() - timedelta(days=3))
    token = db.session.scalar(select(ApiToken).where(ApiToken.label == "Tableur"))
    assert client.post(f"/compte/jetons/{token.id}/revoquer").status_code == 302
    set_today(app, local_today())
    assert client.get("/api/v1/frameworks", headers=headers).status_code == 401
    # Someone else's token cannot be revoked from here.
    other = make_user(Role.DIRECTOR)
    theirs, _clear = ApiToken.issue(other)
    db.session.add(theirs)
    db.session.commit()
    client.post(f"/compte/jetons/{theirs.id}/revoquer")
    db.session.expire_all()
    assert db.session.get(ApiToken, theirs.id).revoked_at is None


def test_the_reset_link_is_emailed_to_the_account(app, client, make_user,
                                                  smtp_server):  # noqa: F811
    admin = make_user(Role.ADMIN)
    user = make_user(Role.QUALITY_LEAD, full_name="Camille Qualité")
    client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    page = client.post(f"/comptes/{user.id}/lien").get_data(as_text=True)
    assert "Le lien lui a été envoyé par e-mail." in page
    shown = re.search(r"/mot-de-passe/([A-Za-z0-9_-]+)", page).group(1)
    (recipients, message), = smtp_server.received
    assert recipients == [user.email]
    assert message["Subject"] == "Réinitialisation de votre mot de passe"
    assert message["From"].addresses[0].addr_spec == "rappels@e2c-var.example"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Bonjour Camille Qualité,")
    link = re.search(r"https?://\S+/mot-de-passe/([A-Za-z0-9_-]+)", body)
    assert link and link.group(1) == shown and "24 heures" in body
    # The e-mailed link works: the user sets a new password with it.
    theirs = app.test_client()
    assert theirs.post(f"/mot-de-passe/{link.group(1)}",
                       data={"password": NEW, "confirm": NEW}).status_code == 302
    assert theirs.post("/connexion", data={"email": user.email,
                                           "password": NEW}).status_code == 302


def test_a_relay_that_refuses_leaves_the_link_on_the_page(app, client, make_user):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_closed_port(),
                      MAIL_FROM="audit_tracker <rappels@e2c-var.example>")
    admin = make_user(Role.ADMIN)
    user = make_user(Role.QUALITY_LEAD)
    client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    page = client.post(f"/comptes/{user.id}/lien").get_data(as_text=True)
    assert "L’e-mail n’a pas pu partir" in page
    assert re.search(r"/mot-de-passe/[A-Za-z0-9_-]+", page)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

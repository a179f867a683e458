"""TOTP for the direction and the admin (issue 12): turned on with a first code, then asked at
every login after the password; other roles have no such page."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from audit_tracker.clock import utcnow
from audit_tracker.extensions import db
from audit_tracker.models import JournalEntry, Role, User

from .factories import PASSWORD


def _code(secret: str) -> str:
    return pyotp.TOTP(secret).at(utcnow())


def test_the_director_turns_totp_on_and_logs_in_with_a_code(app, client, make_user):
    director = make_user(Role.DIRECTOR)
    client.post("/connexion", data={"email": director.email, "password": PASSWORD})
    page = client.get("/compte/double-facteur").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "otpauth://totp/" in page
    wrong = client.post("/compte/double-facteur", data={"code": "000000"})
    assert "Code incorrect" in wrong.get_data(as_text=True)
    assert client.post("/compte/double-facteur",
                       data={"code": _code(secret)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, director.id).totp_secret == secret
    assert client.get("/").status_code == 200  # this browser stays in
    client.post("/deconnexion")

    # The password alone no longer opens the session.
    step = client.post("/connexion", data={"email": director.email, "password": PASSWORD})
    assert step.status_code == 302 and step.location.endswith("/connexion/code")
    assert client.get("/").status_code == 302
    assert "Code incorrect" in client.post("/connexion/code", data={"code": "123456"}
                                           ).get_data(as_text=True)
    assert client.get("/").status_code == 302
    done = client.post("/connexion/code", data={"code": _code(secret)})
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    kinds = [e.kind for e in db.session.scalars(
        select(JournalEntry).where(JournalEntry.table_name == "user",
                                   JournalEntry.record_id == str(director.id),
                                   JournalEntry.kind.in_(["login", "login_failed"]))
        .order_by(JournalEntry.seq))]
    assert "login_failed" in kinds and kinds.count("login") == 2
    # Its secret never reaches the journal in clear.
    assert not db.session.scalar(select(JournalEntry.seq).where(
        JournalEntry.detail.contains(secret)))


def test_without_a_pending_password_the_code_page_leads_to_login(app, client):
    response = client.post("/connexion/code", data={"code": "123456"})
    assert response.status_code == 200 and "Aucune connexion en attente" in response.get_data(
        as_text=True)
    assert client.get("/").status_code == 302


def test_other_roles_have_no_second_factor_page(app, client, make_user):
    quality = make_user(Role.QUALITY_LEAD)
    client.post("/connexion", data={"email": quality.email, "password": PASSWORD})
    assert client.get("/compte/double-facteur").status_code == 404


def test_turning_it_off_asks_the_password(app, client, make_user):
    admin = make_user(Role.ADMIN)
    client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    page = client.get("/compte/double-facteur").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    client.post("/compte/double-facteur", data={"code": _code(secret)})
    client.post("/compte/double-facteur", data={"password": "pas le bon"})
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_secret == secret
    client.post("/compte/double-facteur", data={"password": PASSWORD})
    db.session.expire_all()
    assert db.session.get(User, admin.id).totp_secret is None

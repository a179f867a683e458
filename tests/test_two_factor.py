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


def _require_totp(school) -> None:
    school.require_totp = True
    db.session.commit()


def test_a_school_requiring_totp_sends_the_director_to_enrol_first(app, client, make_user,
                                                                   school):
    _require_totp(school)
    director = make_user(Role.DIRECTOR)
    response = client.post("/connexion", data={"email": director.email, "password": PASSWORD})
    assert response.status_code == 302
    # Every page leads to the enrolment until the second factor is on.
    blocked = client.get("/")
    assert blocked.status_code == 302 and blocked.location.endswith("/compte/double-facteur")
    page = client.get("/compte/double-facteur").get_data(as_text=True)
    assert "Votre école exige le double facteur" in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    client.post("/compte/double-facteur", data={"code": _code(secret)})
    assert client.get("/").status_code == 200
    client.post("/deconnexion")
    # From now on a code at each login.
    step = client.post("/connexion", data={"email": director.email, "password": PASSWORD})
    assert step.location.endswith("/connexion/code")
    # And it cannot be turned off while the school requires it, nor the form offered.
    client.post("/connexion/code", data={"code": _code(secret)})
    page = client.get("/compte/double-facteur").get_data(as_text=True)
    assert "Désactiver le double facteur" not in page
    refused = client.post("/compte/double-facteur", data={"password": PASSWORD},
                          follow_redirects=True)
    assert "obligatoire" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, director.id).totp_secret == secret


def test_a_required_second_factor_spares_the_other_roles(app, client, make_user, school):
    _require_totp(school)
    quality = make_user(Role.QUALITY_LEAD)
    client.post("/connexion", data={"email": quality.email, "password": PASSWORD})
    assert client.get("/").status_code == 200


def test_without_the_requirement_totp_stays_each_persons_choice(app, client, make_user):
    director = make_user(Role.DIRECTOR)
    client.post("/connexion", data={"email": director.email, "password": PASSWORD})
    assert client.get("/").status_code == 200


def test_the_admin_requires_totp_for_the_school(app, client, make_user, school):
    admin = make_user(Role.ADMIN)
    client.post("/connexion", data={"email": admin.email, "password": PASSWORD})
    page = client.get("/comptes").get_data(as_text=True)
    assert 'data-testid="totp-policy"' in page and "Double facteur obligatoire" in page
    done = client.post("/comptes/double-facteur", data={"required": "y"}, follow_redirects=True)
    assert "Double facteur obligatoire pour la direction" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(school), school.id).require_totp is True
    change = db.session.scalar(select(JournalEntry).where(
        JournalEntry.table_name == "school", JournalEntry.record_id == str(school.id))
        .order_by(JournalEntry.seq.desc()))
    assert change is not None and "require_totp" in change.detail
    # The admin, without a second factor yet, must now enrol before anything else.
    assert client.get("/comptes").location.endswith("/compte/double-facteur")


def test_the_demo_requires_totp_and_its_director_logs_in_with_a_code(app, client, demo):
    director = demo["direction@e2c-var.example"]
    assert db.session.scalar(select(User.totp_secret).where(User.email == director.email)) \
        == director.totp_secret
    step = client.post("/connexion", data={"email": director.email,
                                           "password": director.password})
    assert step.location.endswith("/connexion/code")
    client.post("/connexion/code", data={"code": _code(director.totp_secret)})
    assert client.get("/").status_code == 200
    assert demo["qualite@e2c-var.example"].totp_secret is None

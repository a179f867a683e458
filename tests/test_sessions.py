"""Sessions that end (issue 12, item 2) and the brake on guessed passwords (item 3).

Each test failed before: a copied session cookie outlived the logout, the remember-me cookie
was the same at every login and lasted a year, a session moved to another browser kept
working, the login page spoke of an expired session on a first visit, and fifty wrong
passwords were followed by the right one, accepted.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from audit_tracker.clock import current_clock
from audit_tracker.extensions import db
from audit_tracker.models import JournalEntry, Role, User

from .conftest import AuthActions


def _cookie(client, name):
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def _replay(app, name, value):
    """A fresh browser holding only a copy of the cookie ``name``."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief


def test_a_copied_session_cookie_stops_working_after_logout(app, client, auth, make_user):
    user = make_user(Role.QUALITY_LEAD)
    auth.login(user)
    stolen = _cookie(client, "session")
    thief = _replay(app, "session", stolen)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    auth.logout()
    response = thief.get("/")
    assert response.status_code == 302 and "/connexion" in response.location


def test_a_copied_remember_cookie_stops_working_after_logout(app, client, make_user):
    user = make_user(Role.QUALITY_LEAD)
    client.post("/connexion", data={"email": user.email, "password": "motdepasse-de-test",
                                    "remember": "y"})
    remember = _cookie(client, "remember_token")
    assert remember
    thief = _replay(app, "remember_token", remember)
    assert thief.get("/").status_code == 200
    AuthActions(client).logout()
    response = _replay(app, "remember_token", remember).get("/")
    assert response.status_code == 302 and "/connexion" in response.location


def test_a_password_change_or_a_deactivation_ends_every_session(app, client, auth, make_user):
    user = make_user(Role.QUALITY_LEAD)
    auth.login(user)
    assert client.get("/").status_code == 200
    db.session.get(User, user.id).set_password("un-autre-mot-de-passe-long")
    db.session.commit()
    assert client.get("/").status_code == 302

    auth.login(user, "un-autre-mot-de-passe-long")
    assert client.get("/").status_code == 200
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_the_remember_cookie_changes_at_each_login_and_is_short_lived(app, make_user):
    user = make_user(Role.QUALITY_LEAD)
    values = []
    for _ in range(2):
        browser = app.test_client()
        response = browser.post("/connexion", data={
            "email": user.email, "password": "motdepasse-de-test", "remember": "y"})
        header = next(h for h in response.headers.getlist("Set-Cookie")
                      if h.startswith("remember_token="))
        assert "HttpOnly" in header and "SameSite=Lax" in header
        values.append(_cookie(browser, "remember_token"))
        current_clock().offset += timedelta(seconds=2)
    assert values[0] != values[1]

    # 14 days later the cookie is refused by the server, whatever the browser kept.
    assert _replay(app, "remember_token", values[1]).get("/").status_code == 200
    current_clock().offset += timedelta(days=14, minutes=1)
    response = _replay(app, "remember_token", values[1]).get("/")
    assert response.status_code == 302 and "/connexion" in response.location


def test_the_session_is_not_permanent_so_strong_protection_works(app, client, auth,
                                                                  make_user):
    """``session_protection = "strong"`` drops a session seen from another browser; Flask-Login
    only does so for sessions that are not permanent."""
    user = make_user(Role.QUALITY_LEAD)
    auth.login(user)
    assert client.get("/").status_code == 200
    thief = _replay(app, "session", _cookie(client, "session"))
    response = thief.get("/", headers={"User-Agent": "Autre navigateur/1.0"})
    assert response.status_code == 302 and "/connexion" in response.location


def test_cookies_are_secure_when_configured(app, make_user):
    user = make_user(Role.QUALITY_LEAD)
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    response = app.test_client().post("/connexion", base_url="https://localhost", data={
        "email": user.email, "password": "motdepasse-de-test", "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)


def test_the_secure_cookies_setting_is_read_from_the_environment():
    from audit_tracker import config

    settings = config.from_environment({"AUDIT_TRACKER_SESSION_COOKIE_SECURE": "1",
                                        "AUDIT_TRACKER_REMEMBER_DAYS": "7"})
    assert settings == {"SESSION_COOKIE_SECURE": True, "REMEMBER_DAYS": 7}


def test_a_first_visit_does_not_speak_of_an_expired_session(app, client, auth, make_user):
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Veuillez vous connecter." in page and "expiré" not in page

    user = make_user(Role.QUALITY_LEAD)
    auth.login(user)
    stolen = _cookie(client, "session")
    auth.logout()
    thief = _replay(app, "session", stolen)
    page = thief.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Votre session a pris fin" in page


# --- the brake -------------------------------------------------------------------------------

def test_ten_wrong_passwords_then_the_right_one_is_refused_for_a_while(app, client, auth,
                                                                       make_user):
    user = make_user(Role.QUALITY_LEAD)
    for _ in range(10):
        auth.login(user, "mauvais")
    response = auth.login(user)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Trop de tentatives de connexion" in page
    assert client.get("/").status_code == 302  # not logged in

    kinds = [e.kind for e in db.session.scalars(select(JournalEntry).order_by(JournalEntry.seq))
             if e.kind.startswith("login")]
    assert kinds.count("login_failed") >= 5 and kinds[-1] == "login_throttled"

    current_clock().offset += timedelta(minutes=16)
    assert auth.login(user).status_code == 302
    assert client.get("/").status_code == 200


def test_the_brake_holds_per_address_across_accounts(app, client, auth, make_user):
    app.config.update(LOGIN_MAX_FAILURES_PER_ADDRESS=6)
    users = [make_user(Role.QUALITY_LEAD) for _ in range(4)]
    for user in users[:3]:
        for _ in range(2):
            auth.login(user, "mauvais")
    # The fourth account never failed, but the address has: refused.
    assert auth.login(users[3]).status_code == 429
    # Another address is not braked.
    other = app.test_client()
    response = other.post("/connexion", environ_base={"REMOTE_ADDR": "10.0.0.9"},
                          data={"email": users[3].email, "password": "motdepasse-de-test"})
    assert response.status_code == 302


def test_an_unknown_account_is_braked_like_a_known_one(app, client, auth):
    for _ in range(5):
        auth.login("personne@example.org", "mauvais")
    response = auth.login("personne@example.org", "mauvais")
    assert response.status_code == 429

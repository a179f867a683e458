"""Fixtures in the flaskr style: ``app``, ``client``, ``runner``, ``auth``, plus the data they need.

Every test that uses ``app`` runs on SQLite and, when ``AUDIT_TRACKER_TEST_POSTGRES_URL`` names a
server (``.ci/run`` sets it), on PostgreSQL too.
"""

from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from audit_tracker import create_app
from audit_tracker.demo import load_demo
from audit_tracker.extensions import db
from audit_tracker.referentiel.service import load_shipped_referentiels

from . import factories

POSTGRES_URL = os.environ.get("AUDIT_TRACKER_TEST_POSTGRES_URL")


def _reset_postgres(url: str) -> None:
    """An empty public schema, so each test starts from nothing, as on SQLite."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not selected: set AUDIT_TRACKER_TEST_POSTGRES_URL (.ci/run does)")
    from audit_tracker.config import normalise_database_url

    url = normalise_database_url(POSTGRES_URL)
    _reset_postgres(url)
    return url


class FreshContextClient(FlaskClient):
    """Each request gets its own application context, hence its own ``g`` and DB session, as in
    production; without this, requests made while a test holds the app context share ``g``
    (and Flask-Login's cached user) with each other."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "INSTANCE_PATH": str(tmp_path / "instance"),
    })
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def referentiels(app):
    """The shipped Qualiopi V9 and provisional E2C frameworks with their mapping."""
    report = load_shipped_referentiels(db.session)
    db.session.commit()
    return report


@pytest.fixture
def demo(referentiels):
    """E2C Var at its real dates (2017-2018); returns the demo accounts by e-mail."""
    accounts = load_demo(db.session, today=None)
    db.session.commit()
    return {a.email: a for a in accounts}


@pytest.fixture
def demo_today(referentiels):
    """E2C Var shifted so that today is the seed's 28 Feb 2018, as ``make run`` loads it."""
    from audit_tracker.i18n import local_today

    accounts = load_demo(db.session, today=local_today())
    db.session.commit()
    return {a.email: a for a in accounts}


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = factories.PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.post("/connexion", data={"email": email, "password": password})

    def login_demo(self, demo, local_part: str):
        account = demo[f"{local_part}@e2c-var.example"]
        response = self.login(account.email, account.password)
        assert response.status_code == 302, "demo login failed"
        return response

    def logout(self):
        return self._client.post("/deconnexion")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def school(app):
    return factories.SchoolFactory()


@pytest.fixture
def make_user(app, school):
    """Create a user of the given role in ``school`` (a site is made for the site role)."""

    def make(role, **kwargs):
        user = factories.UserFactory(role=role, school=kwargs.pop("school", school), **kwargs)
        db.session.commit()
        return user

    return make

"""Real-browser fixtures: the app served on a free port, and Debian's Chromium driven by Playwright.

The app runs on its own SQLite file with the E2C Var demo shifted by whole weeks (as ``make run``
loads it), its clock on the day that plays the seed's 28 Feb 2018, and CSRF left on: the browser
posts the real forms. These fixtures never touch the ``app`` chain of ``tests/conftest.py``, which
is parametrised over SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyotp
import pytest
from werkzeug.serving import make_server

from audit_tracker import create_app
from audit_tracker.clock import local_today, utcnow
from audit_tracker.demo import load_demo, seed_day
from audit_tracker.demo_story import load_demo_story
from audit_tracker.extensions import db
from audit_tracker.referentiel.service import load_shipped_referentiels
from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir

from ..conftest import TEST_TODAY

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ABSENT = "Chromium absent: apt-get install chromium (.ci/run does)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e is an ``e2e`` test (``-m "not e2e"`` leaves them out), and
    all of them go to one pytest-xdist worker (``--dist loadgroup``): the live servers and the
    browser are per-session fixtures, built once rather than once per worker."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


def browser_required() -> bool:
    return os.environ.get("AUDIT_TRACKER_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="session", autouse=True)
def _chromium_present() -> None:
    """Skip without Chromium, unless CI demands the browser: then fail, never skip silently."""
    if not CHROMIUM.exists():
        if browser_required():
            pytest.fail(CHROMIUM_ABSENT, pytrace=False)
        pytest.skip(CHROMIUM_ABSENT)


# Each live server's way to say the TOTP code its demo direction or admin would type now (at
# the server's clock), by the server's address: the demo requires TOTP of those two.
_TOTP_CODES: dict[str, Callable[[str], str]] = {}


def totp_code(server_url: str, email: str) -> str:
    """The code the demo account's authenticator app shows now, at that server's clock."""
    return _TOTP_CODES[server_url](email)


def complete_login(page, email: str) -> None:
    """After « Se connecter »: when the login asks for the second factor, type the code."""
    from playwright.sync_api import expect  # the test extras install it

    expect(page).not_to_have_url(re.compile(r"/connexion(\?.*)?$"))
    if page.url.endswith("/connexion/code"):
        base = page.url.removesuffix("/connexion/code")
        page.get_by_label("Code à six chiffres de votre application").fill(
            _TOTP_CODES[base](email))
        page.get_by_role("button", name="Valider").click()
        expect(page).not_to_have_url(re.compile(r"/connexion/code$"))


def register_totp(app, url: str, accounts) -> None:
    """Let ``complete_login`` type the codes of the demo served at ``url``."""
    secrets = {a.email: a.totp_secret for a in accounts if a.totp_secret}

    def code(email: str) -> str:
        with app.app_context():
            return pyotp.TOTP(secrets[email]).at(utcnow())

    _TOTP_CODES[url] = code


@dataclass
class LiveServer:
    url: str
    accounts: dict[str, str]  # e-mail -> password
    today: date  # the server's clock: the day that plays the seed's 28 Feb 2018


def _serve(root: Path, *, story: bool) -> Iterator[LiveServer]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "e2e-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'e2e.sqlite3'}",
            "INSTANCE_PATH": str(root / "instance"),
            # Flask takes its instance folder from the constructor, not from this mapping: without
            # these two the uploaded proofs would land in the checkout's instance/ folder.
            "EVIDENCE_STORAGE": "local",
            "EVIDENCE_DIR": str(root / "evidence"),
            "UPLOAD_TMP_DIR": str(root / "upload-tmp"),
            # CSRF on, whatever the environment says: the browser posts the real forms and tokens.
            "WTF_CSRF_ENABLED": True,
            "TODAY": seed_day(TEST_TODAY),
        }
    )
    with app.app_context():
        db.create_all()
        load_shipped_referentiels(db.session)
        accounts = load_demo(db.session, today=local_today())
        db.session.commit()
        if story:
            load_demo_story(db.session, storage_for(app, EVIDENCE), upload_tmp_dir(app),
                            today=local_today())
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    register_totp(app, url, accounts)
    try:
        yield LiveServer(
            url=url,
            accounts={a.email: a.password for a in accounts},
            today=app.config["TODAY"],
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The base demo: campaign, sites, accounts; no proofs or findings yet."""
    yield from _serve(tmp_path_factory.mktemp("live_server"), story=False)


@pytest.fixture(scope="session")
def story_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The demo as `make run` loads it, story included: proofs, findings, late actions and the
    readiness snapshots of the last three weeks."""
    yield from _serve(tmp_path_factory.mktemp("story_server"), story=True)


@pytest.fixture(scope="session")
def browser(_chromium_present):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extras install it
        reason = "playwright absent: pip install -e '.[test]'"
        if browser_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        yield context.new_page()
    finally:
        context.close()

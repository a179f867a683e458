"""Running for real: ``flask check``, the ``/healthz`` and ``/readyz`` probes, the request log
line and its id on error pages, proxies and secure cookies."""

from __future__ import annotations

import logging
import os
import re
import socket

import pytest

from audit_tracker import create_app
from audit_tracker.models import Role
from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir
from audit_tracker.web.page_cache import init_page_cache

from .conftest import TEST_TODAY

GOOD_SECRET = "k" * 16 + "0123456789abcdef0123"  # 36 characters, no placeholder
BASE_URL = "https://audit.e2c-var.example"
UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/audit_tracker"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_relay(app):
    """A real SMTP server (aiosmtpd) on a free local port, set as the app's relay."""
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            return "250 OK"

    port = _free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, BASE_URL=BASE_URL,
                      MAIL_FROM="audit_tracker <no-reply@e2c-var.example>")
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def ready(app, runner, smtp_relay):
    """An instance ``flask check`` accepts: a real key, migrated, storage, relay."""
    app.config["SECRET_KEY"] = GOOD_SECRET
    stamped = runner.invoke(args=["db", "stamp", "head"])
    assert stamped.exit_code == 0, stamped.output
    return app


def _check(runner):
    result = runner.invoke(args=["check"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_check_passes_on_a_configured_instance(ready, runner):
    code, output = _check(runner)
    assert code == 0, output
    assert "ERREUR" not in output
    assert output.count("OK") == 4  # key, database, storage, mail (no RQ configured)
    assert "Configuration prête pour la production." in output
    # the storage probe wrote and removed its object: nothing is left behind
    assert list(storage_for(ready, EVIDENCE).keys()) == []
    assert list(upload_tmp_dir(ready).iterdir()) == []


def _forget_storage(app):
    app.extensions.pop("storage:evidence", None)
    app.extensions.pop("storage:dossiers", None)


def _not_a_folder(app):
    blocker = os.path.join(app.instance_path, "fichier")
    with open(blocker, "w") as handle:
        handle.write("pas un dossier")
    app.config["EVIDENCE_DIR"] = os.path.join(blocker, "preuves")
    _forget_storage(app)


def _page_cache_on_a_closed_port(app):
    app.config.update(PAGE_CACHE="redis", REDIS_URL="redis://127.0.0.1:1/0")
    init_page_cache(app)


BROKEN = {
    "secret key missing": (lambda app: app.config.update(SECRET_KEY=None),
                           "Clé secrète absente"),
    "secret key too short": (lambda app: app.config.update(SECRET_KEY="test-secret-key"),
                             "Clé secrète trop courte"),
    "secret key of an example": (lambda app: app.config.update(SECRET_KEY="changeme"),
                                 "Clé secrète trop courte ou d’exemple"),
    "storage not writable": (_not_a_folder, "Stockage des fichiers (local) inutilisable"),
    "queue unreachable": (lambda app: app.config.update(DOSSIER_QUEUE="rq",
                                                        REDIS_URL="redis://127.0.0.1:1/0"),
                          "File RQ injoignable"),
    "queue without Redis URL": (lambda app: app.config.update(DOSSIER_QUEUE="rq", REDIS_URL=None),
                                "File RQ injoignable"),
    "page cache's Redis unreachable": (_page_cache_on_a_closed_port,
                                       "Cache des pages (Redis) injoignable"),
    "mail sender left at its default": (
        lambda app: app.config.update(MAIL_FROM="audit_tracker <no-reply@localhost>"),
        "Expéditeur des e-mails non réglé"),
    "public address left at its default": (
        lambda app: app.config.update(BASE_URL="http://127.0.0.1:5000"),
        "Adresse publique non réglée"),
    "mail relay unreachable": (lambda app: app.config.update(MAIL_PORT=1),
                               "Envoi des e-mails impossible"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_check_fails_on_each_missing_or_wrong_setting(ready, runner, case):
    breaks, message = BROKEN[case]
    breaks(ready)
    code, output = _check(runner)
    assert code == 1, output
    assert message in output
    assert output.count("ERREUR") == 1, output  # only the broken part is reported
    assert "problème(s) de configuration" in output


def test_check_fails_on_a_database_not_migrated(app, runner, smtp_relay):
    app.config["SECRET_KEY"] = GOOD_SECRET
    code, output = _check(runner)  # the test schema is built without the migrations
    assert code == 1
    assert "Base de données non migrée (révision aucune" in output
    assert "flask db upgrade" in output


def _app_on(tmp_path, database_uri: str):
    return create_app({
        "TESTING": True,
        "SECRET_KEY": GOOD_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "TODAY": TEST_TODAY,
    })


UNREACHABLE = {
    "postgresql": UNREACHABLE_POSTGRES,  # nothing listens on port 1: a stopped server
    "sqlite": "sqlite:////nonexistent-folder/audit_tracker.sqlite3",
}


@pytest.mark.parametrize("engine", list(UNREACHABLE))
def test_check_fails_when_the_database_is_unreachable(tmp_path, engine):
    app = _app_on(tmp_path, UNREACHABLE[engine])
    with app.app_context():  # as ``flask check`` has it
        result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "Base de données injoignable : vérifiez AUDIT_TRACKER_DATABASE_URL" in result.output


# ------------------------------------------------------------------------------------ probes


def test_healthz_and_readyz_answer_without_login_and_say_nothing_else(app, client):
    live = client.get("/healthz")
    assert live.status_code == 200
    assert live.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert ready.headers["Cache-Control"] == "no-store"
    for response in (live, ready):  # gunicorn's banner is checked by .ci/serve-smoke
        assert "version" not in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("engine", list(UNREACHABLE))
def test_readyz_with_a_stopped_database_is_503_and_names_only_the_part(tmp_path, engine):
    app = _app_on(tmp_path, UNREACHABLE[engine])
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # alive, just not ready
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "ko",
                                   "checks": {"database": "ko", "storage": "ok"}}
    body = response.get_data(as_text=True)
    assert "127.0.0.1" not in body and "nonexistent" not in body and "Error" not in body


def test_readyz_reports_an_unreachable_queue(app, client):
    app.config.update(DOSSIER_QUEUE="rq", REDIS_URL="redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "storage": "ok", "queue": "ko"}


def test_readyz_reports_a_reachable_queue(app, client):
    url = os.environ.get("AUDIT_TRACKER_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis not selected: set AUDIT_TRACKER_TEST_REDIS_URL (.ci/run does)")
    app.config.update(DOSSIER_QUEUE="rq", REDIS_URL=url)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["queue"] == "ok"


def test_check_says_the_page_caches_redis_answers(ready, runner):
    url = os.environ.get("AUDIT_TRACKER_TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis not selected: set AUDIT_TRACKER_TEST_REDIS_URL (.ci/run does)")
    ready.config.update(PAGE_CACHE="redis", REDIS_URL=url)
    init_page_cache(ready)
    code, output = _check(runner)
    assert code == 0, output
    assert "Cache des pages (Redis) joignable." in output


# -------------------------------------------------------------------------------------- logs


def _access_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "audit_tracker.access"]


def test_one_log_line_per_request_with_its_id_the_user_id_and_the_duration(
        app, client, auth, make_user, caplog):
    user = make_user(Role.QUALITY_LEAD, full_name="Claire Qualité")
    auth.login(user)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="audit_tracker.access"):
        response = client.get("/preuves/", headers={"X-Request-ID": "proxy-given-0042"})
    assert response.headers["X-Request-ID"] == "proxy-given-0042"
    lines = _access_lines(caplog)
    assert len(lines) == 1
    line = lines[0]
    assert re.fullmatch(rf"rid=proxy-given-0042 method=GET route=/preuves/ status=200 "
                        rf"duration_ms=\d+\.\d user={user.id}", line), line
    assert user.email not in line and "Claire" not in line


def test_a_request_id_that_is_not_sane_is_replaced(client, caplog):
    with caplog.at_level(logging.INFO, logger="audit_tracker.access"):
        response = client.get("/healthz", headers={"X-Request-ID": "bad id\twith; stuff"})
    rid = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert _access_lines(caplog) == [
        f"rid={rid} method=GET route=/healthz status=200 "
        + re.search(r"duration_ms=\S+", _access_lines(caplog)[0]).group(0) + " user=-"]


def test_secrets_in_urls_stay_out_of_the_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="audit_tracker.access"):
        client.get("/calendrier/secret-token-123.ics")
    line = _access_lines(caplog)[0]
    assert "secret-token-123" not in line


def test_the_french_error_page_shows_the_request_id(app, client, caplog):
    from audit_tracker.accounts.permissions import public

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/casse", "broken", public(broken))
    with caplog.at_level(logging.INFO):
        response = client.get("/casse")
    assert response.status_code == 500
    rid = response.headers["X-Request-ID"]
    body = response.get_data(as_text=True)
    assert "Référence de la requête" in body and f"<code>{rid}</code>" in body
    assert "boom" not in body
    assert any(f"rid={rid}" in r.getMessage() and "status=500" in r.getMessage()
               for r in caplog.records)
    missing = client.get("/nulle-part")
    assert missing.headers["X-Request-ID"] in missing.get_data(as_text=True)


# ------------------------------------------------------------------ proxies and cookies


def _whoami_app(tmp_path, monkeypatch, **env):
    for key, value in env.items():
        monkeypatch.setenv(f"AUDIT_TRACKER_{key}", value)
    app = _app_on(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    from flask import jsonify, request

    from audit_tracker.accounts.permissions import public

    def whoami():
        return jsonify(addr=request.remote_addr, scheme=request.scheme, host=request.host)

    app.add_url_rule("/qui", "whoami", public(whoami))
    return app


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "audit.e2c-var.example"}


def test_proxy_headers_are_ignored_unless_trusted_proxies_are_configured(tmp_path, monkeypatch):
    app = _whoami_app(tmp_path, monkeypatch)
    seen = app.test_client().get("/qui", headers=FORWARDED,
                                 environ_base={"REMOTE_ADDR": "198.51.100.7"}).get_json()
    assert seen == {"addr": "198.51.100.7", "scheme": "http", "host": "localhost"}


def test_one_trusted_proxy_is_believed(tmp_path, monkeypatch):
    app = _whoami_app(tmp_path, monkeypatch, TRUSTED_PROXIES="1")
    seen = app.test_client().get("/qui", headers=FORWARDED,
                                 environ_base={"REMOTE_ADDR": "198.51.100.7"}).get_json()
    assert seen == {"addr": "203.0.113.9", "scheme": "https", "host": "audit.e2c-var.example"}


def test_secure_cookies_setting_marks_the_session_and_remember_cookies(tmp_path, monkeypatch):
    app = _whoami_app(tmp_path, monkeypatch, SESSION_COOKIE_SECURE="1")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/connexion")
    cookie = response.headers.get("Set-Cookie", "")
    assert "session=" in cookie and "Secure" in cookie

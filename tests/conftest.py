"""Fixtures in the flaskr style: ``app``, ``client``, ``runner``, ``auth``, plus the data they need.

Every test that uses ``app`` runs on SQLite and, when ``AUDIT_TRACKER_TEST_POSTGRES_URL`` names a
server (``.ci/run`` sets it), on PostgreSQL too.

Each test starts from an empty database with the models' schema, built once per session rather
than per test: on SQLite a copy of a template file made by ``create_all``, on PostgreSQL the same
schema emptied row by row and its sequences restarted (ids start at 1 again). Data is committed
for real, so live servers, threads and RQ workers see it as in production. A test that changes
the schema itself (``drop_all``, migrations) gets it rebuilt before the next test. Under
pytest-xdist each worker has a PostgreSQL database of its own (``<name>_gw0``, ``<name>_gw1``…),
made on first use.

The app's clock is pinned: today is ``TEST_TODAY`` (``AUDIT_TRACKER_TEST_TODAY=AAAA-MM-JJ`` moves
it; ``make date-sweep`` runs the date-sensitive tests over many days), never the day the suite
runs.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
from datetime import date
from pathlib import Path

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import MetaData, create_engine, event, make_url, text
from sqlalchemy.engine import Engine

from audit_tracker import create_app
from audit_tracker.clock import local_today, set_today, utcnow
from audit_tracker.demo import load_demo, seed_day
from audit_tracker.extensions import db
from audit_tracker.referentiel.service import load_shipped_referentiels

from . import factories

DATA = Path(__file__).parent / "data"
UPLOADS = DATA / "uploads"

POSTGRES_URL = os.environ.get("AUDIT_TRACKER_TEST_POSTGRES_URL")
# A Sunday, the last day of a month's grid that once hid the audit's last day (issue 10).
TEST_TODAY = date.fromisoformat(os.environ.get("AUDIT_TRACKER_TEST_TODAY") or "2026-12-06")


def _relaxed_durability(engine: Engine) -> None:
    """Commits that do not wait for the disk: test databases are thrown away, and a commit that
    waits for fsync costs more than most tests. Visibility and locking are unchanged."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA synchronous = OFF")
        else:
            cursor.execute("SET synchronous_commit TO off")
            dbapi_connection.commit()  # psycopg opened a transaction; a rollback would undo SET
        cursor.close()


@pytest.fixture(scope="session", autouse=True)
def _test_cost_password_hashes():
    """Real scrypt hashes at a test cost (n=2**10 instead of werkzeug's 2**15 and its 32 MiB):
    at full cost each password takes a tenth of a second or more, and every demo load sets
    eight. Salts, the stored format and the check (which reads the cost from the hash) are the
    production ones."""
    from werkzeug.security import generate_password_hash

    from audit_tracker.models import accounts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "generate_password_hash",
                      functools.partial(generate_password_hash, method="scrypt:1024:8:1"))
        yield


@pytest.fixture(scope="session")
def app_metadata(tmp_path_factory) -> MetaData:
    """Every table of the application: what ``db.create_all()`` builds once ``create_app`` has
    imported all that registers models."""
    create_app({"TESTING": True, "SECRET_KEY": "schema", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "INSTANCE_PATH": str(tmp_path_factory.mktemp("schema-instance"))})
    return db.metadata


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, app_metadata) -> Path:
    """An SQLite file holding the models' empty schema (full-text table included), built once."""
    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    app_metadata.create_all(engine)
    engine.dispose()
    return path


class PostgresSchema:
    """The models' schema in one PostgreSQL database, built once and emptied before each test.

    Emptying is a ``DELETE`` per table (children first) and a restart of the sequences that were
    used: with a handful of rows this is far cheaper than ``TRUNCATE``, which makes new files for
    every table and index. When a test has changed the set of tables (``drop_all``, the
    migrations and their ``alembic_version``), the schema is dropped and built again.
    """

    def __init__(self, url: str, metadata: MetaData) -> None:
        self.url = url
        self.metadata = metadata
        self.engine = create_engine(url)
        self.tables = set(metadata.tables)
        self.empty_all = ";".join(
            str(table.delete().compile(dialect=self.engine.dialect))
            for table in reversed(metadata.sorted_tables)
        )
        self.built = False

    def reset(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("SET LOCAL synchronous_commit TO off"))
            present = set(connection.scalars(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
            if not self.built or present != self.tables:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
                self.metadata.create_all(connection)
                self.built = True
                return
            connection.exec_driver_sql(self.empty_all)
            connection.execute(text(
                "DO $$ DECLARE s record; BEGIN"
                " FOR s IN SELECT sequencename FROM pg_sequences"
                "  WHERE schemaname = 'public' AND last_value IS NOT NULL LOOP"
                "  EXECUTE format('ALTER SEQUENCE public.%I RESTART', s.sequencename);"
                " END LOOP; END $$"))

    def dispose(self) -> None:
        self.engine.dispose()


def _worker_database(url: str) -> str:
    """Under pytest-xdist, this worker's own database beside the named one, created if absent."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
        if not exists:
            quoted = connection.dialect.identifier_preparer.quote(name)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_schema(app_metadata):
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not selected: set AUDIT_TRACKER_TEST_POSTGRES_URL (.ci/run does)")
    from audit_tracker.config import normalise_database_url

    schema = PostgresSchema(_worker_database(normalise_database_url(POSTGRES_URL)), app_metadata)
    yield schema
    schema.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database with the models' schema, on each engine in turn."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    schema = request.getfixturevalue("postgres_schema")
    schema.reset()
    return schema.url


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
        "TODAY": TEST_TODAY,
    })
    app.test_client_class = FreshContextClient
    with app.app_context():
        _relaxed_durability(db.engine)
        yield app
        db.session.remove()
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
def demo_today(app, referentiels):
    """E2C Var shifted by whole weeks as ``make run`` loads it, seen on the day that plays the
    seed's Wednesday 28 Feb 2018: the clock moves to it, so the audit is exactly 55 days away."""
    set_today(app, seed_day(local_today()))
    accounts = load_demo(db.session, today=local_today())
    db.session.commit()
    return {a.email: a for a in accounts}


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now (at the app's clock) for ``secret``."""
    return pyotp.TOTP(secret).at(utcnow())


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = factories.PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.post("/connexion", data={"email": email, "password": password})

    def login_demo(self, demo, local_part: str):
        """Log in as a demo account; the demo requires TOTP of its direction and admin, so
        their login goes through the code step with the code their app would show."""
        account = demo[f"{local_part}@e2c-var.example"]
        response = self.login(account.email, account.password)
        assert response.status_code == 302, "demo login failed"
        if account.totp_secret:
            assert response.location.endswith("/connexion/code"), "demo TOTP step missing"
            response = self._client.post("/connexion/code",
                                         data={"code": totp_code(account.totp_secret)})
            assert response.status_code == 302, "demo TOTP step failed"
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


@pytest.fixture
def storage(app):
    from audit_tracker.storage import EVIDENCE, storage_for

    return storage_for(app, EVIDENCE)


@pytest.fixture
def receive(app):
    """Spool bytes (or a fixture file's bytes) as an upload, as the pages and the API do."""
    from audit_tracker.evidence.service import receive_file
    from audit_tracker.storage import upload_tmp_dir

    def make(name: str, content: bytes | None = None, fixture: str | None = None):
        data = content if content is not None else (UPLOADS / (fixture or name)).read_bytes()
        return receive_file(io.BytesIO(data), name, upload_tmp_dir(app),
                            app.config["MAX_CONTENT_LENGTH"])

    return make


@pytest.fixture
def make_evidence(app, storage, receive):
    """Create a proof through the service; a document by default, from a fixture file."""
    from audit_tracker.evidence.service import EvidenceFields, create_evidence
    from audit_tracker.models import EvidenceKind

    def make(author, *, fixture: str = "preuve.pdf", name: str | None = None,
             kind: EvidenceKind = EvidenceKind.FILE, **fields):
        upload = receive(name or fixture, fixture=fixture) if kind is EvidenceKind.FILE else None
        fields.setdefault("title", (name or fixture).rsplit(".", 1)[0])
        evidence = create_evidence(db.session, storage, school=author.school, author=author,
                                   fields=EvidenceFields(kind=kind, **fields), upload=upload)
        db.session.commit()  # the service flushes; its caller commits
        return evidence

    return make


# --- S3: a real S3-compatible server (moto) for the storage contract and the evidence pages ---

S3_REGION = "eu-west-3"

MOTO_SERVER = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the tests close this pipe (or die)
server.stop()
"""


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's ThreadedMotoServer on 127.0.0.1 (a free port), once per session, in a child
    process: moto holds objects whole in memory, which must not count in this process's
    tracemalloc measurements."""
    import subprocess
    import sys

    try:
        from moto.server import ThreadedMotoServer  # noqa: F401  (the child process runs it)
    except ImportError as error:  # the "test" extra brings moto[server]; without it, local only
        pytest.skip(f"moto[server] is not installed ({error}): pip install 'audit_tracker[test]'")
    with subprocess.Popen(  # noqa: S603 - our own interpreter running a fixed script
        [sys.executable, "-c", MOTO_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        port = server.stdout.readline().strip()
        if not port.isdigit():
            server.kill()
            pytest.fail(f"moto server did not start (exit code {server.wait()})")
        yield f"http://127.0.0.1:{port}"
        server.stdin.close()
        server.wait(timeout=30)


@pytest.fixture
def s3_app(app, s3_endpoint):
    """``app`` configured for S3 evidence storage in a fresh bucket of the moto server.

    Request it before anything that calls ``storage_for`` (the ``storage`` fixture included):
    the backend is built from the configuration on first use.
    """
    import uuid

    from audit_tracker.storage import EVIDENCE, storage_for
    from audit_tracker.storage.s3 import S3Storage

    bucket = f"evidence-app-{uuid.uuid4().hex[:16]}"
    app.config.update(
        EVIDENCE_STORAGE="s3",
        S3_BUCKET=bucket,
        S3_PREFIX="evidence/",
        S3_ENDPOINT_URL=s3_endpoint,
        S3_REGION=S3_REGION,
        S3_ACCESS_KEY="test",
        S3_SECRET_KEY="test",
    )
    app.extensions.pop("storage:evidence", None)
    s3 = storage_for(app, EVIDENCE)
    assert isinstance(s3, S3Storage)
    s3.client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": S3_REGION}
    )
    yield app
    for page in s3.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", ()):
            s3.client.delete_object(Bucket=bucket, Key=item["Key"])
    s3.client.delete_bucket(Bucket=bucket)  # moto keeps objects in memory: free them


@pytest.fixture
def token_for(app):
    """Bearer headers for a user: a real API token, stored hashed like any other."""
    from audit_tracker.models import ApiToken

    def issue(user) -> dict[str, str]:
        token, clear = ApiToken.issue(user, "tests")
        db.session.add(token)
        db.session.commit()
        return {"Authorization": f"Bearer {clear}"}

    return issue

"""Backups that restore: the demo story saved on SQLite, restored into a fresh SQLite or
PostgreSQL instance with the same rows and files, the journal's chain and the proofs' hashes
intact; a tampered archive or an occupied instance refused."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from audit_tracker import create_app
from audit_tracker.clock import local_today, set_today
from audit_tracker.demo import load_demo, seed_day
from audit_tracker.demo_story import load_demo_story
from audit_tracker.extensions import db
from audit_tracker.models import Evidence
from audit_tracker.referentiel.service import load_shipped_referentiels
from audit_tracker.storage import EVIDENCE, NAMESPACES, NOTES, storage_for, upload_tmp_dir

from .conftest import POSTGRES_URL, TEST_TODAY


def migration_head() -> str:
    """The newest migration's revision, which a backup of a migrated database records."""
    from alembic.script import ScriptDirectory

    directory = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations"))
    return directory.get_current_head() or ""

RESTORE_DATABASE = "test_h2_restore"


def _app(url: str, instance: Path) -> Flask:
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "INSTANCE_PATH": str(instance),
        "TODAY": TEST_TODAY,
    })
    return app


def _row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def _object_hashes(app: Flask) -> dict[str, dict[str, str]]:
    found = {}
    for namespace in NAMESPACES:
        storage = storage_for(app, namespace)
        found[namespace.name] = {
            key: hashlib.sha256(b"".join(storage.open_chunks(key))).hexdigest()
            for key in storage.keys()}  # noqa: SIM118
    return found


def _journal_rows() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        text("SELECT seq, hash, prev_hash FROM journal_entry ORDER BY seq"))]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The demo story on a migrated SQLite instance, one note file beside the proofs, saved."""
    folder = tmp_path_factory.mktemp("backup-source")
    app = _app(f"sqlite:///{folder / 'source.sqlite3'}", folder / "instance")
    with app.app_context():
        upgrade()
        load_shipped_referentiels(db.session)
        db.session.commit()
        set_today(app, seed_day(local_today()))
        load_demo(db.session, today=local_today())
        db.session.commit()
        load_demo_story(db.session, storage_for(app, EVIDENCE), upload_tmp_dir(app),
                        today=local_today())
        db.session.commit()
        spare = folder / "note.pdf"
        spare.write_bytes(b"%PDF-1.4 une note mensuelle")
        storage_for(app, NOTES).put("ab" * 20, spare)
        archive = folder / "sauvegarde.zip"
        result = app.test_cli_runner().invoke(args=["backup", "create", str(archive)])
        assert result.exit_code == 0, result.output
        assert "Sauvegarde écrite" in result.output
        facts = {"app": app, "archive": archive, "counts": _row_counts(),
                 "hashes": _object_hashes(app), "journal": _journal_rows(),
                 "proofs": db.session.scalar(select(func.count(Evidence.id)))}
        db.session.remove()
    yield facts
    with app.app_context():
        db.engine.dispose()


def _restore_and_compare(saved, url: str, instance: Path) -> None:
    app = _app(url, instance)
    with app.app_context():
        try:
            upgrade()
            runner = app.test_cli_runner()
            result = runner.invoke(args=["backup", "restore", str(saved["archive"])])
            assert result.exit_code == 0, result.output
            assert "Restauration terminée" in result.output
            counts = _row_counts()
            assert counts == saved["counts"]
            assert counts["evidence"] == saved["proofs"] > 0
            assert counts["journal_entry"] > 100
            assert _object_hashes(app) == saved["hashes"]
            assert len(saved["hashes"]["evidence"]) >= 5 and len(saved["hashes"]["notes"]) == 1
            assert _journal_rows() == saved["journal"]
            if db.engine.dialect.name == "sqlite":  # the search index, rebuilt from the proofs
                assert db.session.scalar(text("SELECT count(*) FROM evidence_search")) == (
                    saved["proofs"])
            evidence = runner.invoke(args=["evidence", "verify"])
            assert evidence.exit_code == 0, evidence.output
            assert "0 manquante(s), 0 altérée(s), 0 objet(s) orphelin(s)" in evidence.output
            journal = runner.invoke(args=["journal", "verify"])
            assert journal.exit_code == 0, journal.output
            assert "Journal intègre" in journal.output
            # The instance goes on: a new row gets a fresh id and a chained journal entry.
            load_shipped_referentiels(db.session)  # nothing new: the frameworks came back
            from audit_tracker.models import School
            db.session.add(School(name="École ajoutée après restauration", short_name="APRES"))
            db.session.commit()
            assert runner.invoke(args=["journal", "verify"]).exit_code == 0
            # And a second restore over it is refused, in French, without touching anything.
            again = runner.invoke(args=["backup", "restore", str(saved["archive"])])
            assert again.exit_code == 1
            assert "l’instance n’est pas vide" in again.output
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_sqlite_backup_restores_into_a_fresh_sqlite_instance(saved, tmp_path):
    """Same rows per table, same files, evidence and journal verified clean."""
    _restore_and_compare(saved, f"sqlite:///{tmp_path / 'restored.sqlite3'}",
                         tmp_path / "instance")


@pytest.fixture
def fresh_postgresql():
    """A database of its own on the test server, created empty and dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not selected: set AUDIT_TRACKER_TEST_POSTGRES_URL")
    from audit_tracker.config import normalise_database_url

    server = make_url(normalise_database_url(POSTGRES_URL))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {RESTORE_DATABASE} WITH (FORCE)"))

    drop()
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {RESTORE_DATABASE}"))
    yield server.set(database=RESTORE_DATABASE).render_as_string(hide_password=False)
    drop()
    admin.dispose()


def test_a_sqlite_backup_restores_into_postgresql(saved, fresh_postgresql, tmp_path):
    """Moving off the embedded default: the SQLite archive into a fresh PostgreSQL database."""
    _restore_and_compare(saved, fresh_postgresql, tmp_path / "instance")


def test_a_backup_verifies_clean(saved):
    """Every member hashed against the manifest; the Alembic revision recorded."""
    app = saved["app"]
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "verify", str(saved["archive"])])
    assert result.exit_code == 0, result.output
    assert "Archive intègre" in result.output
    with zipfile.ZipFile(saved["archive"]) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["alembic_revision"] == migration_head()
    assert manifest["dialect"] == "sqlite"
    tables = [member["table"] for member in manifest["members"] if "table" in member]
    assert tables.index("school") < tables.index("site") < tables.index("evidence")


def _rewrite(source: Path, target: Path, change) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)


def _verify(saved, path: Path):
    app = saved["app"]
    with app.app_context():
        return app.test_cli_runner().invoke(args=["backup", "verify", str(path)])


def test_a_tampered_archive_fails_verify_and_restore(saved, tmp_path):
    """One byte of a proof changed, a row edited, a file dropped: each named; restore refused."""
    proof = next(iter(saved["hashes"]["evidence"]))

    def tamper(name: str, data: bytes) -> bytes | None:
        if name == f"objects/evidence/{proof}":
            return data[:-1] + bytes([data[-1] ^ 1])
        if name.endswith("_school.jsonl"):
            return data.replace(b"E2C", b"E2X", 1)
        if name.startswith("objects/notes/"):
            return None
        return data

    tampered = tmp_path / "altérée.zip"
    _rewrite(saved["archive"], tampered, tamper)
    result = _verify(saved, tampered)
    assert result.exit_code == 1
    assert f"empreinte différente (fichier altéré) : objects/evidence/{proof}" in result.output
    assert "_school.jsonl" in result.output
    assert "fichier manquant : objects/notes/" in result.output
    assert "Archive altérée : 3 problème(s)" in result.output

    app = _app(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "instance")
    with app.app_context():
        upgrade()
        before = _row_counts()
        assert sum(before.values()) == before["journal_head"] == 1  # the empty chain's head
        refused = app.test_cli_runner().invoke(args=["backup", "restore", str(tampered)])
        assert refused.exit_code == 1
        assert "rien n’a été restauré" in refused.output
        assert _row_counts() == before
        db.session.remove()
        db.engine.dispose()


def test_dangerous_names_and_non_archives_are_refused(saved, tmp_path):
    """A member path leaving the archive, a file that is no zip: refused before anything is read."""

    def escape(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["members"][0]["name"] = "../../etc/passwd"
        return json.dumps(manifest).encode()

    traversal = tmp_path / "evasion.zip"
    _rewrite(saved["archive"], traversal, escape)
    result = _verify(saved, traversal)
    assert result.exit_code == 1
    assert "chemin dangereux" in result.output

    garbage = tmp_path / "pas-une-archive.zip"
    garbage.write_bytes(b"rien d'une archive")
    result = _verify(saved, garbage)
    assert result.exit_code == 1
    assert "pas une archive ZIP valide" in result.output


def test_restore_into_an_instance_with_data_is_refused(saved, tmp_path):
    """The source itself is not empty: refused in French, nothing added."""
    app = saved["app"]
    with app.app_context():
        before = _row_counts()
        result = app.test_cli_runner().invoke(
            args=["backup", "restore", str(saved["archive"])])
        assert result.exit_code == 1
        assert "Restauration refusée : l’instance n’est pas vide" in result.output
        assert _row_counts() == before
        db.session.remove()

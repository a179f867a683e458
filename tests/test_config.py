"""Settings from the environment, and the instance secret key."""

from __future__ import annotations

import stat

import pytest

from audit_tracker import create_app
from audit_tracker.config import from_environment, instance_secret_key, normalise_database_url


@pytest.mark.parametrize("url, expected", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_use_psycopg_3(url, expected):
    assert normalise_database_url(url) == expected


def test_environment_settings_are_prefixed_and_typed():
    settings = from_environment({
        "AUDIT_TRACKER_MAX_CONTENT_LENGTH": "1048576",
        "AUDIT_TRACKER_SESSION_COOKIE_SECURE": "true",
        "DATABASE_URL": "postgres://u@h/db",
        "UNRELATED": "x",
    })
    assert settings == {
        "MAX_CONTENT_LENGTH": 1048576,
        "SESSION_COOKIE_SECURE": True,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db",
    }


def test_secret_key_is_made_once_private_and_then_kept(tmp_path):
    assert instance_secret_key(tmp_path, create=False) is None
    key = instance_secret_key(tmp_path, create=True)
    assert len(key) == 64
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert instance_secret_key(tmp_path, create=True) == key


def test_the_app_has_no_built_in_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDIT_TRACKER_SECRET_KEY", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SECRET_KEY"] is None


def test_sqlite_enforces_foreign_keys(app):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from audit_tracker.extensions import db

    with pytest.raises(IntegrityError):
        db.session.execute(text("INSERT INTO site (school_id, code, name, created_at) "
                                "VALUES (999, 'x', 'x', CURRENT_TIMESTAMP)"))
        db.session.flush()
    db.session.rollback()


def test_each_test_app_gets_its_own_instance_folder(app, storage, tmp_path):
    """Stored proofs and keys of one test never leak into another (or into ./instance)."""
    assert app.instance_path.startswith(str(tmp_path))
    assert str(storage.root).startswith(app.instance_path)

"""Database helpers that depend on the engine in use."""

import contextlib
import os
import unicodedata
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .models.evidence import SEARCH_PG_INDEX, SEARCH_TABLE


def enable_sqlite_foreign_keys(engine: Engine) -> None:
    """SQLite ignores foreign keys unless asked, per connection; PostgreSQL always checks them."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        # SQLite's lower() knows ASCII only: « Émargement » and « émargement » agree through this.
        dbapi_connection.create_function("fold", 1, fold, deterministic=True)


def fold(value: str | None) -> str | None:
    """Lower case without accents, as the FTS5 index compares words (SQLite's ``fold()``)."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def keep_sqlite_file_private(engine: Engine) -> None:
    """The database file (and its journal, which SQLite creates with the file's mode) readable
    by the application's account only: created 0600 before SQLite opens it, tightened if it
    exists. An in-memory database has no file."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # a folder that does not exist is a misconfiguration for `flask check` to name
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    with contextlib.suppress(OSError):
        path.chmod(0o600)


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the full-text search objects are made by hand, not from the models."""
    if type_ == "table" and name and name.startswith(SEARCH_TABLE):
        return False
    return not (type_ == "index" and name == SEARCH_PG_INDEX)

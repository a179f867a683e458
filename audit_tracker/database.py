"""Database helpers that depend on the engine in use."""

import unicodedata

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


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: the full-text search objects are made by hand, not from the models."""
    if type_ == "table" and name and name.startswith(SEARCH_TABLE):
        return False
    return not (type_ == "index" and name == SEARCH_PG_INDEX)

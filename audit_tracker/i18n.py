"""Locale and time zone. French is the default; a user may switch to English for the session."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session


def select_locale() -> str:
    """The session's choice in a request; the default elsewhere (commands, background jobs)."""
    chosen = session.get("locale") if has_request_context() else None
    if isinstance(chosen, str) and chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def megabytes(size: int) -> str:
    """A size limit in MiB as a French reader writes it: « 50 », « 1,5 », « 0,06 »."""
    from flask_babel import format_decimal

    return format_decimal(size / (1024 * 1024), format="#,##0.##")


def wants_json() -> bool:
    """JSON errors for the API (even when no route matched: no blueprint then) and for the
    pages' own scripts, which say so with ``X-Requested-With: fetch``."""
    return (
        request.blueprint == "api"
        or request.path.startswith("/api/")
        or request.headers.get("X-Requested-With") == "fetch"
    )

"""Locale and time zone. French is the default; a user may switch to English for the session."""

from __future__ import annotations

import re
from datetime import date

from flask import current_app, has_request_context, request, session
from flask_babel import Domain, get_locale


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


def french_day(day: date, fmt: str = "d MMMM yyyy") -> str:
    """A date in words as French writes it: « 1er février 2027 » (the first of the month is
    ordinal), « 2 février 2027 »; English and numeric formats as Babel gives them."""
    from flask_babel import format_date

    if str(get_locale()).startswith("fr"):
        return french_date(day, fmt)
    return format_date(day, fmt)


def french_date(day: date, fmt: str = "d MMMM yyyy") -> str:
    """``french_day`` in French whatever the reader's language: for the school's own words
    (the demo's documents), which are written once."""
    from babel.dates import format_date

    text = format_date(day, fmt, locale="fr_FR")
    if day.day == 1 and "MMMM" in fmt:
        text = re.sub(r"(?<!\d)1(?=\s)", "1er", text, count=1)
    return text


class FrenchPluralDomain(Domain):
    """Flask-Babel's domain, with French's own plural rule for French, the source language (it
    has no catalogue, so gettext's fallback would say « 0 constats »): 0 and 1 are singular."""

    def get_translations(self):  # type: ignore[no-untyped-def]
        """The locale's catalogue; for French, one whose plural says « 0 constat »."""
        translations = super().get_translations()
        if str(get_locale()).startswith("fr") and not getattr(translations, "_fr_plural", False):
            def plural_of(singular: str, plural: str, num: int) -> str:
                return singular if abs(num) < 2 else plural

            translations.ngettext = translations.ungettext = plural_of
            translations._fr_plural = True
        return translations


def to_criterion(label: str) -> str:
    """« au critère A1 », « à l’indicateur 12 » in French (the article contracted, the name in
    lower case inside a sentence); the label itself in English ("to Criterion A1" is the
    sentence's)."""
    from flask_babel import get_locale

    if not str(get_locale()).startswith("fr"):
        return label
    word, _space, rest = label.partition(" ")
    word = word[:1].lower() + word[1:]
    article = "à l’" if word[:1] in "aeiouyhéèêàâîôû" else "au "
    return f"{article}{word} {rest}".rstrip()

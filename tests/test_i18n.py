"""Languages: French by default, English on request, and a catalogue that keeps up with the code.

Every user-facing string is written in French (the msgid); English comes from the catalogue in
``audit_tracker/translations``. The catalogue tests below make a string added to the code without
being extracted, or extracted without being translated, fail CI instead of showing up in French
on an English page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import audit_tracker

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = Path(audit_tracker.__file__).resolve().parent / "translations"
CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
ENGLISH = TRANSLATIONS / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)")
# What `pybabel extract -F babel.cfg -k _l -k lazy_gettext` looks for.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# French typography that has no place in English: guillemets, (narrow) no-break spaces, and a
# space before a colon, semicolon, question or exclamation mark.
FRENCH_TYPOGRAPHY = re.compile(r"[«»\u00a0\u202f]| [:;?!]")
UPDATE = "make messages, then translate what is new in the .po files"


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def _html_lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', page)
    assert match, "no <html lang> on the page"
    return match.group(1)


def _switch_language(client, language: str, next_page: str = "/connexion"):
    return client.post("/langue", data={"language": language, "next": next_page})


@pytest.fixture
def english(client):
    """The client's session switched to English; fails if the compiled catalogue is stale."""
    po, mo = ENGLISH / "messages.po", ENGLISH / "messages.mo"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        pytest.fail("messages.mo is missing or older than messages.po: run `make translations`")
    response = _switch_language(client, "en")
    assert response.status_code == 302
    return client


# ------------------------------------------------------------------------------------- the pages


def test_french_is_the_default(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert _html_lang(page) == "fr"
    assert "Connexion" in page
    assert "Se connecter" in page
    assert 'value="fr" selected' in page


def test_the_language_form_switches_the_session_to_english(client, english):
    page = client.get("/connexion").get_data(as_text=True)
    assert _html_lang(page) == "en"
    assert "Log in" in page
    assert "Email address" in page
    assert "Se connecter" not in page
    assert 'value="en" selected' in page


def test_the_language_form_returns_to_the_page_it_was_sent_from(client):
    response = _switch_language(client, "en", "/referentiels/?tri=code")
    assert response.status_code == 302
    assert response.location == "/referentiels/?tri=code"


def test_english_campaign_page_shows_english_milestone_kinds(client, auth, demo, english):
    auth.login_demo(demo, "direction")
    page = client.get("/campagnes/1").get_data(as_text=True)
    assert _html_lang(page) == "en"
    kinds = re.findall(r'<span class="small text-uppercase text-muted">([^<]*)</span>', page)
    assert kinds == ["Advisory visit", "Pre-audit", "Initial audit", "National commission",
                     "Other milestone"]
    assert "Campaign timeline" in page
    assert "Governance bodies" in page
    # What the school typed stays as typed: the milestone titles are data, not interface.
    assert "Commission Nationale de Labellisation" in page


def test_english_countdown_uses_english_plurals_and_day_badges(client, auth, demo_today, english):
    auth.login_demo(demo_today, "direction")
    page = client.get("/campagnes/1").get_data(as_text=True)
    start, end = page.index('data-testid="audit-countdown"'), page.index('data-testid="timeline"')
    countdown = page[start:end]
    assert "55 days" in countdown
    assert "until “Audit de labellisation AFNOR Certification”, on" in countdown
    assert "D-55" in page
    assert "jours" not in countdown


@pytest.mark.parametrize("language", ["de", "", "EN", "en_GB", "../fr"])
def test_an_unknown_language_is_ignored(client, language):
    response = _switch_language(client, language)
    assert response.status_code == 302
    page = client.get("/connexion").get_data(as_text=True)
    assert _html_lang(page) == "fr"
    assert "Se connecter" in page


def test_an_unknown_language_leaves_an_earlier_choice_alone(client, english):
    _switch_language(client, "de")
    page = client.get("/connexion").get_data(as_text=True)
    assert _html_lang(page) == "en"


@pytest.mark.parametrize("target", [
    "https://evil.example",
    "https://evil.example/connexion",
    "//evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
])
def test_the_language_form_does_not_redirect_off_site(client, target):
    response = _switch_language(client, "en", target)
    assert response.status_code == 302
    assert response.location == "/"
    assert "evil.example" not in response.location


# -------------------------------------------------------------------------------- the catalogue


def test_there_is_an_english_catalogue():
    assert ENGLISH / "messages.po" in CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-3])
def test_catalogue_is_fully_translated_with_the_same_placeholders(path):
    catalog = _read(path)
    untranslated, fuzzy, placeholders = [], [], []
    for message in catalog:
        if not message.id:
            continue  # the header
        if message.fuzzy:
            fuzzy.append(message.id)
        ids = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        for index, string in enumerate(strings):
            if not string:
                untranslated.append(message.id)
                continue
            source = ids[min(index, len(ids) - 1)]
            expected, found = set(PLACEHOLDER.findall(source)), set(PLACEHOLDER.findall(string))
            if expected != found:
                placeholders.append((source, string))
    assert not untranslated, f"untranslated in {path}: {untranslated}"
    assert not fuzzy, f"fuzzy (to check, then unflag) in {path}: {fuzzy}"
    assert not placeholders, f"placeholders differ from the msgid in {path}: {placeholders}"


def test_english_catalogue_has_no_french_typography():
    leaks = []
    for message in _read(ENGLISH / "messages.po"):
        strings = message.string if message.pluralizable else (message.string,)
        leaks += [s for s in strings if message.id and FRENCH_TYPOGRAPHY.search(s)]
    assert not leaks


def test_catalogues_hold_every_string_of_the_code():
    """A string added to the code but never extracted would show in French on English pages."""
    config = ROOT / "babel.cfg"
    if not config.exists():
        pytest.skip("babel.cfg is not shipped with an installed package")
    with config.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    in_code = {
        message if isinstance(message, str) else message[0]
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS)
    }
    assert in_code, "extraction found nothing: is babel.cfg still matching the sources?"
    for path in CATALOGUES:
        in_catalogue = {message.id if isinstance(message.id, str) else message.id[0]
                        for message in _read(path) if message.id}
        missing = sorted(in_code - in_catalogue)
        assert not missing, f"not in {path} ({UPDATE}): {missing}"


# ------------------------------------------------------------------------- French as it is written


def test_french_counts_zero_in_the_singular_and_english_in_the_plural(app):
    """« 0 constat » (French: 0 and 1 are singular), "0 findings" in English."""
    from flask import session
    from flask_babel import ngettext, refresh

    with app.test_request_context("/"):
        counts = [ngettext("%(num)s constat", "%(num)s constats", n) for n in (0, 1, 2)]
        assert counts == ["0 constat", "1 constat", "2 constats"]
        page = app.jinja_env.from_string(
            '{{ ngettext("%(num)s constat", "%(num)s constats", 0) }}').render()
        assert page == "0 constat"
        session["locale"] = "en"
        refresh()
        assert ngettext("%(num)s constat", "%(num)s constats", 0).endswith("s")
        assert ngettext("%(num)s constat", "%(num)s constats", 1) != counts[0]


def test_the_first_of_the_month_is_ordinal_in_french(app):
    """« 1er février 2027 », « 2 février 2027 »; English as Babel writes it."""
    from datetime import date

    from flask import session
    from flask_babel import refresh

    template = app.jinja_env.from_string("{{ d|date_fr }} / {{ d|date_fr('EEEE d MMMM') }}")
    with app.test_request_context("/"):
        assert template.render(d=date(2027, 2, 1)) == "1er février 2027 / lundi 1er février"
        assert template.render(d=date(2027, 2, 11)) == "11 février 2027 / jeudi 11 février"
        assert template.render(d=date(2027, 2, 2)) == "2 février 2027 / mardi 2 février"
        session["locale"] = "en"
        refresh()
        assert template.render(d=date(2027, 2, 1)).startswith("1 February 2027")


def test_formatted_fields_say_how_to_format_and_preview_sanitised(client, auth, demo):
    """No « (Markdown) »: the field says « Mise en forme : **gras**, listes… » and « Aperçu »
    shows the text as pages will, with any HTML removed."""
    auth.login_demo(demo, "qualite")
    page = client.get("/campagnes/nouvelle").get_data(as_text=True)
    assert "Markdown" not in page
    assert "Mise en forme : **gras**" in page and "data-preview-for=" in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/apercu", data={
        "csrf_token": token, "text": "**Fort**\n\n- un\n- deux\n\n<script>alert(1)</script>"})
    assert response.status_code == 200
    html = response.json["html"]
    assert "<strong>Fort</strong>" in html and "<li>un</li>" in html and "<script" not in html

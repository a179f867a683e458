"""Reading the API's JSON and form input: each helper answers 400 in French, naming the field."""

from __future__ import annotations

import re
from datetime import date

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Site

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = {"true", "1", "on", "yes", "oui"}
_FALSE = {"false", "0", "off", "no", "non", ""}


def json_body() -> dict:
    """The request's JSON object."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, _("Envoyez un objet JSON (Content-Type: application/json)."))
    return body


def text(body: dict, name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return ""
    if not isinstance(value, str):
        abort(400, _("« %(field)s » doit être un texte.", field=name))
    return value


def integer(raw, name: str) -> int:
    if isinstance(raw, bool) or raw is None or isinstance(raw, float):
        abort(400, _("« %(field)s » doit être un nombre entier.", field=name))
    try:
        return int(raw)
    except (TypeError, ValueError):
        abort(400, _("« %(field)s » doit être un nombre entier.", field=name))


def optional_integer(raw, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    return integer(raw, name)


def day(raw, name: str) -> date | None:
    """An ISO day (AAAA-MM-JJ), None when empty; a 400 naming the field otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = raw.strip() if isinstance(raw, str) else str(raw)
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        abort(
            400,
            _(
                "Date invalide pour « %(field)s » : « %(value)s » ; attendu AAAA-MM-JJ.",
                field=name,
                value=text[:40],
            ),
        )


def boolean(raw, name: str) -> bool:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    value = raw.strip().lower() if isinstance(raw, str) else str(raw)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    abort(400, _("« %(field)s » doit valoir true ou false.", field=name))


def listing(body: dict, name: str) -> list:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        abort(400, _("« %(field)s » doit être une liste.", field=name))
    return value


def site(code) -> Site | None:
    """A site of the user's school by its code; None (the whole school) when empty."""
    if code is None:
        return None
    if not isinstance(code, str):
        abort(400, _("« %(field)s » doit être un texte.", field="site"))
    code = code.strip()
    if not code:
        return None
    site = db.session.scalar(
        select(Site).where(Site.school_id == current_user.school_id, Site.code == code)
    )
    if site is None:
        abort(400, _("Site inconnu : %(code)s.", code=code[:80]))
    return site

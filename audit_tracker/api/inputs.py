"""The one input the schemas cannot check alone: a site code, looked up in the user's school."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Site


def site(code: str | None) -> Site | None:
    """A site of the user's school by its code; None (the whole school) when empty."""
    code = (code or "").strip()
    if not code:
        return None
    site = db.session.scalar(
        select(Site).where(Site.school_id == current_user.school_id, Site.code == code)
    )
    if site is None:
        abort(400, _("Site inconnu : %(code)s.", code=code[:80]))
    return site

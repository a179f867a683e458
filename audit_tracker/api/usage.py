"""When each API token was last used, written at most once a minute per token.

The bearer token is read again here, after the view, rather than in the login code: the
request loader only answers who is calling. A throttled write keeps a busy client from turning
every GET into a write; ``last_used_at`` is for the person deciding whether a token is still in
use, and a minute is precise enough for that.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, request
from flask_login import current_user
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from ..clock import utcnow
from ..extensions import db
from ..models import ApiToken
from . import bp

THROTTLE = timedelta(minutes=1)


@bp.after_request
def note_token_use(response: Response) -> Response:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not current_user.is_authenticated:
        return response
    now = utcnow()
    try:
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == ApiToken.hash(token.strip()),
                   ApiToken.revoked_at.is_(None),
                   or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - THROTTLE))
            .values(last_used_at=now)
        )
        db.session.commit()
    except SQLAlchemyError:  # a busy database must not fail the answer already made
        db.session.rollback()
    return response

"""One log line per request: its id, method, route, status, duration and user id.

The id comes from the proxy's ``X-Request-ID`` when it looks like one (letters, digits, ``.-_``,
8 to 64 of them), otherwise it is made here; it is sent back in ``X-Request-ID`` and printed on
the French error page, so a user can quote it and the log line be found. The user is named by
their id only, never by name or e-mail; the route is the rule (``/calendrier/<token>.ics``), not
the path, so secrets in URLs stay out of the log.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

LOGGER_NAME = "audit_tracker.access"
HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

logger = logging.getLogger(LOGGER_NAME)


def init_request_log(app: Flask) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # First of every before_request hook, so that a refusal by a later one is logged too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)


def request_id() -> str:
    """The current request's id (made on first use if the hook has not run)."""
    if "request_id" not in g:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
    return str(g.request_id)


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _user_id() -> str:
    # Only a user Flask-Login has already loaded: logging must not query the database.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.id)
    return "-"


def _finish(response: Response) -> Response:
    rid = request_id()
    response.headers[HEADER] = rid
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    route = request.url_rule.rule if request.url_rule is not None else "-"
    logger.info("rid=%s method=%s route=%s status=%s duration_ms=%.1f user=%s",
                rid, request.method, route, response.status_code, duration_ms, _user_id())
    return response

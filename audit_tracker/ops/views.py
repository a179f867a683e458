"""Probes for a load balancer or an orchestrator, open without an account and saying nothing
but ok / ko: no version, host, path or error text."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..accounts.permissions import public
from ..extensions import db
from . import checks

bp = Blueprint("ops", __name__)


def _no_store(response):  # type: ignore[no-untyped-def]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """Liveness: the process answers requests. Touches nothing else."""
    return _no_store(jsonify(status="ok"))


@bp.route("/readyz")
@public
def readyz() -> ResponseReturnValue:
    """Readiness: the database answers, the storage is there, the queue (when used) answers."""
    parts = checks.readiness(current_app, db.session)
    ready = all(parts.values())
    body = {"status": "ok" if ready else "ko",
            "checks": {part: "ok" if ok else "ko" for part, ok in parts.items()}}
    return _no_store(jsonify(body)), 200 if ready else 503

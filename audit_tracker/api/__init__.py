"""JSON API v1: bearer tokens, the same services as the pages, errors as {"error": "..."}."""

from flask import Blueprint

bp = Blueprint("api", __name__)

# Importing the modules registers their routes on bp.
from . import (  # noqa: E402,F401
    calendar,
    dossier,
    evidence,
    findings,
    indicators,
    notes,
    readiness,
    usage,
    views,
)

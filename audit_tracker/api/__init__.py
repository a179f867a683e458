"""JSON API v1: bearer tokens, the same services as the pages, errors as {"error": "..."}."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import evidence, findings, views  # noqa: E402,F401 - registers the routes on bp

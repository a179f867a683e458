"""The security headers every response carries, written once after each request.

- every HTML page: a strict Content-Security-Policy. Scripts and style sheets come from this
  site only (no inline script, no ``<style>`` element, no CDN); style *attributes* are allowed
  because the server-drawn SVG charts and two progress bars use them, and they cannot run code;
  images from this site or ``data:`` (Bootstrap's form icons); nothing may frame a page;
- every other response without a policy of its own (JSON, exports, a calendar): nothing at all
  may load or run from it (``sandbox``). Stored proofs and dossiers set theirs in
  ``web.files.send_stored``;
- everywhere: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin`` (a page's
  address, which may hold a calendar token, never leaves the site).

The ``Server`` banner is the WSGI server's, not the application's: Werkzeug's development
server always writes its own, and so does gunicorn; ``hide_server_banner`` empties the
development server's, and a production proxy must drop it (``server_tokens off`` and
``proxy_hide_header Server`` with nginx).
"""

from __future__ import annotations

from flask import Flask, Response

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-src 'self'; frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


def init_headers(app: Flask) -> None:
    app.after_request(_secure)
    hide_server_banner()


def _secure(response: Response) -> Response:
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = (
            PAGE_POLICY if response.mimetype == "text/html" else OTHER_POLICY
        )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.pop("Server", None)
    return response


def hide_server_banner() -> None:
    """Werkzeug's development server names itself and Python's version in every answer; make it
    name nothing. (Its ``server_version`` is a property computed per request.)"""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.server_version = "audit_tracker"  # type: ignore[assignment]
    WSGIRequestHandler.sys_version = ""

"""gunicorn's settings for ``make serve`` (``gunicorn -c gunicorn.conf.py wsgi:app``).

Every value can be moved by the environment, so one file serves a laptop, CI and a host:

- ``AUDIT_TRACKER_BIND`` (``127.0.0.1:8000``): where to listen; put a reverse proxy in front;
- ``AUDIT_TRACKER_WEB_WORKERS``: processes, by default ``2 × CPUs + 1`` capped at 8 (each holds
  its own database pool; nothing else lives in a worker: sessions are signed cookies, files go
  to the storage, long jobs to the queue);
- ``AUDIT_TRACKER_WEB_THREADS`` (2): threads per worker (gthread worker), so one slow upload does
  not hold a whole process;
- ``AUDIT_TRACKER_WEB_TIMEOUT`` (120 s): a request still running then is killed and its worker
  restarted; uploads of 50 MB on a slow line and a dossier's download fit in it, builds do not
  (they run in the background);
- ``AUDIT_TRACKER_WEB_MAX_REQUESTS`` (20,000): requests a worker serves before it is replaced
  (0: never);
- ``AUDIT_TRACKER_ACCESS_LOG`` (off): gunicorn's own access log, ``-`` for standard output. The
  application already writes one line per request (request id, route, status, duration, user
  id: ``audit_tracker/requestlog.py``) to the error log, ``AUDIT_TRACKER_ERROR_LOG`` (``-``).

Proxy headers (``X-Forwarded-For``, ``-Proto``, ``-Host``) are trusted only when
``AUDIT_TRACKER_TRUSTED_PROXIES`` says how many proxies stand in front: the application applies
werkzeug's ProxyFix then (``create_app``), never otherwise. gunicorn's own ``forwarded_allow_ips``
is emptied so that it never rewrites the scheme by itself.

No banner: gunicorn names itself in a ``Server`` header on every answer; it is taken out below.
"""

from __future__ import annotations

import multiprocessing
import os

import gunicorn
import gunicorn.http.wsgi


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("AUDIT_TRACKER_BIND", "127.0.0.1:8000")
workers = _int("AUDIT_TRACKER_WEB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
threads = _int("AUDIT_TRACKER_WEB_THREADS", 2)
timeout = _int("AUDIT_TRACKER_WEB_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with some jitter), so a slow leak cannot grow.
# A new worker spends ~2 s of CPU importing the application: at 2,000, a saturated server
# restarted each worker every second or two and answered /healthz 1,000-1,250 times a second
# against 3,500 without recycling (benchmarks/README.md); at 20,000, ~0.1 ms a request.
max_requests = _int("AUDIT_TRACKER_WEB_MAX_REQUESTS", 20000)
max_requests_jitter = max_requests // 10
# Request line and headers stay small; the body limit is the application's MAX_CONTENT_LENGTH.
limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("AUDIT_TRACKER_ACCESS_LOG") or None
errorlog = os.environ.get("AUDIT_TRACKER_ERROR_LOG", "-")
loglevel = os.environ.get("AUDIT_TRACKER_LOG_LEVEL", "info")
# When turned on: who, what, status, size, duration (µs) and the request id the application gave
# the answer. The path is the raw one (a calendar token would show): hence off by default.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus rid=%({x-request-id}o)s'

# No control socket in the home folder (gunicorn ≥ 25.1): two instances on one host would fight
# over it, and nothing here uses gunicornc.
control_socket_disable = True

# Headers from a proxy are the application's business (ProxyFix, when configured), not gunicorn's.
forwarded_allow_ips = ""
proxy_allow_ips = ""

# Neither a ``Server: gunicorn`` header nor a version in the WSGI environ.
gunicorn.SERVER = ""
gunicorn.SERVER_SOFTWARE = ""
gunicorn.http.wsgi.SERVER = ""
gunicorn.http.wsgi.SERVER_SOFTWARE = ""
_default_headers = gunicorn.http.wsgi.Response.default_headers


def _headers_without_banner(self):  # type: ignore[no-untyped-def]
    return [h for h in _default_headers(self) if not h.lower().startswith("server:")]


gunicorn.http.wsgi.Response.default_headers = _headers_without_banner  # type: ignore[method-assign]

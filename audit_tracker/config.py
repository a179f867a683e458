"""Settings: defaults here, then ``AUDIT_TRACKER_*`` and ``DATABASE_URL`` from the environment,
then the mapping given to ``create_app``. Nothing secret has a default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENV_PREFIX = "AUDIT_TRACKER_"

DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_DATABASE_URI": None,  # filled in from the instance folder when not set
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "LANGUAGES": ["fr", "en"],
    "TIMEZONE": "Europe/Paris",
    "TODAY": None,  # a day (AAAA-MM-JJ) to run the clock from, for tests and demos; None = real
    "BOOTSTRAP_SERVE_LOCAL": True,
    "BOOTSTRAP_BOOTSWATCH_THEME": None,
    # One request carries one file (the page uploads several one after the other), so the
    # request limit is the file limit.
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    "EVIDENCE_STORAGE": "local",  # or "s3"
    "EVIDENCE_DIR": None,  # local storage root; default instance/evidence
    "UPLOAD_TMP_DIR": None,  # where uploads are spooled and hashed; default instance/tmp
    "S3_BUCKET": None,
    "S3_PREFIX": "evidence/",
    "S3_ENDPOINT_URL": None,
    "S3_REGION": None,
    "S3_ACCESS_KEY": None,
    "S3_SECRET_KEY": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_DAYS": 14,
    # The key of the seals (sign-offs): kept outside the database; derived from the secret key,
    # with a warning, when not set (audit_tracker/signing.py).
    "SIGNING_KEY": None,  # « se souvenir de moi »: refused by the server after this many days
    # The brake on guessed passwords (accounts/throttle.py): failures within the window before
    # the account, or the address, is blocked for LOGIN_BLOCK_MINUTES.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_WINDOW_MINUTES": 15,
    "LOGIN_BLOCK_MINUTES": 15,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,  # a working day: a form left open over lunch still posts
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # Reminder e-mails (``flask reminders send``): the SMTP relay and the links they carry.
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS on a plain port (587)
    "MAIL_USE_SSL": False,  # TLS from the start (465)
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "Cap Label <no-reply@localhost>",
    # The product's name as users read it (titles, navigation, e-mails), not the package's.
    "PRODUCT_NAME": "Cap Label",
    "BASE_URL": "http://127.0.0.1:5000",  # where the application is reached, for e-mail links
    # Production (``make serve``): how many reverse proxies stand in front and may be believed
    # about the client's address, scheme and host (werkzeug's ProxyFix); 0 believes none.
    "TRUSTED_PROXIES": 0,
    # Cookies only over HTTPS: set AUDIT_TRACKER_SESSION_COOKIE_SECURE=1 behind TLS (the
    # default serves ``make run``'s plain http://127.0.0.1); the "remember me" cookie follows
    # unless REMEMBER_COOKIE_SECURE says otherwise. One setting: SECURE_COOKIES, which said
    # the same, is gone.
    "SESSION_COOKIE_SECURE": False,
    # The dashboard's fragments (web/page_cache.py): simple (this process), redis (shared by the
    # web processes; needs REDIS_URL) or none; empty = redis when REDIS_URL is set, else simple.
    "PAGE_CACHE": "",
    "PAGE_CACHE_SECONDS": 3600,
    "PAGE_CACHE_ENTRIES": 500,  # the per-process backend's size, in fragments (≈ 50 kB each)
}

# Values read from the environment are strings; these are turned into their real type.
_INT_KEYS = {
    "MAX_CONTENT_LENGTH",
    "WTF_CSRF_TIME_LIMIT",
    "PERMANENT_SESSION_LIFETIME",
    "MAIL_PORT",
    "TRUSTED_PROXIES",
    "REMEMBER_DAYS",
    "PAGE_CACHE_SECONDS",
    "PAGE_CACHE_ENTRIES",
    "LOGIN_MAX_FAILURES",
    "LOGIN_MAX_FAILURES_PER_ADDRESS",
    "LOGIN_WINDOW_MINUTES",
    "LOGIN_BLOCK_MINUTES",
}
_BOOL_KEYS = {
    "SESSION_COOKIE_SECURE",
    "REMEMBER_COOKIE_SECURE",
    "TESTING",
    "WTF_CSRF_ENABLED",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
}


def _coerce(key: str, value: str) -> Any:
    if key in _INT_KEYS:
        return int(value)
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Settings named ``AUDIT_TRACKER_<KEY>`` plus the conventional ``DATABASE_URL``."""
    settings = {
        key[len(ENV_PREFIX) :]: _coerce(key[len(ENV_PREFIX) :], value)
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX)
    }
    if environ.get("DATABASE_URL"):
        settings.setdefault(
            "SQLALCHEMY_DATABASE_URI", normalise_database_url(environ["DATABASE_URL"])
        )
    if "DATABASE_URL" in settings:
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(settings.pop("DATABASE_URL"))
    return settings


def normalise_database_url(url: str) -> str:
    """Let ``postgres://`` and ``postgresql://`` URLs use psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str | Path, create: bool) -> str | None:
    """The secret key kept in ``instance/secret_key``, made on first use when ``create``."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created private: the key signs sessions and CSRF tokens.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key

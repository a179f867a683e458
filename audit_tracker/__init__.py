"""audit_tracker: evidence, findings, deadlines and readiness for an E2C label audit."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from . import config
from .extensions import babel, bootstrap, csrf, db, login_manager, migrate

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; read as a table of contents of what makes it up."""
    # The instance folder (database, secret key, stored proofs) is chosen before the app
    # exists: an explicit INSTANCE_PATH (tests), the environment, or ./instance.
    instance_path = (
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("AUDIT_TRACKER_INSTANCE_PATH")
        or str(PROJECT_DIR / "instance")
    )
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(PROJECT_DIR / "templates"),
    )
    configure(app, test_config)
    register_clock(app)
    register_request_log(app)
    register_uploads(app)
    register_extensions(app)
    register_page_cache(app)
    register_security(app)
    register_proxies(app)
    register_inputs(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_headers(app)
    register_template_helpers(app)
    register_commands(app)
    register_jobs(app)
    return app


def perform_job(kind: str, row_id: int) -> None:
    """What an RQ worker runs: an application of its own from the environment, then one
    background job. Its engine is disposed after, so a worker keeps no connection."""
    from .jobs import run_in_app

    app = create_app()
    try:
        run_in_app(app, kind, row_id)
    finally:
        with app.app_context():
            db.engine.dispose()


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Defaults, then the environment, then the explicit mapping (tests)."""
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_mapping(config.from_environment(os.environ))
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # Cookies: Secure when configured (SESSION_COOKIE_SECURE, below), the remember-me one
    # short-lived (the server refuses it after REMEMBER_DAYS too: accounts.security).
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=int(app.config["REMEMBER_DAYS"]))
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'audit_tracker.sqlite3'}"
        )
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    if not app.config.get("SECRET_KEY"):
        # Made by ``flask setup`` on first run; there is deliberately no built-in fallback.
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path, create=False)


def register_clock(app: Flask) -> None:
    from .clock import init_clock

    init_clock(app)


def register_request_log(app: Flask) -> None:
    from .requestlog import init_request_log

    init_request_log(app)


def register_uploads(app: Flask) -> None:
    from .uploads import init_uploads

    init_uploads(app)


def register_extensions(app: Flask) -> None:
    from .database import include_in_migrations
    from .i18n import FrenchPluralDomain, select_locale, select_timezone

    db.init_app(app)
    from .journal.hooks import install as journal_every_flush

    journal_every_flush(db.session)  # every change of every model, in its own transaction
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"),
                     include_object=include_in_migrations)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # French is the source language: « 0 constat », not gettext's « 0 constats ».
    babel.domain_instance = FrenchPluralDomain(domain=app.config.get(
        "BABEL_DOMAIN", "messages"))
    bootstrap.init_app(app)
    login_manager.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from .database import enable_sqlite_foreign_keys, keep_sqlite_file_private

        with app.app_context():
            enable_sqlite_foreign_keys(db.engine)
            keep_sqlite_file_private(db.engine)


def register_page_cache(app: Flask) -> None:
    from .web.page_cache import init_page_cache

    init_page_cache(app)


def register_security(app: Flask) -> None:
    from .accounts.security import init_security

    init_security(app)


def register_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-*`` only from the number of proxies the settings name."""
    trusted = int(app.config.get("TRUSTED_PROXIES") or 0)
    if trusted > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted, x_port=trusted
        )


def register_blueprints(app: Flask) -> None:
    from .accounts.views import bp as accounts_bp
    from .api import bp as api_bp
    from .auditors.views import bp as auditors_bp
    from .campaigns.views import bp as campaigns_bp
    from .dossier.views import bp as dossier_bp
    from .evidence.views import bp as evidence_bp
    from .findings.calendar_views import bp as calendar_bp
    from .findings.cycle_views import bp as cycle_bp
    from .findings.exports import exports_bp
    from .findings.programme_views import bp as programme_bp
    from .findings.views import bp as findings_bp
    from .indicators.views import bp as indicators_bp
    from .journal.views import bp as journal_bp
    from .network.views import bp as network_bp
    from .notes.views import bp as notes_bp
    from .ops.views import bp as ops_bp
    from .readiness.views import bp as readiness_bp
    from .referentiel.views import bp as referentiel_bp
    from .school.views import bp as school_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(auditors_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(network_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(referentiel_bp, url_prefix="/referentiels")
    app.register_blueprint(school_bp)
    app.register_blueprint(evidence_bp, url_prefix="/preuves")
    app.register_blueprint(calendar_bp)
    app.register_blueprint(cycle_bp)
    app.register_blueprint(programme_bp)
    app.register_blueprint(findings_bp, url_prefix="/campagnes/<int:campaign_id>")
    app.register_blueprint(exports_bp, url_prefix="/campagnes/<int:campaign_id>/actions/export")
    app.register_blueprint(indicators_bp, url_prefix="/campagnes/<int:campaign_id>/indicateurs")
    app.register_blueprint(dossier_bp, url_prefix="/campagnes/<int:campaign_id>/dossier")
    app.register_blueprint(readiness_bp, url_prefix="/campagnes/<int:campaign_id>/preparation")
    app.register_blueprint(notes_bp, url_prefix="/campagnes/<int:campaign_id>/notes")
    app.register_blueprint(journal_bp, url_prefix="/journal")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # bearer tokens only, never cookies: see api/auth.py


def register_inputs(app: Flask) -> None:
    from .web.inputs import init_inputs

    init_inputs(app)


def register_headers(app: Flask) -> None:
    from .web.headers import init_headers

    init_headers(app)


def register_errorhandlers(app: Flask) -> None:
    from .domain import limits
    from .errors import init_errorhandlers

    limits.install()

    init_errorhandlers(app)


def register_template_helpers(app: Flask) -> None:
    from .templating import init_templating

    init_templating(app)


def register_commands(app: Flask) -> None:
    from .cli import init_commands

    init_commands(app)


def register_jobs(app: Flask) -> None:
    """Every kind of background job; an RQ worker calls ``perform_job`` with a kind's name."""
    from .dossier.builds import DOSSIER_BUILD
    from .jobs import init_jobs

    init_jobs(app, [DOSSIER_BUILD], entry_point=f"{__name__}.perform_job")

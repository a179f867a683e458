"""Error pages in French, and JSON errors ``{"error": "..."}`` for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .domain.errors import Conflict, DomainError, StorageFull
from .extensions import db
from .i18n import megabytes, wants_json
from .requestlog import request_id
from .storage.spool import DISK_FULL

MESSAGES = {
    400: _l("La requête est invalide."),
    401: _l("Authentification requise."),
    403: _l("Vous n’avez pas le droit d’accéder à cette page."),
    404: _l("Cette page n’existe pas ou plus."),
    405: _l("Cette méthode n’est pas permise ici."),
    409: _l("Conflit : la donnée a été modifiée entre-temps."),
    413: _l("Le fichier envoyé est trop volumineux."),
    507: _l("Stockage plein : rien n’a été enregistré. Prévenez l’administrateur."),
    500: _l(
        "Une erreur interne est survenue ; elle a été enregistrée. Vos données n’ont pas été "
        "modifiées."
    ),
}


def _respond(status: int, message: str) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=message), status
    return render_template("errors/error.html", status=status, message=message,
                           request_id=request_id()), status


def init_errorhandlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> ResponseReturnValue:
        return _respond(
            400,
            _(
                "Le formulaire a expiré ou n’a pas été reconnu (jeton de sécurité). Rechargez la "
                "page et renvoyez-le : rien n’a été enregistré."
            ),
        )

    @app.errorhandler(DomainError)
    def refused(error: DomainError) -> ResponseReturnValue:
        # A refusal no view caught (a value too long met at the commit's flush, say): its French
        # message, and nothing of the transaction kept.
        db.session.rollback()
        status = 409 if isinstance(error, Conflict) else getattr(error, "status", 400)
        return _respond(status, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        if status == 413:
            limit_mb = megabytes(app.config["MAX_CONTENT_LENGTH"])
            message = _(
                "Le fichier envoyé dépasse la taille maximale de %(limit)s Mo.", limit=limit_mb
            )
        elif error.description and not _is_default(error):
            message = error.description
        else:
            message = str(MESSAGES.get(status, error.name))
        return _respond(status, message)

    @app.errorhandler(OSError)
    def disk_error(error: OSError) -> ResponseReturnValue:
        # A disk full while an upload is parsed, before any view could say so.
        if error.errno in DISK_FULL:
            db.session.rollback()
            return _respond(StorageFull.status, str(StorageFull()))
        return internal_error(error)

    @app.errorhandler(Exception)
    def internal_error(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        app.logger.exception("Unhandled error (rid=%s)", request_id(), exc_info=error)
        return _respond(500, str(MESSAGES[500]))


def _is_default(error: HTTPException) -> bool:
    """True when the description is Werkzeug's English default rather than our own message."""
    return error.description == type(error).description

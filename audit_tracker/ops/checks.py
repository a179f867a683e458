"""Is this instance configured to run? Each check answers ok or a French sentence saying what
is wrong and which setting to change. ``flask check`` runs them all (``full``: it writes a probe
object to the storage and talks to the mail relay); ``/readyz`` runs the database, storage and
queue ones cheaply and shows only ok / ko."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import jobs
from ..storage import DOSSIERS, EVIDENCE, new_key, storage_for, upload_tmp_dir

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"
# Values seen in examples and tutorials: a key anyone can read is no secret.
PLACEHOLDER_KEYS = {"dev", "secret", "changeme", "change-me", "secret-key", "please-change-me"}
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Check:
    part: str  # "secret_key", "database", "storage", "queue", "mail"
    ok: bool
    message: str  # French: what is wrong and what to set; or what was checked


def secret_key(app: Flask) -> Check:
    key = app.config.get("SECRET_KEY")
    if not key:
        return Check("secret_key", False, "Clé secrète absente : réglez AUDIT_TRACKER_SECRET_KEY "
                     "(au moins 32 caractères aléatoires) ou lancez « flask setup », qui crée "
                     "instance/secret_key.")
    if str(key).strip().lower() in PLACEHOLDER_KEYS or len(str(key)) < MIN_SECRET_LENGTH:
        return Check("secret_key", False, "Clé secrète trop courte ou d’exemple : réglez "
                     f"AUDIT_TRACKER_SECRET_KEY avec au moins {MIN_SECRET_LENGTH} caractères "
                     "aléatoires (par exemple : python3 -c 'import secrets; "
                     "print(secrets.token_hex(32))').")
    return Check("secret_key", True, "Clé secrète réglée.")


@cache
def head_revisions() -> frozenset[str]:
    """The migrations' head(s), read once from the repository's scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database(session: Session, *, migrated: bool = True) -> Check:
    """Reachable (``SELECT 1``) and, when ``migrated``, at the migrations' head."""
    from alembic.runtime.migration import MigrationContext

    try:
        connection = session.connection()
        connection.execute(text("SELECT 1"))
        current = (frozenset(MigrationContext.configure(connection).get_current_heads())
                   if migrated else head_revisions())
    except Exception as error:  # noqa: BLE001 - any driver error means "unreachable"
        session.rollback()
        return Check("database", False, "Base de données injoignable : vérifiez "
                     f"AUDIT_TRACKER_DATABASE_URL ({type(error).__name__}).")
    finally:
        session.rollback()
    if current != head_revisions():
        at = ", ".join(sorted(current)) or "aucune"
        return Check("database", False, f"Base de données non migrée (révision {at}, attendue "
                     f"{', '.join(sorted(head_revisions()))}) : lancez « flask db upgrade » ou "
                     "« flask setup ».")
    return Check("database", True, "Base de données joignable et migrée.")


def storage(app: Flask, *, write: bool = True) -> Check:
    """Each namespace's storage answers; with ``write``, a probe object is stored, found and
    deleted again (local disk or S3), and the upload spool folder is writable."""
    backend = app.config.get("EVIDENCE_STORAGE")
    try:
        spool = upload_tmp_dir(app)
        if not os.access(spool, os.W_OK):
            raise PermissionError(str(spool))
        for namespace in (EVIDENCE, DOSSIERS):
            store = storage_for(app, namespace)
            if write:
                probe = spool / f"probe-{new_key()}"
                probe.write_bytes(b"audit_tracker flask check\n")
                key = f"check-{new_key()}"
                try:
                    store.put(key, probe)
                    if not store.exists(key):
                        raise OSError("probe object not found after writing it")
                finally:
                    probe.unlink(missing_ok=True)
                    store.delete(key)
            else:
                _cheap_probe(store)
    except Exception as error:  # noqa: BLE001 - disk, S3 or settings: all say "not writable"
        hint = ("AUDIT_TRACKER_S3_BUCKET, …_S3_ENDPOINT_URL, …_S3_ACCESS_KEY, …_S3_SECRET_KEY"
                if backend == "s3" else
                "AUDIT_TRACKER_EVIDENCE_DIR, …_DOSSIER_DIR, …_UPLOAD_TMP_DIR et leurs droits")
        return Check("storage", False, f"Stockage des fichiers ({backend}) inutilisable : "
                     f"vérifiez {hint} ({type(error).__name__}).")
    return Check("storage", True, f"Stockage des fichiers ({backend}) accessible en écriture.")


def _cheap_probe(store: Any) -> None:
    """Without writing: the local folder is writable, or the bucket answers."""
    root = getattr(store, "root", None)
    if root is not None:
        Path(root).mkdir(parents=True, exist_ok=True)
        if not os.access(root, os.W_OK):
            raise PermissionError(str(root))
        return
    store.client.head_bucket(Bucket=store.bucket)


def rq_kinds(app: Flask) -> list[Any]:
    return [kind for kind in jobs.registry(app).kinds.values()
            if jobs.settings(app, kind).queue == jobs.RQ]


def queue(app: Flask) -> Check | None:
    """Redis answers, when some job runs on RQ; None when every job runs in-process."""
    kinds = rq_kinds(app)
    if not kinds:
        return None
    try:
        jobs.redis_connection(app, kinds[0]).ping()
    except Exception as error:  # noqa: BLE001 - missing package, bad URL, refused connection
        return Check("queue", False, "File RQ injoignable : vérifiez AUDIT_TRACKER_REDIS_URL et "
                     f"que Redis tourne ({type(error).__name__}).")
    return Check("queue", True, "File RQ (Redis) joignable.")


def page_cache(app: Flask) -> Check | None:
    """The dashboard's shared cache answers, when it is Redis; None when it is per process.
    A silent one serves every page computed (``web.page_cache``): slow, not wrong."""
    from ..web.page_cache import EXTENSION, Tiered

    backend = app.extensions.get(EXTENSION)
    if not isinstance(backend, Tiered):
        return None
    try:
        backend.far.set("check", "ok", 10)
        answered = backend.far.get("check") == "ok"
    except Exception as error:  # noqa: BLE001 - bad URL, refused connection, timeout
        answered, reason = False, type(error).__name__
    else:
        reason = "réponse inattendue"
    if not answered:
        return Check("page_cache", False, "Cache des pages (Redis) injoignable : les tableaux de "
                     "bord seront calculés à chaque visite ; vérifiez AUDIT_TRACKER_REDIS_URL "
                     f"({reason}).")
    return Check("page_cache", True, "Cache des pages (Redis) joignable.")


def mail(app: Flask) -> Check:
    """The sender is a real address, links point somewhere real, and the relay answers."""
    from ..findings.reminders import ReminderError, check_connection

    config = app.config
    if "@localhost" in str(config.get("MAIL_FROM") or "@localhost"):
        return Check("mail", False, "Expéditeur des e-mails non réglé : réglez "
                     "AUDIT_TRACKER_MAIL_FROM (par exemple « Cap Label "
                     "<no-reply@votre-ecole.fr> »).")
    base = str(config.get("BASE_URL") or "")
    if not base or "127.0.0.1" in base or "localhost" in base:
        return Check("mail", False, "Adresse publique non réglée : les liens des e-mails "
                     "mèneraient à la machine du lecteur ; réglez AUDIT_TRACKER_BASE_URL.")
    try:
        check_connection(config)
    except ReminderError as error:
        return Check("mail", False, f"Envoi des e-mails impossible : {error} Vérifiez "
                     "AUDIT_TRACKER_MAIL_SERVER, …_MAIL_PORT et leurs réglages.")
    return Check("mail", True, f"Serveur SMTP {config['MAIL_SERVER']}:{config['MAIL_PORT']} "
                 "joignable.")


def everything(app: Flask, session: Session) -> list[Check]:
    """What ``flask check`` reports, in that order."""
    found = [secret_key(app), database(session), storage(app, write=True)]
    found += [check for check in (queue(app), page_cache(app)) if check is not None]
    found.append(mail(app))
    return found


def readiness(app: Flask, session: Session) -> dict[str, bool]:
    """What ``/readyz`` shows: ok or not per part, nothing else."""
    parts = {
        "database": database(session, migrated=False).ok,
        "storage": storage(app, write=False).ok,
    }
    queue_check = queue(app)
    if queue_check is not None:
        parts["queue"] = queue_check.ok
    return parts

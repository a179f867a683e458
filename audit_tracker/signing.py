"""Seals: HMAC-SHA256 over a record's canonical content, with a key kept outside the database.

A SHA-256 stored beside what it hashes proves nothing to someone who can write both; a seal
made with a key the database does not hold does. The key is ``AUDIT_TRACKER_SIGNING_KEY``
(keep it with the secret key, not in the database or its backups). Without it a key is derived
from the secret key, with a warning: it still lives outside the database, but changing the
secret key then breaks every seal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import current_app

_DERIVED = "signing:derived-key"


def signing_key() -> bytes:
    app = current_app
    configured = app.config.get("SIGNING_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    derived = app.extensions.get(_DERIVED)
    if derived is None:
        app.logger.warning(
            "AUDIT_TRACKER_SIGNING_KEY is not set: seals use a key derived from the secret key; "
            "set a signing key of its own so that a new secret key keeps the seals valid.")
        derived = hmac.new(str(app.config["SECRET_KEY"]).encode(),
                           b"audit_tracker seal key v1", hashlib.sha256).digest()
        app.extensions[_DERIVED] = derived
    return derived


def canonical(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def seal(payload: Any, key: bytes | None = None) -> str:
    return hmac.new(key or signing_key(), canonical(payload), hashlib.sha256).hexdigest()


def seal_matches(payload: Any, stored: str | None, key: bytes | None = None) -> bool:
    return bool(stored) and hmac.compare_digest(seal(payload, key), str(stored))

"""Where files live: one small interface, a local-disk and an S3-compatible backend, one namespace
per kind of file (proofs, generated dossiers, and later notes and backups).

Keys are opaque (random, no user input in them); the original file name stays in the database.
Backends receive a finished local file (already hashed and checked) and move or stream it in.

Every namespace uses the backend chosen by ``EVIDENCE_STORAGE`` (``local`` or ``s3``: the setting
kept its first name), in a place of its own: a folder of the instance on local disk, a prefix of
the same bucket on S3. The places are those of the first versions, so an existing instance finds
its files where it left them: ``instance/evidence`` and ``evidence/`` for the proofs,
``instance/dossiers`` and ``dossiers/`` for the dossiers, each movable by its setting.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask import Flask

CHUNK = 1024 * 1024


class StorageError(Exception):
    """The backend could not store, read or delete an object."""


class Storage(Protocol):
    def put(self, key: str, source: Path) -> None:
        """Store the local file ``source`` under ``key``; ``source`` may be moved away."""

    def open_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """Read the object back in chunks (never whole in memory)."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    def keys(self) -> Iterator[str]:
        """Every stored key, for the integrity check."""


def new_key() -> str:
    """Opaque and unguessable: nothing of the user's file name or school reaches the storage."""
    return secrets.token_hex(20)


@dataclass(frozen=True)
class Namespace:
    """One kind of file: its folder on local disk and its prefix in the bucket, each with the
    setting that moves it (a namespace never sees another's keys)."""

    name: str
    folder_setting: str  # a local folder instead of instance/<name>
    prefix_setting: str  # a bucket prefix instead of <name>/


EVIDENCE = Namespace("evidence", "EVIDENCE_DIR", "S3_PREFIX")
DOSSIERS = Namespace("dossiers", "DOSSIER_DIR", "DOSSIER_S3_PREFIX")
NOTES = Namespace("notes", "NOTES_DIR", "NOTES_S3_PREFIX")  # issued progress notes' PDF, DOCX
#: Every namespace, for what must see all stored files (the backup); a new one joins here.
NAMESPACES = (EVIDENCE, DOSSIERS, NOTES)


def storage_for(app: Flask, namespace: Namespace) -> Storage:
    """The application's storage for ``namespace``, built once from its configuration."""
    cache_key = f"storage:{namespace.name}"
    storage: Storage | None = app.extensions.get(cache_key)
    if storage is None:
        storage = _build(app, namespace)
        app.extensions[cache_key] = storage
    return storage


def _build(app: Flask, namespace: Namespace) -> Storage:
    config = app.config
    backend = config["EVIDENCE_STORAGE"]
    if backend == "s3":
        from .s3 import S3Storage

        prefix = config.get(namespace.prefix_setting)
        if prefix is None or (not prefix and namespace is not EVIDENCE):
            # Only the proofs may take the whole bucket (they had it first): any other kind of
            # file keeps a prefix of its own, or ``flask evidence verify`` would see orphans.
            prefix = f"{namespace.name}/"
        return S3Storage(
            config["S3_BUCKET"],
            prefix=prefix,
            endpoint_url=config["S3_ENDPOINT_URL"],
            region_name=config["S3_REGION"],
            access_key=config["S3_ACCESS_KEY"],
            secret_key=config["S3_SECRET_KEY"],
        )
    if backend != "local":
        raise ValueError(f"unknown EVIDENCE_STORAGE {backend!r}")
    from .local import LocalStorage

    return LocalStorage(
        config.get(namespace.folder_setting) or Path(app.instance_path) / namespace.name
    )


def upload_tmp_dir(app: Flask) -> Path:
    """Spool folder for uploads and builds: on the same disk as local storage, so storing is a
    rename."""
    path = Path(app.config["UPLOAD_TMP_DIR"] or Path(app.instance_path) / "tmp")
    path.mkdir(parents=True, exist_ok=True)
    return path

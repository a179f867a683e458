"""Where evidence files live: one small interface, a local-disk and an S3-compatible backend.

Keys are opaque (random, no user input in them); the original file name stays in the database.
Backends receive a finished local file (already hashed and checked) and move or stream it in.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
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

    def exists(self, key: str) -> bool: ...

    def keys(self) -> Iterator[str]:
        """Every stored key, for the integrity check."""


class LocalStorage:
    """Files under one root folder, two levels of fan-out so no folder grows too large."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise StorageError(f"invalid storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        moved = False
        try:
            try:
                os.replace(source, partial)  # same file system: a rename, no copy
                moved = True
            except OSError:
                shutil.copyfile(source, partial)
            os.replace(partial, target)  # the object appears whole or not at all
        except OSError as error:
            if moved:  # give the caller its file back, so it can retry or clean up
                with contextlib.suppress(OSError):
                    os.replace(partial, source)
            partial.unlink(missing_ok=True)
            raise StorageError(str(error)) from error

    def open_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except OSError as error:
            raise StorageError(str(error)) from error
        with handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> Iterator[str]:
        for path in self.root.glob("*/*/*"):
            if path.is_file() and not path.name.endswith(".part"):
                yield path.name


def storage_for(app: Flask) -> Storage:
    """The application's storage backend, built once from its configuration."""
    storage = app.extensions.get("evidence_storage")
    if storage is None:
        storage = _build(app)
        app.extensions["evidence_storage"] = storage
    return storage


def _build(app: Flask) -> Storage:
    config = app.config
    if config["EVIDENCE_STORAGE"] == "s3":
        from .s3 import S3Storage

        return S3Storage(
            config["S3_BUCKET"],
            prefix=config["S3_PREFIX"],
            endpoint_url=config["S3_ENDPOINT_URL"],
            region_name=config["S3_REGION"],
            access_key=config["S3_ACCESS_KEY"],
            secret_key=config["S3_SECRET_KEY"],
        )
    if config["EVIDENCE_STORAGE"] != "local":
        raise ValueError(f"unknown EVIDENCE_STORAGE {config['EVIDENCE_STORAGE']!r}")
    return LocalStorage(config["EVIDENCE_DIR"] or Path(app.instance_path) / "evidence")


def upload_tmp_dir(app: Flask) -> Path:
    """Spool folder for uploads: on the same disk as local storage, so storing is a rename."""
    path = Path(app.config["UPLOAD_TMP_DIR"] or Path(app.instance_path) / "tmp")
    path.mkdir(parents=True, exist_ok=True)
    return path

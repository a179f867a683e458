"""Files on local disk: the default backend, nothing to install."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from . import CHUNK, StorageError

#: Stored proofs and dossiers hold learners' data: readable by the application's account only,
#: whatever the umask of the shell that started it.
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class LocalStorage:
    """Files under one root folder, two levels of fan-out so no folder grows too large."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        with contextlib.suppress(OSError):  # a root we do not own stays as its owner set it
            self.root.chmod(FOLDER_MODE)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise StorageError(f"invalid storage key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, source: Path) -> None:
        target = self._path(key)
        for folder in (target.parent.parent, target.parent):
            folder.mkdir(exist_ok=True, mode=FOLDER_MODE)
        partial = target.with_name(target.name + ".part")
        moved = False
        try:
            try:
                os.replace(source, partial)  # same file system: a rename, no copy
                moved = True
            except OSError:
                shutil.copyfile(source, partial)
            os.chmod(partial, FILE_MODE)
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

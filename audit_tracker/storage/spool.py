"""An upload written once: the multipart parser streams a file part straight into the product's
spool folder (``upload_tmp_dir``) through :class:`SpooledPart`, which hashes the bytes as they
are written. Receiving the proof then reuses that file and its digest instead of copying it
from a Werkzeug temporary file (``uploads.StreamingRequest`` plugs it into Flask)."""

from __future__ import annotations

import errno
import hashlib
import io
import tempfile
from pathlib import Path
from typing import Any

from .digest import Digest

#: A full disk, or the user's quota on it.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class SpooledPart(io.FileIO):
    """A file in the spool folder, SHA-256 computed while it is written."""

    def __init__(self, tmp_dir: Path) -> None:
        fd, raw_path = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        super().__init__(fd, "w+b", closefd=True)
        self.path = Path(raw_path)
        self._hash = hashlib.sha256()
        self._size = 0

    def write(self, data: Any, /) -> int:
        try:
            written = super().write(data)
        except OSError as error:
            # Met while the request is parsed, before any view: leave nothing behind. The error
            # goes on as an OSError (a ValueError would be swallowed by the form parser, leaving
            # an empty form); errors.py answers it « stockage plein ».
            if error.errno in DISK_FULL:
                self.discard()
            raise
        if written:
            self._hash.update(memoryview(data)[:written])
            self._size += written
        return written or 0

    @property
    def digest(self) -> Digest:
        """SHA-256 and size of what was written (the whole part once parsing ended)."""
        return Digest(self._hash.hexdigest(), self._size)

    def discard(self) -> None:
        """Close and remove the file, unless it was moved into the storage already."""
        self.close()
        self.path.unlink(missing_ok=True)

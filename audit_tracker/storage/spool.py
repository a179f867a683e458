"""An upload written once: the multipart parser streams a file part straight into the product's
spool folder (``upload_tmp_dir``) through :class:`SpooledPart`, which hashes the bytes as they
are written. Receiving the proof then reuses that file and its digest instead of copying it
from a Werkzeug temporary file (``uploads.StreamingRequest`` plugs it into Flask). A file sent as
the whole request body goes the same way through :func:`spool_stream`."""

from __future__ import annotations

import errno
import hashlib
import io
import tempfile
from pathlib import Path
from typing import IO, Any

from . import CHUNK
from .digest import Digest

#: A full disk, or the user's quota on it.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})

#: What is hashed and written at a time: a piece still in the processor's cache when it is
#: written after being hashed (the multipart parser's own size). Pieces of 1 MiB went through
#: memory twice: a 500 MB body took a median 1.1-1.3 s against 0.7-0.8 s (issue 17).
PIECE = 64 * 1024


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


def spool_stream(stream: IO[bytes], tmp_dir: Path) -> SpooledPart:
    """All of ``stream`` written once into the spool folder, hashed on the way; nothing is left
    behind when reading fails (a client gone, a full disk).

    The server is asked for 1 MiB at a time (a buffered reader over Werkzeug's raw stream, as
    ``uploads.LargeReadsParser`` does for forms), hashed and written 64 KiB at a time."""
    part = SpooledPart(tmp_dir)
    try:
        reader = io.BufferedReader(stream, CHUNK) if isinstance(stream, io.RawIOBase) else stream
        while piece := reader.read(PIECE):
            part.write(piece)
    except BaseException:
        part.discard()
        raise
    return part

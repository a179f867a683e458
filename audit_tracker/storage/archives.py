"""The zip-bomb guard every reader of a user's ZIP-based file goes through (proof uploads, the
spreadsheets of the indicator and référentiel imports).

Judged from the central directory alone, before any member is decompressed: the number of
entries and the directory's size (read from the end record, before ``zipfile`` loads the
directory), then the declared uncompressed sizes and each member's compression ratio. Declared
sizes can lie upward but not downward: ``zipfile`` never returns more than a member declares.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO

from flask_babel import gettext as _

from ..domain.errors import DomainError

__all__ = ["MAX_ENTRIES", "MAX_TOTAL", "SuspiciousArchive", "check_members", "open_zip"]

MAX_TOTAL = 200 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024  # small parts (styles, repeated XML) legitimately compress > 100×
MAX_ENTRIES = 10_000
# zipfile loads the whole central directory in one read; 10,000 honest entries fit well within.
MAX_DIRECTORY = 4 * 1024 * 1024


class SuspiciousArchive(DomainError):
    """A zip refused as a probable bomb; ``reason`` is French, in lower case, to follow a name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def open_zip(handle: BinaryIO, size: int, *, max_total: int = MAX_TOTAL) -> zipfile.ZipFile:
    """The archive, opened once its directory passed the guard; SuspiciousArchive when not.

    zipfile's own errors (``BadZipFile``, ``OSError``...) reach the caller unchanged: a damaged
    file is the caller's message, not a bomb.
    """
    directory = _directory_size(handle, size)
    if directory is not None:
        entries, directory_bytes = directory
        if entries > MAX_ENTRIES or directory_bytes > MAX_DIRECTORY:
            raise _too_many()
    handle.seek(0)
    archive = zipfile.ZipFile(handle)
    try:
        check_members(archive.infolist(), max_total=max_total)
    except BaseException:
        archive.close()
        raise
    return archive


def check_members(members: list[zipfile.ZipInfo], *, max_total: int = MAX_TOTAL) -> None:
    """Refuse on the declared sizes only: nothing is decompressed to decide."""
    if len(members) > MAX_ENTRIES:
        raise _too_many()
    if sum(member.file_size for member in members) > max_total:
        raise SuspiciousArchive(_("archive suspecte (taille décompressée excessive) : refusée."))
    for member in members:
        ratio_limit = MAX_RATIO * max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and member.file_size > ratio_limit:
            raise SuspiciousArchive(
                _("archive suspecte (taux de compression anormal) : refusée.")
            )


def _too_many() -> SuspiciousArchive:
    return SuspiciousArchive(_("archive suspecte (trop de fichiers) : refusée."))


def _directory_size(handle: BinaryIO, size: int) -> tuple[int, int] | None:
    """(entry count, central directory bytes) from the end record, before zipfile loads it."""
    tail_size = min(size, 22 + 0xFFFF)  # end record plus the longest possible comment
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None  # zipfile will reject it with its own error
    entries, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
    if entries != 0xFFFF and directory_bytes != 0xFFFFFFFF:
        return entries, directory_bytes
    # Zip64: the real counts live in a record that a locator just before the end record points to.
    locator = tail[at - 20 : at] if at >= 20 else b""
    if not locator.startswith(b"PK\x06\x07"):
        return None
    (record_offset,) = struct.unpack_from("<Q", locator, 8)
    handle.seek(record_offset)
    record = handle.read(56)
    if not record.startswith(b"PK\x06\x06") or len(record) < 48:
        return None
    entries, directory_bytes = struct.unpack_from("<QQ", record, 32)
    return entries, directory_bytes

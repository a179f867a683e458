"""SHA-256 and size of a file read in chunks: the one way the application fingerprints what it
receives, stores and sends, without ever holding a whole file in memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import CHUNK


@dataclass(frozen=True)
class Digest:
    sha256: str  # hexadecimal
    size: int  # bytes


def digest_chunks(chunks: Iterable[bytes], copy_to: BinaryIO | None = None) -> Digest:
    """Hash ``chunks`` as they come, writing each one to ``copy_to`` too when given."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return Digest(digest.hexdigest(), size)


def file_chunks(path: Path, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """A local file, chunk after chunk."""
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def digest_file(path: Path) -> Digest:
    """SHA-256 and size of a local file."""
    return digest_chunks(file_chunks(path))

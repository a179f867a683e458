"""Python's cyclic garbage collector held off while a large PDF is laid out.

Laying out a big document allocates hundreds of thousands of small objects (paragraph
fragments, lines, table cells) that live until the document is written: the collector scans
them again and again, finds almost nothing to free (reference counting frees the rest), and was
a sixth of a 300-pièce dossier's layout. It is paused for the layout only; the assembly, whose
pypdf readers hold reference cycles that must be freed source by source to keep memory flat,
runs with it on. Several builds may overlap in one process (the jobs' thread pool): the
collector comes back when the last one ends, and only if it was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (nor in other threads meanwhile)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()

"""Where a form sends the user back: a path of this site, never another host."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path of this site, else None.

    Browsers read ``/\\host`` like ``//host``, so a backslash anywhere is refused too."""
    if (
        target
        and len(target) <= 2000
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return None

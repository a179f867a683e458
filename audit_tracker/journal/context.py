"""Who acts, and from where: set by the shell (a request's user, an API token, a command).

Services never read the request: the permission gate (``accounts.security``) puts the actor in
``flask.g`` once it knows the user; a command or a job that sets nothing acts as « command ».
``use_actor`` sets one for a block of code outside a request (tests, scripts).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import g, has_app_context

PAGE = "page"
API = "api"
COMMAND = "command"

_G_KEY = "journal_actor"


@dataclass(frozen=True)
class Actor:
    origin: str = COMMAND
    user_id: int | None = None
    email: str = ""
    school_id: int | None = None
    token_id: int | None = None
    address: str = ""


_override: ContextVar[Actor | None] = ContextVar("journal_actor", default=None)


def set_request_actor(actor: Actor) -> None:
    """The shell's call, once per request: the actor of everything journaled during it."""
    setattr(g, _G_KEY, actor)


def current_actor() -> Actor:
    override = _override.get()
    if override is not None:
        return override
    if has_app_context():
        actor = g.get(_G_KEY)
        if isinstance(actor, Actor):
            return actor
    return Actor()


@contextmanager
def use_actor(actor: Actor) -> Iterator[Actor]:
    token = _override.set(actor)
    try:
        yield actor
    finally:
        _override.reset(token)

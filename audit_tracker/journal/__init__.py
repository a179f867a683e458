"""The journal (« Journal »): who changed what, from where, hash-chained and append-only.

- ``context``: who acts and from where (page, API and its token, command), set by the shell;
- ``chain``: canonical content, hashing, appending under the head's lock, verifying;
- ``hooks``: SQLAlchemy session events journaling every flushed change in its own transaction;
- ``service``: explicit events (logins, downloads, dossier builds) and the pages' queries.
"""

from .context import Actor, current_actor, use_actor
from .service import record_event

__all__ = ["Actor", "current_actor", "record_event", "use_actor"]

"""MemoryStore: the durable store's code on an in-memory SQLite database (tests, dry runs).

Nothing touches the disk and nothing outlives the object, yet every rule of the journal, holds,
caps and jobs applies exactly as in the file and PostgreSQL stores, because it is the same code.
"""

from __future__ import annotations

from engine.clock import Clock
from engine.store.sqlite import SqliteStore


class MemoryStore(SqliteStore):
    """A :class:`~engine.store.sqlite.SqliteStore` on ``:memory:``."""

    def __init__(self, *, clock: Clock | None = None, heartbeat: bool = False) -> None:
        super().__init__(":memory:", clock=clock, heartbeat=heartbeat)

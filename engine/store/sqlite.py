"""SqliteStore: the durable store in one SQLite file (WAL), the default, with no setup at all.

Every commit is fsynced (``synchronous=FULL``) unless ``sync="normal"``: see
:mod:`engine.store.backend` for what each setting survives. Several processes may share one
file on one machine: their writers take turns (``BEGIN IMMEDIATE``), caps are counted in the
same transaction that reserves a hold, and leases tell live processes from dead ones.
"""

from __future__ import annotations

from pathlib import Path

from engine.clock import Clock
from engine.store.backend import SqliteBackend
from engine.store.crypto import DataKey, Keyring
from engine.store.journal import LEASE, DurableStore

#: The database file inside the data folder.
FILE_NAME = "leadpost.sqlite3"
DEFAULT_PATH = f".leadpost/{FILE_NAME}"


class SqliteStore(DurableStore):
    """The durable store in the SQLite file ``path`` (created, with its tables, on first use).

    Without a ``keyring`` the lead documents are sealed with a key made for this object only:
    right for tests and throw-away runs, unreadable by any later process."""

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        keyring: Keyring | None = None,
        clock: Clock | None = None,
        sync: str = "full",
        lease: float = LEASE,
        node: str | None = None,
        heartbeat: bool = True,
    ) -> None:
        self.path = Path(path)
        super().__init__(
            SqliteBackend(path, sync=sync),
            keyring or Keyring([DataKey.generate()], ephemeral=True),
            clock=clock,
            lease=lease,
            node=node,
            heartbeat=heartbeat,
        )

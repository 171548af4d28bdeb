"""PostgresStore: the durable store on PostgreSQL, shared by every node of a deployment.

Nodes coordinate only through the database: reservations lock the buyer's row
(``SELECT … FOR UPDATE``) while counting its holds, workers claim due jobs and orphaned leads
with ``FOR UPDATE SKIP LOCKED``, and a node whose lease ran out is recovered by the others.
Connections come from a psycopg-pool pool that replaces the ones the server dropped; the
group-commit writer runs a batch again after reconnecting (every write is idempotent).
"""

from __future__ import annotations

from engine.clock import Clock
from engine.store.backend import PostgresBackend
from engine.store.crypto import DataKey, Keyring
from engine.store.journal import LEASE, DurableStore


class PostgresStore(DurableStore):
    """The durable store at ``url`` (``postgresql://…``) in ``schema`` (created if missing)."""

    def __init__(
        self,
        url: str,
        *,
        schema: str = "public",
        keyring: Keyring | None = None,
        clock: Clock | None = None,
        lease: float = LEASE,
        node: str | None = None,
        heartbeat: bool = True,
        application: str = "leadpost",
    ) -> None:
        self.url = url
        super().__init__(
            PostgresBackend(url, schema=schema, application=application),
            keyring or Keyring([DataKey.generate()], ephemeral=True),
            clock=clock,
            lease=lease,
            node=node,
            heartbeat=heartbeat,
        )

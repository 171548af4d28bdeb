"""Stores: the system of record — leads (sealed), the delivery journal, holds, retry jobs.

For a long-lived process (``leadpost serve``, ``leadpost worker``) the API is:

- ``store, notice = open_store(os.environ)``: SQLite in ``LEADPOST_DATA`` or PostgreSQL at
  ``LEADPOST_DATABASE_URL``, migrated, with its keyring; one per process, shared by every lead
  in flight (its writer thread commits everybody's writes in groups). ``store.close()`` at exit.
- ``Runtime(journal=store)``: the runtime awaits ``store.sending(…)`` (the post's intent,
  committed) right before a post leaves and queues ``store.answered(…)`` when it is classified.
- ``Router(runtime, store, clock, env=…)``: ``await router.route(campaign, lead)`` seals and
  commits the lead, reserves each buyer's hold (caps decided by the store), ends the lead with
  ``store.finish`` (disposition, sale, retry job in one transaction) and returns the result
  only once it is committed.
- ``Worker(router, campaigns)`` (:mod:`engine.auction.worker`): ``await worker.run()`` claims
  due retry jobs and leads left behind by dead nodes, forever; ``await worker.run_once()`` does
  one round. A service starts ``worker.run()`` in its task group beside its HTTP server.
- Reading: :mod:`engine.store.audit` (history, stats, returns); upkeep:
  :mod:`engine.store.upkeep` (archive, purge, key rotation).

Ownership is the fence between nodes: a lead is owned by the node routing it (``leads.owner``);
a node whose lease ran out only looks dead (a stalled disk, a paused VM), so ``sending`` writes
the intent and ``finish`` the result only while this node still owns the lead, and otherwise
raise :class:`ClaimLost` — nothing is sent, and the router answers ``unknown`` ("another node
took it over") while the node that claimed the lead finishes it.

Every async method awaits its commit without blocking the event loop; none of them must be
called from another thread's event loop than the one that made the runtime.

Why not procrastinate for the retry queue: it keeps its own jobs table and worker protocol on
PostgreSQL only, while our queue must live in the same transaction as the journal row and the
lead's disposition (a retry job, a hold and a result commit together or not at all) and must run
on SQLite too. A job here is one row of the journal's database claimed with ``FOR UPDATE SKIP
LOCKED`` under the node's lease: the part of procrastinate we would use is ~30 lines of SQL.
"""

from engine.store.base import Store
from engine.store.journal import ClaimLost, DurableStore, Job, LeadState
from engine.store.memory import MemoryStore
from engine.store.settings import open_store
from engine.store.sqlite import DEFAULT_PATH, SqliteStore

__all__ = [
    "DEFAULT_PATH",
    "ClaimLost",
    "DurableStore",
    "Job",
    "LeadState",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "open_store",
]

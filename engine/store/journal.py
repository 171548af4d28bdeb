"""DurableStore: the system of record — journal, holds, retry jobs and leases over one backend.

The runtime writes each post's intent before its first byte leaves (:meth:`sending`, awaited,
committed) and its outcome when classified (:meth:`answered`, queued); pings and checks are
queued rows that never wait on the disk. The router reserves a buyer's hold on the lead before
posting (:meth:`reserve`: caps decided here, atomically, for every process sharing the
database) and ends the lead with :meth:`finish` (disposition, result, holds and retry job in one
transaction). Workers claim due jobs and leads left behind by dead nodes (:meth:`claim_jobs`,
:meth:`claim_orphans`); a node is alive while its lease (renewed every ``lease / 3`` seconds by a
heartbeat thread) has not run out.

All writes go through one :class:`~engine.store.writer.Writer` (group commit). The async
methods await their commit without blocking the event loop; the sync methods of the older
:class:`~engine.store.base.Store` protocol stay for tools and tests.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.clock import Clock, SystemClock
from engine.runtime.outcome import Outcome
from engine.store import ops
from engine.store.backend import Backend, Tx, upgrade
from engine.store.base import Ledger, epoch, to_json
from engine.store.crypto import Keyring
from engine.store.ops import JobSpec, Limit
from engine.store.writer import Op, Writer

#: What a sealed suppression-list value is bound to (AES-GCM associated data).
SUPPRESSED = "suppressed"
#: Seconds a node stays alive without renewing its lease.
LEASE = 30.0
#: How far back the in-memory ledger (the caps' read cache) reaches.
LEDGER_DAYS = 40


class ClaimLost(Exception):
    """This node no longer owns the lead: its lease ran out (the node was slow, not dead) and
    another node took the lead over. The work in hand stops; nothing is sent or written."""

    def __init__(self, lead_id: str, node: str) -> None:
        super().__init__(
            f"lead {lead_id} was taken over by another leadpost process: this one ({node}) had"
            " stalled for longer than its lease (LEADPOST_LEASE seconds)"
        )
        self.lead_id = lead_id


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed retry job."""

    lead_id: str
    buyer: str
    stage: str
    attempt: int
    due_at: float
    reason: str
    prior: Mapping[str, Any]
    taken_over: bool
    """True when a node that died had claimed it before (its attempt may be dangling)."""


@dataclass(frozen=True, slots=True)
class AttemptRow:
    buyer: str
    stage: str
    attempt: int
    state: str
    kind: str | None
    idem_key: str | None


@dataclass(frozen=True, slots=True)
class LeadState:
    """What the journal says about one lead (for recovery and redelivery)."""

    lead_id: str
    campaign: str
    received_at: float
    disposition: str | None
    attempts: tuple[AttemptRow, ...]
    holds: tuple[tuple[str, str, str | None], ...]
    """(buyer, state, price) of each hold that is not released."""
    job: tuple[str, int] | None
    """(buyer, next attempt) of the lead's retry job."""

    def posted(self) -> list[str]:
        """Buyers a post was sent (or meant to be sent) to, in order."""
        return list(dict.fromkeys(a.buyer for a in self.attempts if a.stage == "post"))


class DurableStore:
    """See the module docstring. Use :func:`engine.store.settings.open_store` to make one."""

    def __init__(
        self,
        backend: Backend,
        keyring: Keyring,
        *,
        clock: Clock | None = None,
        lease: float = LEASE,
        node: str | None = None,
        heartbeat: bool = True,
    ) -> None:
        self.backend = backend
        self.keyring = keyring
        self.clock: Clock = clock or SystemClock()
        self.lease = lease
        self.node = node or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        upgrade(backend)
        self.writer = Writer(backend)
        self._pings_lock = threading.Lock()
        self._pings: list[tuple[str, Outcome, float, str]] | None = None
        """Ping rows waiting for the queued operation that writes them (see ``answered``)."""
        self._seal_clear_suppressions()
        self._ledger = self._load_ledger()
        self._closed = threading.Event()
        self._started = self._now()
        self.beat()
        self._beater: threading.Thread | None = None
        if heartbeat:
            self._beater = threading.Thread(target=self._beat_loop, daemon=True, name="lp-beat")
            self._beater.start()

    # -- lifecycle ---------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.epoch()

    def beat(self) -> None:
        """Renew this node's lease now (committed before returning)."""
        until = self._now() + self.lease
        self.writer.call(
            ops.heartbeat(self.node, until, self._now(), socket.gethostname(), os.getpid())
        )

    def _beat_loop(self) -> None:
        while not self._closed.wait(self.lease / 3):
            until = self._now() + self.lease
            op = ops.heartbeat(self.node, until, self._started, socket.gethostname(), os.getpid())
            self.writer.submit(op, wait=False)

    def close(self) -> None:
        """Commit what is queued, end this node's lease and release the database."""
        if self._closed.is_set():
            return
        self._closed.set()
        self.writer.submit(ops.heartbeat(self.node, 0.0, self._started, "", 0), wait=False)
        self.writer.close()
        self.backend.close()

    def __enter__(self) -> DurableStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load_ledger(self) -> Ledger:
        floor = self._now() - LEDGER_DAYS * 86400.0
        ledger = Ledger(LEDGER_DAYS * 86400.0, floor=floor)
        rows = self.backend.read(
            "SELECT buyer, price, at FROM holds WHERE state = 'sold' AND at >= ? ORDER BY at",
            (floor,),
        )
        for buyer, price, at in rows:
            ledger.add_sale(buyer, None if price is None else Decimal(price), float(at))
        for buyer, accepted, at in self.backend.read(
            "SELECT buyer, accepted, at FROM posts WHERE at >= ? ORDER BY at", (floor,)
        ):
            ledger.add_post(buyer, bool(accepted), float(at))
        return ledger

    async def _commit(self, op: Op) -> Any:
        return await self.writer.submit_async(op)

    # -- the journal (async, for the runtime and the router) ---------------------------------

    async def open_lead(
        self,
        lead_id: str,
        campaign: str,
        lead: Mapping[str, Any],
        *,
        wait: bool = True,
        source: str | None = None,
    ) -> None:
        """Seal and save the lead, owned by this node; committed before returning, or with
        ``wait=False`` queued: the next awaited write of this store (the first post's intent)
        commits it too, since the writer commits in order. ``source``: who sent it (an
        authenticated lead source), else the lead's own ``source_id``."""
        op = self._open_op(lead_id, campaign, lead, source)
        if wait:
            await self._commit(op)
        else:
            self.writer.submit(op, wait=False)

    def _open_op(
        self, lead_id: str, campaign: str, lead: Mapping[str, Any], source: str | None = None
    ) -> Any:
        key_id, sealed = self.keyring.seal(to_json(lead).encode(), lead_id)
        if source is None:
            own = lead.get("source_id")
            source = None if own is None else str(own)
        return ops.open_lead(lead_id, campaign, source, key_id, sealed, self._now(), self.node)

    async def sending(
        self, lead_id: str, buyer: str, stage: str, attempt: int, key: str | None
    ) -> None:
        """The intent of a post, committed before the request leaves. Raises :class:`ClaimLost`
        when this node no longer owns the lead (another node took it over): nothing may be sent."""
        op = ops.intent(lead_id, buyer, stage, attempt, key, self._now(), self.node,
                        self.backend.dialect)  # fmt: skip
        if not await self._commit(op):
            raise ClaimLost(lead_id, self.node)

    def answered(self, lead_id: str, outcome: Outcome) -> None:
        """An attempt's outcome (queued, not awaited); an accepted post becomes a sale."""
        row = (lead_id, outcome, self._now(), self.node)
        if outcome.stage != "ping":
            self.writer.submit(ops.attempts_done([row]), wait=False)
            return
        # An auction's pings arrive together (50 at once): they share one queued operation,
        # which takes every ping row added until the writer runs it and writes them with one
        # statement. A ping row changes nothing but itself, so writing it a little earlier
        # than its turn in the queue changes no outcome.
        with self._pings_lock:
            batch = self._pings
            if batch is not None:
                batch.append(row)
                return
            batch = self._pings = [row]
            # Queued under the lock: a row added to this batch is queued before anything its
            # caller queues next (a flush, say).
            self.writer.submit(self._write_pings(batch), wait=False)

    def _write_pings(self, batch: list[tuple[str, Outcome, float, str]]) -> Op:
        def op(tx: Tx) -> None:
            with self._pings_lock:
                if self._pings is batch:  # rows arriving from now on start a new batch
                    self._pings = None
            ops.pings_done(batch)(tx)  # run again after a lost connection: the same rows

        return op

    async def reserve(
        self, lead_id: str, buyer: str, price: Decimal | None, limits: Sequence[Limit]
    ) -> str | None:
        """Hold the lead for ``buyer`` before posting: None, or the cap that refuses. Without
        caps nothing can refuse (the router released any earlier buyer's hold first, and the
        writer keeps the order), so the hold is queued, not awaited: the post's intent, which
        is awaited, commits it."""
        op = ops.reserve(lead_id, buyer, price, limits, self._now(), self.backend.dialect)
        if not limits:
            self.writer.submit(op, wait=False)
            return None
        refused: str | None = await self._commit(op)
        return refused

    def release(self, lead_id: str, buyer: str | None = None) -> None:
        """Give up the buyer's held hold (its post certainly did not deliver), or every held
        hold of the lead; queued (a later write of this process commits after it)."""
        self.writer.submit(ops.release(lead_id, buyer), wait=False)

    async def finish(
        self, lead_id: str, result: Mapping[str, Any], job: JobSpec | None = None
    ) -> None:
        """The lead's disposition and result (and retry job), committed before returning. Raises
        :class:`ClaimLost` when this node no longer owns the lead: the node that took it over
        decides what becomes of it."""
        if not await self._commit(ops.finish(lead_id, dict(result), self._now(), job, self.node)):
            raise ClaimLost(lead_id, self.node)
        self._sold(result)

    async def settle(self, lead_id: str, result: Mapping[str, Any]) -> None:
        """A lead's final result from this process's in-memory retry queue (no journaled
        runtime, so no other node can own it): written whoever the owner."""
        await self._commit(ops.finish(lead_id, dict(result), self._now(), None, None))
        self._sold(result)

    def _sold(self, result: Mapping[str, Any]) -> None:
        """Count a sale in the ledger (the caps' read cache of this process)."""
        if result.get("disposition") == "sold" and result.get("buyer"):
            price = result.get("price")
            amount = None if price is None else Decimal(str(price))
            self._ledger.add_sale(str(result["buyer"]), amount, self._now())

    async def claim_jobs(self, limit: int = 50) -> list[Job]:
        rows = await self._commit(
            ops.claim_jobs(self.node, self._now(), limit, self.backend.dialect)
        )
        return [
            Job(r[0], r[1], r[2], int(r[3]), float(r[4]), r[5] or "", json.loads(r[6] or "{}"),
                r[7] is not None)
            for r in rows
        ]  # fmt: skip

    async def claim_orphans(self, limit: int = 50) -> list[str]:
        found: list[str] = await self._commit(
            ops.claim_orphans(self.node, self._now(), limit, self.backend.dialect)
        )
        return found

    async def postpone(self, lead_id: str, buyer: str, due_at: float, reason: str) -> None:
        """Give a claimed job back unsent, due again at ``due_at`` (epoch seconds). Raises
        :class:`ClaimLost` when this node no longer holds the job (another node took it over)."""
        if not await self._commit(ops.postpone(lead_id, buyer, due_at, reason, self.node)):
            raise ClaimLost(lead_id, self.node)

    async def settle_dangling(self, lead_id: str, row: AttemptRow, kind: str, why: str) -> None:
        op = ops.dangling(lead_id, row.buyer, row.stage, row.attempt, kind, why, self._now())
        await self._commit(op)

    def next_due(self) -> float | None:
        """Epoch seconds of the soonest retry job, or None."""
        rows = self.backend.read("SELECT MIN(due_at) FROM jobs")
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    def lead_state(self, lead_id: str) -> LeadState | None:
        rows = self.backend.read(
            "SELECT campaign, received_at, disposition FROM leads WHERE lead_id = ?", (lead_id,)
        )
        if not rows:
            return None
        attempts = self.backend.read(
            "SELECT buyer, stage, attempt, state, kind, idem_key FROM attempts"
            " WHERE lead_id = ? ORDER BY id",
            (lead_id,),
        )
        holds = self.backend.read(
            "SELECT buyer, state, price FROM holds WHERE lead_id = ? AND state <> 'released'",
            (lead_id,),
        )
        job = self.backend.read("SELECT buyer, attempt FROM jobs WHERE lead_id = ?", (lead_id,))
        return LeadState(
            lead_id,
            rows[0][0],
            float(rows[0][1]),
            rows[0][2],
            tuple(AttemptRow(a[0], a[1], int(a[2]), a[3], a[4], a[5]) for a in attempts),
            tuple((h[0], h[1], h[2]) for h in holds),
            (job[0][0], int(job[0][1])) if job else None,
        )

    # -- the Store protocol (sync) -----------------------------------------------------------

    def save_lead(self, lead_id: str, campaign: str, lead: Mapping[str, Any]) -> None:
        self.writer.call(self._open_op(lead_id, campaign, lead))

    def save_attempt(self, lead_id: str, outcome: Outcome) -> None:
        self.answered(lead_id, outcome)

    def save_result(self, lead_id: str, result: Mapping[str, Any]) -> None:
        self.writer.call(ops.finish(lead_id, dict(result), self._now(), None, None))
        self._sold(result)

    def get_result(self, lead_id: str) -> Mapping[str, Any] | None:
        self.writer.flush()
        rows = self.backend.read("SELECT result FROM leads WHERE lead_id = ?", (lead_id,))
        return json.loads(rows[0][0]) if rows and rows[0][0] is not None else None

    def get_lead(self, lead_id: str) -> tuple[str, Mapping[str, Any]] | None:
        self.writer.flush()
        rows = self.backend.read(
            "SELECT campaign, key_id, document FROM leads WHERE lead_id = ?", (lead_id,)
        )
        if not rows or rows[0][2] is None:
            return None
        campaign, key_id, sealed = rows[0]
        return campaign, json.loads(self.keyring.open(key_id, bytes(sealed), lead_id))

    def attempts(self, lead_id: str) -> list[Mapping[str, Any]]:
        self.writer.flush()
        rows = self.backend.read(
            "SELECT record FROM attempts WHERE lead_id = ? AND record IS NOT NULL ORDER BY id",
            (lead_id,),
        )
        return [json.loads(r[0]) for r in rows]

    def record_sale(self, buyer: str, price: Decimal | None, at: datetime) -> None:
        moment = epoch(at)
        self._ledger.add_sale(buyer, price, moment)

        def op(tx: Tx) -> None:
            tx.run(
                "INSERT INTO holds (lead_id, buyer, price, units, at, state)"
                " VALUES (NULL, ?, ?, ?, ?, 'sold')",
                (buyer, None if price is None else str(price), ops.units(price), moment),
            )

        self.writer.submit(op, wait=False)

    def sales(self, buyer: str, since: datetime) -> tuple[int, Decimal]:
        if self._ledger.covers(since):
            return self._ledger.sales(buyer, since)
        self.writer.flush()
        rows = self.backend.read(
            "SELECT price FROM holds WHERE buyer = ? AND state = 'sold' AND at >= ?",
            (buyer, epoch(since)),
        )
        return len(rows), sum((Decimal(p) for (p,) in rows if p is not None), Decimal(0))

    def record_post(self, buyer: str, accepted: bool, at: datetime) -> None:
        moment = epoch(at)
        self._ledger.add_post(buyer, accepted, moment)

        def op(tx: Tx) -> None:
            tx.run("INSERT INTO posts (buyer, accepted, at) VALUES (?, ?, ?)",
                   (buyer, int(accepted), moment))  # fmt: skip

        self.writer.submit(op, wait=False)

    def acceptance_rate(self, buyer: str, since: datetime) -> float | None:
        if self._ledger.covers(since):
            return self._ledger.acceptance_rate(buyer, since)
        self.writer.flush()
        rows = self.backend.read(
            "SELECT COUNT(*), SUM(accepted) FROM posts WHERE buyer = ? AND at >= ?",
            (buyer, epoch(since)),
        )
        count, accepted = rows[0]
        return (accepted or 0) / count if count else None

    def add_suppressed(self, values: Iterable[str]) -> int:
        """Add phones and emails to the suppression list (sealed, found by blind index);
        how many were new."""
        keys, now = self.keyring, self._now()
        rows = [(keys.digests(v), *keys.seal(v.encode(), SUPPRESSED), now)
                for v in dict.fromkeys(values)]  # fmt: skip

        def op(tx: Tx) -> int:
            added = 0
            for digests, key_id, sealed, at in rows:
                marks = ", ".join("?" * len(digests))
                if tx.run(f"SELECT 1 FROM suppressed_sealed WHERE digest IN ({marks})", digests):
                    continue  # listed already (perhaps under an older key)
                tx.run(
                    "INSERT INTO suppressed_sealed (digest, key_id, sealed, added_at)"
                    " VALUES (?, ?, ?, ?)",
                    (digests[0], key_id, sealed, at),
                )
                added += 1
            return added

        added: int = self.writer.call(op)
        return added

    def suppressed(self, values: Iterable[str]) -> str | None:
        """The first of ``values`` on the suppression list, or None."""
        wanted = [v for v in values if v]
        by_digest = {d: v for v in wanted for d in self.keyring.digests(v)}
        if not by_digest:
            return None
        marks = ", ".join("?" * len(by_digest))
        rows = self.backend.read(
            f"SELECT digest FROM suppressed_sealed WHERE digest IN ({marks})", list(by_digest)
        )
        found = {by_digest[r[0]] for r in rows}
        return next((v for v in wanted if v in found), None)

    def _seal_clear_suppressions(self) -> None:
        """Move a version-1 store's clear-text suppression list into the sealed table."""
        clear = [str(v) for (v,) in self.backend.read("SELECT value FROM suppressed")]
        if not clear:
            return
        self.add_suppressed(clear)
        marks = ", ".join("?" * len(clear))
        self.writer.call(
            lambda tx: tx.run(f"DELETE FROM suppressed WHERE value IN ({marks})", clear)
        )

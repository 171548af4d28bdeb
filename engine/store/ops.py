"""The journal's writes, each a function of one open transaction (run by the group-commit writer).

Every function here is idempotent — run twice, it leaves what running it once left — because
after a lost connection the writer runs its batch again without knowing whether it committed.
Nothing here raises for a business reason: a refused reservation is a returned reason, so one
caller's "no" never aborts the other callers' writes in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.runtime.outcome import Outcome
from engine.store.backend import Tx
from engine.store.base import outcome_record, to_json
from engine.store.writer import Op

#: Money is summed for spend caps in ten-thousandths of a currency unit (exact integers).
UNITS = Decimal("0.0001")


def units(price: Decimal | None) -> int:
    if price is None:
        return 0
    return int((price / UNITS).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Limit:
    """One cap checked when a buyer's hold on a lead is reserved."""

    since: float
    """Epoch seconds: holds at or after this count (the start of the cap's UTC hour/day/month)."""
    count: int | None
    """At most this many live holds (held or sold), or None."""
    spend: Decimal | None
    """At most this much money, or None."""
    what: str
    """The cap's name in messages: ``hourly cap``, ``daily cap``, ``daily spend cap``."""
    window: str
    """``this hour``, ``today``, ``this month`` (UTC)."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A post waiting for its next attempt."""

    buyer: str
    stage: str
    attempt: int
    """The number of the next attempt."""
    due_at: float
    """Epoch seconds of the next attempt."""
    reason: str
    prior: str = "{}"
    """JSON of the values the ping answered (the post may need them)."""


LIVE_NODES = "SELECT node FROM nodes WHERE lease_until >= ?"


def heartbeat(node: str, until: float, started: float, host: str, pid: int) -> Op:
    def op(tx: Tx) -> None:
        tx.run(
            "INSERT INTO nodes (node, lease_until, started_at, host, pid) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (node) DO UPDATE SET lease_until = excluded.lease_until",
            (node, until, started, host, pid),
        )

    return op


def open_lead(
    lead_id: str, campaign: str, source: str | None, key_id: str, sealed: bytes, at: float,
    node: str,
) -> Op:  # fmt: skip
    def op(tx: Tx) -> None:
        tx.run(
            "INSERT INTO leads (lead_id, campaign, source, key_id, document, received_at, owner)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lead_id) DO UPDATE SET"
            " campaign = excluded.campaign, source = excluded.source, key_id = excluded.key_id,"
            " document = excluded.document, owner = excluded.owner, disposition = NULL",
            (lead_id, campaign, source, key_id, sealed, at, node),
        )

    return op


def intent(
    lead_id: str,
    buyer: str,
    stage: str,
    attempt: int,
    key: str | None,
    at: float,
    node: str,
    dialect: str,
) -> Op:
    """The intent row of an attempt, written only while ``node`` owns the lead: the fence that
    keeps a node whose lease ran out (it is slow, not dead) from sending what the node that took
    its leads over may send too. True when written. On PostgreSQL the lead row is locked (shared)
    so that a claim waits for this commit and then sees the ``sending`` row as dangling."""
    lock = " FOR SHARE" if dialect == "postgres" else ""

    def op(tx: Tx) -> bool:
        owner = tx.run(f"SELECT owner FROM leads WHERE lead_id = ?{lock}", (lead_id,))
        if not owner or owner[0][0] != node:
            return False
        tx.run(
            "INSERT INTO attempts (lead_id, buyer, stage, attempt, idem_key, state, started_at,"
            " owner) VALUES (?, ?, ?, ?, ?, 'sending', ?, ?) ON CONFLICT DO NOTHING",
            (lead_id, buyer, stage, attempt, key, at, node),
        )
        return True

    return op


def attempt_row(lead_id: str, outcome: Outcome, at: float, node: str) -> tuple[Any, ...]:
    """The prepared row of one finished attempt (JSON built here, on the writer's thread)."""
    return (
        lead_id, outcome.buyer, outcome.stage, outcome.attempt, "done", outcome.kind,
        outcome.status, at - outcome.timings.total, at, outcome.timings.total * 1000.0,
        to_json(outcome_record(outcome)), node,
    )  # fmt: skip


_DONE = (
    "INSERT INTO attempts (lead_id, buyer, stage, attempt, state, kind, status, started_at,"
    " finished_at, ms, record, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (lead_id, buyer, stage, attempt) DO UPDATE SET state = excluded.state,"
    " kind = excluded.kind, status = excluded.status, finished_at = excluded.finished_at,"
    " ms = excluded.ms, record = excluded.record"
)


def pings_done(rows: Sequence[tuple[str, Outcome, float, str]]) -> Op:
    """Finished pings (rows of nothing but themselves: no hold or sale follows a ping), written
    with one statement for all of them."""

    def op(tx: Tx) -> None:
        tx.many(_DONE, [attempt_row(*row) for row in rows])

    return op


def attempts_done(rows: Sequence[tuple[str, Outcome, float, str]]) -> Op:
    """Finished attempts (pings, checks, posts' outcomes); an accepted post also turns its
    buyer's hold into a sale, in the same transaction as the outcome."""

    def op(tx: Tx) -> None:
        for lead_id, outcome, at, node in rows:
            tx.run(_DONE, attempt_row(lead_id, outcome, at, node))
            if outcome.stage == "post" and outcome.kind == "accepted":
                sell(tx, lead_id, outcome.buyer, outcome.price, at)
                _late_sale(tx, lead_id, outcome.buyer)

    return op


def _late_sale(tx: Tx, lead_id: str, buyer: str) -> None:
    """A lead already parked as ``unknown`` with ``buyer`` (the node that took it over saw the
    post dangling) ends ``sold`` when the slow node's answer turns out accepted after all."""
    rows = tx.run(
        "SELECT result FROM leads WHERE lead_id = ? AND disposition = 'unknown' AND buyer = ?",
        (lead_id, buyer),
    )
    if not rows:
        return
    price = tx.run(
        "SELECT price FROM holds WHERE lead_id = ? AND buyer = ? AND state = 'sold'",
        (lead_id, buyer),
    )
    paid = price[0][0] if price else None
    why = f"sold to {buyer}: its answer (accepted) came after the lead was parked as unknown"
    result = {**json.loads(rows[0][0] or "{}"), "disposition": "sold", "reason": why,
              "price": paid}  # fmt: skip
    tx.run(
        "UPDATE leads SET disposition = 'sold', price = ?, reason = ?, result = ?"
        " WHERE lead_id = ?",
        (paid, why, to_json(result), lead_id),
    )


def sell(tx: Tx, lead_id: str, buyer: str, price: Decimal | None, at: float) -> None:
    """The buyer's live hold on the lead becomes a sale (made when there was none)."""
    changed = tx.count(
        "UPDATE holds SET state = 'sold', price = COALESCE(price, ?),"
        " units = CASE WHEN price IS NULL THEN ? ELSE units END"
        " WHERE lead_id = ? AND buyer = ? AND state <> 'released'",
        (None if price is None else str(price), units(price), lead_id, buyer),
    )
    if not changed:
        tx.run(
            "INSERT INTO holds (lead_id, buyer, price, units, at, state)"
            " VALUES (?, ?, ?, ?, ?, 'sold') ON CONFLICT DO NOTHING",
            (lead_id, buyer, None if price is None else str(price), units(price), at),
        )


def reserve(
    lead_id: str, buyer: str, price: Decimal | None, limits: Sequence[Limit], at: float,
    dialect: str,
) -> Op:  # fmt: skip
    """Hold the lead for ``buyer`` if every cap has room; None, or why not."""

    def op(tx: Tx) -> str | None:
        live = tx.run(
            "SELECT buyer FROM holds WHERE lead_id = ? AND state <> 'released'", (lead_id,)
        )
        if live:
            other = str(live[0][0])
            return None if other == buyer else f"the lead is already held by {other}"
        if limits and dialect == "postgres":
            tx.run("INSERT INTO buyer_locks (buyer) VALUES (?) ON CONFLICT DO NOTHING", (buyer,))
            tx.run("SELECT buyer FROM buyer_locks WHERE buyer = ? FOR UPDATE", (buyer,))
        for limit in limits:
            count, spent = tx.run(
                "SELECT COUNT(*), COALESCE(SUM(units), 0) FROM holds"
                " WHERE buyer = ? AND state <> 'released' AND at >= ?",
                (buyer, limit.since),
            )[0]
            if limit.count is not None and int(count) >= limit.count:
                return (
                    f"{limit.what} reached: {count} of {limit.count} leads sold or on their way"
                    f" {limit.window} (UTC)"
                )
            if limit.spend is not None and int(spent) + units(price) > units(limit.spend):
                money = Decimal(int(spent)) * UNITS
                return (
                    f"{limit.what}: ${money:.2f} spent {limit.window} (UTC); this lead's"
                    f" ${price or 0:.2f} would pass the ${limit.spend:.2f} cap"
                )
        tx.run(
            "INSERT INTO holds (lead_id, buyer, price, units, at, state)"
            " VALUES (?, ?, ?, ?, ?, 'held')",
            (lead_id, buyer, None if price is None else str(price), units(price), at),
        )
        return None

    return op


def release(lead_id: str, buyer: str | None = None) -> Op:
    """The lead's held (not sold) holds are given up: of ``buyer``, or all."""

    def op(tx: Tx) -> None:
        if buyer is None:
            tx.run("UPDATE holds SET state = 'released' WHERE lead_id = ? AND state = 'held'",
                   (lead_id,))  # fmt: skip
        else:
            tx.run(
                "UPDATE holds SET state = 'released'"
                " WHERE lead_id = ? AND buyer = ? AND state = 'held'",
                (lead_id, buyer),
            )

    return op


def finish(
    lead_id: str, result: dict[str, Any], at: float, job: JobSpec | None, node: str | None
) -> Op:
    """The lead's disposition and result, with what it means for its holds and retry job.
    With ``node``, written only while that node owns the lead (True when written): a node that
    lost the lead to another must not overwrite what the other decides."""
    disposition = str(result.get("disposition"))
    buyer = result.get("buyer")
    price = None if result.get("price") is None else str(result["price"])
    text = to_json(result)

    # The fence also passes when this very result is already written: a batch run again after
    # a lost connection whose first run did commit (that run set owner to NULL) writes the same
    # values again, and must not read its own earlier copy as another node's takeover.
    fence = "" if node is None else " AND (owner = ? OR (owner IS NULL AND result = ?))"
    mine = () if node is None else (node, text)

    def op(tx: Tx) -> bool:
        written = tx.count(
            "UPDATE leads SET disposition = ?, buyer = ?, price = ?, reason = ?, result = ?,"
            f" finished_at = ?, owner = NULL WHERE lead_id = ?{fence}",
            (disposition, buyer, price, result.get("reason"), text, at, lead_id, *mine),
        )
        if node is not None and not written:
            return False
        if disposition == "sold" and buyer:
            sell(tx, lead_id, str(buyer), None if price is None else Decimal(price), at)
        elif disposition in ("unknown", "scheduled") and buyer:
            tx.run(
                "UPDATE holds SET state = 'released'"
                " WHERE lead_id = ? AND buyer <> ? AND state = 'held'",
                (lead_id, buyer),
            )
        else:
            tx.run("UPDATE holds SET state = 'released' WHERE lead_id = ? AND state = 'held'",
                   (lead_id,))  # fmt: skip
        if job is None:
            tx.run("DELETE FROM jobs WHERE lead_id = ?", (lead_id,))
        else:  # a lead waits on one buyer's retry at a time: an earlier buyer's job is done
            tx.run("DELETE FROM jobs WHERE lead_id = ? AND buyer <> ?", (lead_id, job.buyer))
            tx.run(
                "INSERT INTO jobs (lead_id, buyer, stage, attempt, due_at, reason, prior)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lead_id, buyer) DO UPDATE SET"
                " stage = excluded.stage, attempt = excluded.attempt, due_at = excluded.due_at,"
                " reason = excluded.reason, prior = excluded.prior, owner = NULL,"
                " lease_until = NULL",
                (lead_id, job.buyer, job.stage, job.attempt, job.due_at, job.reason, job.prior),
            )
        return True

    return op


def claim_jobs(node: str, now: float, limit: int, dialect: str) -> Op:
    """Take up to ``limit`` due jobs nobody alive holds; (job row, taken from a dead node).
    Never one of this node's own: when its own lease lapsed (a stall) it is still running them."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""

    def op(tx: Tx) -> list[tuple[Any, ...]]:
        rows = tx.run(
            "SELECT lead_id, buyer, stage, attempt, due_at, reason, prior, owner FROM jobs"
            " WHERE due_at <= ? AND (owner IS NULL"
            f" OR (owner <> ? AND owner NOT IN ({LIVE_NODES})))"
            f" ORDER BY due_at LIMIT ?{lock}",
            (now, node, now, limit),
        )
        for row in rows:
            tx.run("UPDATE jobs SET owner = ?, lease_until = ? WHERE lead_id = ? AND buyer = ?",
                   (node, now, row[0], row[1]))  # fmt: skip
            tx.run("UPDATE leads SET owner = ? WHERE lead_id = ?", (node, row[0]))
        return rows

    return op


def claim_orphans(node: str, now: float, limit: int, dialect: str) -> Op:
    """Take up to ``limit`` leads left without a disposition by a node that died (never this
    node's own: a stall that let its lease lapse does not stop the routing in flight)."""
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgres" else ""

    def op(tx: Tx) -> list[str]:
        rows = tx.run(
            "SELECT lead_id FROM leads WHERE disposition IS NULL"
            f" AND (owner IS NULL OR (owner <> ? AND owner NOT IN ({LIVE_NODES})))"
            f" LIMIT ?{lock}",
            (node, now, limit),
        )
        for (lead_id,) in rows:
            tx.run("UPDATE leads SET owner = ? WHERE lead_id = ?", (node, lead_id))
        return [str(r[0]) for r in rows]

    return op


def postpone(lead_id: str, buyer: str, due_at: float, reason: str, node: str) -> Op:
    """A claimed job that was not sent (its buyer is paused) waits until ``due_at``, claimable
    by any node then; the lead keeps its disposition. Only the node holding the job moves it
    (True when written); a batch run again finds the job already moved to ``due_at``."""

    def op(tx: Tx) -> bool:
        written = tx.count(
            "UPDATE jobs SET due_at = ?, reason = ?, owner = NULL, lease_until = NULL"
            " WHERE lead_id = ? AND buyer = ? AND (owner = ? OR (owner IS NULL AND due_at = ?))",
            (due_at, reason, lead_id, buyer, node, due_at),
        )
        if not written:
            return False
        tx.run("UPDATE leads SET owner = NULL WHERE lead_id = ? AND owner = ?", (lead_id, node))
        return True

    return op


def dangling(lead_id: str, buyer: str, stage: str, attempt: int, kind: str, why: str,
             at: float) -> Op:  # fmt: skip
    """A ``sending`` row whose process died: it becomes its recovered outcome."""
    record = to_json({"buyer": buyer, "stage": stage, "kind": kind, "reason": why,
                      "attempt": attempt, "recovered": True})  # fmt: skip

    def op(tx: Tx) -> None:
        tx.run(
            "UPDATE attempts SET state = 'done', kind = ?, finished_at = ?, record = ?"
            " WHERE lead_id = ? AND buyer = ? AND stage = ? AND attempt = ? AND state = 'sending'",
            (kind, at, record, lead_id, buyer, stage, attempt),
        )

    return op

"""Reading the record: a lead's history, attempts by buyer and time, per-buyer stats, returns.

Every attempt row carries what the guide's logging list asks for (time in milliseconds, lead,
buyer, stage, attempt number, the request with secrets and personal data masked, the response
status and body, timings, outcome class), the lead row its campaign, source and final
disposition; the archive table is read too, so a lead's history is whole however old it is.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.store.journal import DurableStore

_COLUMNS = "lead_id, buyer, stage, attempt, state, kind, status, started_at, ms, record, idem_key"
_BOTH = (
    f"SELECT {_COLUMNS} FROM attempts {{w}} UNION ALL SELECT {_COLUMNS} FROM attempts_archive {{w}}"
)


@dataclass(frozen=True, slots=True)
class AttemptEntry:
    lead_id: str
    buyer: str
    stage: str
    attempt: int
    state: str
    kind: str | None
    status: int | None
    at: float
    """Epoch seconds (millisecond precision) when the attempt started."""
    ms: float | None
    record: Mapping[str, Any]
    idempotency_key: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id, "buyer": self.buyer, "stage": self.stage,
            "attempt": self.attempt, "state": self.state, "outcome": self.kind,
            "status": self.status, "at": round(self.at, 3),
            "ms": None if self.ms is None else round(self.ms, 3),
            "idempotency_key": self.idempotency_key, "record": dict(self.record),
        }  # fmt: skip


def _entry(row: tuple[Any, ...]) -> AttemptEntry:
    return AttemptEntry(
        row[0], row[1], row[2], int(row[3]), row[4], row[5],
        None if row[6] is None else int(row[6]), float(row[7]),
        None if row[8] is None else float(row[8]), json.loads(row[9]) if row[9] else {}, row[10],
    )  # fmt: skip


def lead_history(store: DurableStore, lead_id: str) -> dict[str, Any] | None:
    """Everything recorded about one lead (no personal data: the document stays sealed)."""
    store.writer.flush()
    rows = store.backend.read(
        "SELECT campaign, source, received_at, disposition, buyer, price, reason, finished_at,"
        " purged_at, key_id FROM leads WHERE lead_id = ?",
        (lead_id,),
    )
    if not rows:
        return None
    r = rows[0]
    attempts = store.backend.read(_BOTH.format(w="WHERE lead_id = ?"), (lead_id, lead_id))
    entries = sorted((_entry(a) for a in attempts), key=lambda e: e.at)
    holds = store.backend.read(
        "SELECT buyer, state, price, at FROM holds WHERE lead_id = ? ORDER BY at", (lead_id,)
    )
    returns = store.backend.read(
        "SELECT buyer, reason, at, price FROM returns WHERE lead_id = ? ORDER BY at", (lead_id,)
    )
    job = store.backend.read(
        "SELECT buyer, attempt, due_at, reason FROM jobs WHERE lead_id = ?", (lead_id,)
    )
    return {
        "lead_id": lead_id, "campaign": r[0], "source": r[1], "received_at": float(r[2]),
        "disposition": r[3] or "in flight", "buyer": r[4], "price": r[5], "reason": r[6],
        "finished_at": None if r[7] is None else float(r[7]),
        "document": "purged" if r[8] is not None else f"sealed with key {r[9]}",
        "attempts": [e.to_dict() for e in entries],
        "holds": [{"buyer": h[0], "state": h[1], "price": h[2], "at": float(h[3])} for h in holds],
        "returns": [
            {"buyer": x[0], "reason": x[1], "at": float(x[2]), "price": x[3]} for x in returns
        ],
        "retry": None
        if not job
        else {"buyer": job[0][0], "attempt": int(job[0][1]), "due_at": float(job[0][2]),
              "reason": job[0][3]},
    }  # fmt: skip


def attempts_since(
    store: DurableStore, since: float, *, buyer: str | None = None, outcome: str | None = None
) -> list[AttemptEntry]:
    """Attempts started at or after ``since`` (epoch seconds), oldest first."""
    store.writer.flush()
    where, params = "WHERE started_at >= ?", list[Any]([since])
    if buyer is not None:
        where += " AND buyer = ?"
        params.append(buyer)
    if outcome is not None:
        where += " AND kind = ?"
        params.append(outcome)
    rows = store.backend.read(_BOTH.format(w=where), (*params, *params))
    return sorted((_entry(r) for r in rows), key=lambda e: e.at)


ANSWERED_NO = frozenset({"rejected", "duplicate"})


@dataclass(slots=True)
class BuyerStats:
    posted: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: int = 0
    pinged: int = 0
    latencies: list[float] = field(default_factory=list)
    sold: int = 0
    revenue: Decimal = Decimal(0)
    returns: int = 0
    returned: Decimal = Decimal(0)

    def percentile(self, q: int) -> float | None:
        if not self.latencies:
            return None
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    @property
    def return_rate(self) -> float | None:
        return self.returns / self.sold if self.sold else None


def stats(
    store: DurableStore, since: float
) -> tuple[dict[str, BuyerStats], dict[str, tuple[int, int]]]:
    """Per buyer since ``since``; and per source (sold, returned) for its return rate."""
    out: dict[str, BuyerStats] = {}
    for e in attempts_since(store, since):
        s = out.setdefault(e.buyer, BuyerStats())
        if e.stage == "ping":
            s.pinged += 1
            continue
        s.posted += 1
        if e.kind == "accepted":
            s.accepted += 1
        elif e.kind in ANSWERED_NO:
            s.rejected += 1
        elif e.kind is not None:
            s.errors += 1
        if e.ms is not None and e.state == "done":
            s.latencies.append(e.ms)
    for buyer, price in store.backend.read(
        "SELECT buyer, price FROM holds WHERE state = 'sold' AND at >= ?", (since,)
    ):
        s = out.setdefault(buyer, BuyerStats())
        s.sold += 1
        s.revenue += Decimal(price) if price is not None else Decimal(0)
    for buyer, price in store.backend.read(
        "SELECT buyer, price FROM returns WHERE at >= ?", (since,)
    ):
        s = out.setdefault(buyer, BuyerStats())
        s.returns += 1
        s.returned += Decimal(price) if price is not None else Decimal(0)
    sources: dict[str, tuple[int, int]] = {}
    for source, sold, returned in store.backend.read(
        "SELECT l.source, COUNT(h.id), COUNT(r.lead_id) FROM holds h"
        " JOIN leads l ON l.lead_id = h.lead_id"
        " LEFT JOIN returns r ON r.lead_id = h.lead_id AND r.buyer = h.buyer"
        " WHERE h.state = 'sold' AND h.at >= ? GROUP BY l.source",
        (since,),
    ):
        sources[source or "(none)"] = (int(sold), int(returned))
    return dict(sorted(out.items())), dict(sorted(sources.items()))


class ReturnRefused(ValueError):
    """A return that cannot be recorded (the buyer never bought the lead)."""


def record_return(
    store: DurableStore, lead_id: str, buyer: str, reason: str, at: float
) -> tuple[str | None, bool]:
    """Record that ``buyer`` returned ``lead_id``: (the price credited, whether it was new).
    Raises ReturnRefused when the buyer never bought the lead."""
    if not reason.strip():
        raise ReturnRefused("say why the lead was returned (--reason), e.g. 'bad phone'")

    def op(tx: Any) -> tuple[str | None, bool] | None:
        sold = tx.run(
            "SELECT price FROM holds WHERE lead_id = ? AND buyer = ? AND state = 'sold'",
            (lead_id, buyer),
        )
        if not sold:
            return None
        added = tx.count(
            "INSERT INTO returns (lead_id, buyer, reason, at, price) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (lead_id, buyer, reason.strip(), at, sold[0][0]),
        )
        return sold[0][0], added > 0

    got = store.writer.call(op)
    if got is None:
        raise ReturnRefused(f"{buyer} never bought lead {lead_id}: there is nothing to return")
    return got  # type: ignore[no-any-return]

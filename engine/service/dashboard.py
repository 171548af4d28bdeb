"""The operator's dashboard: one page (no build step) polling ``/dashboard.json``.

Every number on the page is read from the store (so every node serving one database shows the
same numbers, and they match ``leadpost stats``): leads waiting in the retry queue and in
flight, each buyer's delivery success over the last hour, the response-time trend per minute,
the top errors of the last hour and the latest dispositions. Breaker states are this process's
own. Nothing personal is shown: the store keeps lead documents sealed and attempts masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.store.journal import DurableStore
from engine.store.sources import operator_actions

PAGE = Path(__file__).with_name("static") / "dashboard.html"
HOUR = 3600.0
#: How many recent dispositions the page lists.
RECENT = 20


def buyer_success(store: DurableStore, since: float) -> list[dict[str, Any]]:
    """Per buyer, posts answered since ``since``: how many, how many accepted, the rate."""
    rows = store.backend.read(
        "SELECT buyer, COUNT(*), SUM(CASE WHEN kind = 'accepted' THEN 1 ELSE 0 END)"
        " FROM attempts WHERE stage = 'post' AND state <> 'sending' AND started_at >= ?"
        " GROUP BY buyer ORDER BY buyer",
        (since,),
    )
    return [
        {"buyer": b, "posts": int(n), "accepted": int(ok or 0),
         "rate": round(int(ok or 0) / int(n), 4) if n else None}
        for b, n, ok in rows
    ]  # fmt: skip


def latency_trend(store: DurableStore, since: float) -> list[dict[str, Any]]:
    """Per minute since ``since``: how many answers, their mean and largest response time (ms)."""
    rows = store.backend.read(
        "SELECT FLOOR(started_at / 60), COUNT(*), AVG(ms), MAX(ms) FROM attempts"
        " WHERE started_at >= ? AND ms IS NOT NULL GROUP BY FLOOR(started_at / 60)"
        " ORDER BY 1",
        (since,),
    )
    return [
        {"minute": int(m) * 60, "count": int(n), "mean_ms": round(float(avg), 1),
         "max_ms": round(float(top), 1)}
        for m, n, avg, top in rows
    ]  # fmt: skip


def top_errors(store: DurableStore, since: float, limit: int = 10) -> list[dict[str, Any]]:
    """The commonest failed outcomes of the last hour, by buyer and outcome class."""
    rows = store.backend.read(
        "SELECT buyer, stage, kind, COUNT(*) FROM attempts WHERE started_at >= ?"
        " AND kind IS NOT NULL AND kind NOT IN ('accepted', 'rejected', 'duplicate')"
        " GROUP BY buyer, stage, kind ORDER BY COUNT(*) DESC, buyer LIMIT ?",
        (since, limit),
    )
    return [{"buyer": b, "stage": s, "outcome": k, "count": int(n)} for b, s, k, n in rows]


def recent(store: DurableStore, limit: int = RECENT) -> list[dict[str, Any]]:
    """The latest leads that ended: no personal data (the leads table holds none in clear)."""
    rows = store.backend.read(
        "SELECT lead_id, campaign, source, disposition, buyer, price, finished_at FROM leads"
        " WHERE disposition IS NOT NULL ORDER BY finished_at DESC, lead_id LIMIT ?",
        (limit,),
    )
    return [
        {"lead_id": r[0], "campaign": r[1], "source": r[2], "disposition": r[3], "buyer": r[4],
         "price": r[5], "finished_at": float(r[6]) if r[6] is not None else None}
        for r in rows
    ]  # fmt: skip


def snapshot(
    store: DurableStore,
    now: float,
    *,
    breakers: Mapping[str, str],
    alerts: Sequence[Mapping[str, Any]] = (),
    in_flight: int = 0,
    paused: frozenset[str] = frozenset(),
    health: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Everything the page shows, read now (call it in a worker thread: it reads the store)."""
    store.writer.flush()
    since = now - HOUR
    queued = store.backend.read("SELECT COUNT(*) FROM jobs")[0][0]
    totals = store.backend.read(
        "SELECT disposition, COUNT(*) FROM leads WHERE received_at >= ? GROUP BY disposition",
        (since,),
    )
    return {
        "at": now,
        "queue": {"retry_jobs": int(queued), "in_flight": in_flight},
        "leads_last_hour": {str(d or "in flight"): int(n) for d, n in totals},
        "buyers": buyer_success(store, since),
        "breakers": dict(sorted(breakers.items())),
        "alerts": [dict(a) for a in alerts],
        "latency": latency_trend(store, since),
        "errors": top_errors(store, since),
        "recent": recent(store),
        "paused": sorted(paused),
        "actions": operator_actions(store, 10),
        "health": [dict(h) for h in health],
    }

"""Reading and upkeep on every backend: history, stats and returns; archive, purge, rotation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.clock import FakeClock
from engine.runtime.outcome import Outcome, Timings
from engine.store import DurableStore
from engine.store.audit import ReturnRefused, attempts_since, lead_history, record_return, stats
from engine.store.crypto import DataKey, Keyring
from engine.store.upkeep import archive, purge, rotate
from tests.store.kit import Made

pytestmark = pytest.mark.anyio
WALL = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
DAY = 86400.0


def outcome(buyer: str, stage: str, kind: str, ms: float) -> Outcome:
    return Outcome(buyer, stage, kind, False, None, 1, Timings(ms / 1000), 200)  # type: ignore[arg-type]


async def sell(store: DurableStore, lead_id: str, buyer: str, kind: str, source: str) -> None:
    """A ping, then a post to ``buyer`` answered ``kind`` (a sale when accepted)."""
    await store.open_lead(lead_id, "c", {"source_id": source, "email": "x@example.org"})
    store.answered(lead_id, outcome(buyer, "ping", "accepted", 20))
    await store.reserve(lead_id, buyer, Decimal("10.00"), [])
    await store.sending(lead_id, buyer, "post", 1, f"{lead_id}:{buyer}:post")
    store.answered(lead_id, outcome(buyer, "post", kind, 100 if kind == "accepted" else 300))
    disposition = "sold" if kind == "accepted" else "unsold"
    await store.finish(lead_id, {"disposition": disposition, "buyer": buyer, "reason": kind,
                                 "price": "10.00" if kind == "accepted" else None})  # fmt: skip


async def test_history_stats_and_returns(made: Made) -> None:
    """Per buyer: posts, outcomes, latency, sales, revenue and returns; per source the return
    rate; a lead's history has its attempts, hold, return and disposition."""
    clock = FakeClock(wall_start=WALL)
    store = made.store(clock)
    await sell(store, "L1", "a", "accepted", "web")
    await sell(store, "L2", "a", "rejected", "web")
    await sell(store, "L3", "b", "accepted", "tv")
    price, new = record_return(store, "L1", "a", "bad phone", clock.wall().timestamp())
    assert (price, new) == ("10.00", True)
    with pytest.raises(ReturnRefused, match="b never bought lead L1"):
        record_return(store, "L1", "b", "bad phone", 0.0)
    buyers, sources = stats(store, clock.wall().timestamp() - DAY)
    a = buyers["a"]
    assert (a.pinged, a.posted, a.accepted, a.rejected, a.errors) == (2, 2, 1, 1, 0)
    assert (a.sold, a.revenue, a.returns, a.return_rate) == (1, Decimal("10.00"), 1, 1.0)
    assert a.percentile(50) == pytest.approx(200.0)
    assert sources == {"tv": (1, 0), "web": (1, 1)}
    history = lead_history(store, "L1")
    assert history is not None
    assert [(x["stage"], x["outcome"]) for x in history["attempts"]] == [
        ("ping", "accepted"), ("post", "accepted"),
    ]  # fmt: skip
    assert history["returns"][0]["reason"] == "bad phone" and history["disposition"] == "sold"
    assert "x@example.org" not in str(history)
    rejected = attempts_since(store, 0.0, buyer="a", outcome="rejected")
    assert [e.lead_id for e in rejected] == ["L2"]


async def test_archive_moves_old_attempts_and_history_still_reads_them(made: Made) -> None:
    """Attempts older than the window move to the archive (a monthly partition on
    PostgreSQL); the lead's history is the same before and after."""
    clock = FakeClock(wall_start=WALL)
    store = made.store(clock)
    await sell(store, "L1", "a", "accepted", "web")
    before = lead_history(store, "L1")
    assert archive(store, clock.wall().timestamp(), days=90) == 0
    assert archive(store, clock.wall().timestamp() + 91 * DAY, days=90) == 2
    assert store.backend.read("SELECT COUNT(*) FROM attempts") == [(0,)]
    assert lead_history(store, "L1") == before


async def test_purge_deletes_documents_and_old_audit_rows_only(made: Made) -> None:
    """Documents of finished leads before the date go; a lead still in flight keeps its
    document; audit rows go only past the audit retention."""
    clock = FakeClock(wall_start=WALL)
    store = made.store(clock)
    await sell(store, "L1", "a", "accepted", "web")
    await store.open_lead("L2", "c", {"n": 2})
    now = clock.wall().timestamp()
    assert purge(store, now + 1, now, audit_days=1826) == (1, 0)
    assert store.get_lead("L1") is None and store.get_lead("L2") == ("c", {"n": 2})
    assert purge(store, now + 1, now + 1827 * DAY, audit_days=1826) == (0, 2)
    assert store.get_result("L1") is not None  # the disposition is kept


async def test_rotation_re_seals_every_document(made: Made) -> None:
    """On every backend, rotate() re-seals documents sealed with an older key."""
    old, new = DataKey.generate(), DataKey.generate()
    store = made.store()
    store.keyring = Keyring([old])
    for i in range(3):
        await store.open_lead(f"L{i}", "c", {"n": i})
    store.keyring = Keyring([new, old])
    assert rotate(store) == 3
    store.keyring = Keyring([new])
    assert [store.get_lead(f"L{i}") for i in range(3)] == [("c", {"n": i}) for i in range(3)]

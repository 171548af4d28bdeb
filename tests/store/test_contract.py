"""The Store contract: memory, SQLite and PostgreSQL stores keep and answer the same things."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import pytest

from engine.runtime.outcome import Exchange, Outcome, Timings
from engine.store import Store
from tests.store.kit import Made

T0 = datetime(2024, 12, 15, 14, 30, tzinfo=UTC)


@pytest.fixture
def store(made: Made) -> Store:
    """Each contract test runs against memory, SQLite (a fresh file) and PostgreSQL (a fresh
    schema)."""
    return made.store()


def outcome(kind: str = "accepted", attempt: int = 1) -> Outcome:
    return Outcome(
        buyer="harbor-mutual",
        stage="post",
        kind=kind,  # type: ignore[arg-type]
        retryable=False,
        reason=None if kind == "accepted" else "Duplicate lead",
        attempt=attempt,
        timings=Timings(total=0.125, connect=0.01),
        status=200,
        values={"price": Decimal("38.00"), "buyer_lead_id": "HM-1"},
        exchange=Exchange(
            method="POST",
            url="https://api.harbormutual.com/v2/leads",
            request_headers=(("X-Api-Key", "${env:HARBOR_API_KEY}"),),
            request_body='{"phone": "***"}',
            status=200,
            response_body='{"ok": true}',
        ),
    )


def test_a_saved_lead_reads_back(store: Store) -> None:
    """save_lead keeps the campaign and the lead (as JSON: Decimals become text)."""
    store.save_lead("L1", "home-auction", {"lead": {"phone": "5125550142"}, "v": Decimal("1.5")})
    assert store.get_lead("L1") == ("home-auction", {"lead": {"phone": "5125550142"}, "v": "1.5"})
    assert store.get_lead("nope") is None


def test_saving_a_lead_again_replaces_it(store: Store) -> None:
    """The same lead id saved twice keeps the latest campaign and lead."""
    store.save_lead("L1", "a", {"n": 1})
    store.save_lead("L1", "b", {"n": 2})
    assert store.get_lead("L1") == ("b", {"n": 2})


def test_attempts_are_kept_in_order_with_their_exchange(store: Store) -> None:
    """Every attempt is kept, oldest first, with its timings and masked exchange."""
    store.save_lead("L1", "home-auction", {})
    store.save_attempt("L1", outcome("duplicate", 1))
    store.save_attempt("L1", outcome("accepted", 2))
    kept = store.attempts("L1")
    assert [(a["kind"], a["attempt"]) for a in kept] == [("duplicate", 1), ("accepted", 2)]
    first = kept[0]
    assert first["reason"] == "Duplicate lead"
    assert first["values"] == {"price": "38.00", "buyer_lead_id": "HM-1"}
    assert first["timings"] == {"total": 0.125, "connect": 0.01, "wait": None, "read": None}
    assert first["exchange"]["request_headers"] == [["X-Api-Key", "${env:HARBOR_API_KEY}"]]
    assert store.attempts("other") == []


def test_a_burst_of_pings_is_kept_whole_in_order_and_once(made: Made) -> None:
    """Pings answered together share one queued write: every one is kept, in order, once —
    also when the writer runs that write again (as it does after a lost connection)."""
    store = made.store()
    store.save_lead("L1", "home-auction", {})
    pings = [dataclasses.replace(outcome(), buyer=f"b{i:02d}", stage="ping") for i in range(30)]
    for ping in pings:
        store.save_attempt("L1", ping)
    assert [a["buyer"] for a in store.attempts("L1")] == [p.buyer for p in pings]
    again = store._write_pings([("L1", p, 1.0, store.node) for p in pings[:5]])
    with store.backend.transaction() as tx:
        again(tx)
    kept = store.attempts("L1")
    assert [a["buyer"] for a in kept] == [p.buyer for p in pings]
    assert {a["stage"] for a in kept} == {"ping"}


def test_results_read_back_and_can_be_replaced(store: Store) -> None:
    """get_result returns the last saved result as JSON data, None for an unknown lead."""
    assert store.get_result("L1") is None
    store.save_lead("L1", "home-auction", {})
    store.save_result("L1", {"disposition": "unknown", "trace": []})
    store.save_result("L1", {"disposition": "sold", "price": Decimal("38.00"), "at": T0})
    assert store.get_result("L1") == {
        "disposition": "sold",
        "price": "38.00",
        "at": "2024-12-15T14:30:00+00:00",
    }


def test_sales_count_and_spend_since_a_time(store: Store) -> None:
    """sales counts the buyer's sales at or after ``since`` and adds their prices."""
    store.record_sale("a", Decimal("10.00"), T0)
    store.record_sale("a", Decimal("2.50"), T0 + timedelta(minutes=5))
    store.record_sale("a", None, T0 + timedelta(minutes=10))
    store.record_sale("b", Decimal("99"), T0)
    assert store.sales("a", T0) == (3, Decimal("12.50"))
    assert store.sales("a", T0 + timedelta(seconds=1)) == (2, Decimal("2.50"))
    assert store.sales("a", T0 + timedelta(hours=1)) == (0, Decimal(0))
    assert store.sales("nobody", T0) == (0, Decimal(0))


def test_sales_recorded_out_of_order_are_counted_right(store: Store) -> None:
    """A sale recorded with an earlier time than the last one still lands in its place."""
    store.record_sale("a", Decimal(5), T0 + timedelta(minutes=10))
    store.record_sale("a", Decimal(1), T0)
    store.record_sale("a", Decimal(2), T0 + timedelta(minutes=5))
    assert store.sales("a", T0 + timedelta(minutes=1)) == (2, Decimal(7))
    assert store.sales("a", T0) == (3, Decimal(8))


def test_acceptance_rate(store: Store) -> None:
    """The share of the buyer's posts accepted since a time; None when it had no posts."""
    assert store.acceptance_rate("a", T0) is None
    store.record_post("a", True, T0)
    store.record_post("a", False, T0 + timedelta(minutes=1))
    store.record_post("a", True, T0 + timedelta(minutes=2))
    assert store.acceptance_rate("a", T0) == pytest.approx(2 / 3)
    assert store.acceptance_rate("a", T0 + timedelta(seconds=30)) == pytest.approx(1 / 2)
    assert store.acceptance_rate("a", T0 + timedelta(hours=1)) is None


def test_naive_times_are_taken_as_utc(store: Store) -> None:
    """A datetime without a time zone counts as UTC."""
    store.record_sale("a", Decimal(1), datetime(2024, 12, 15, 14, 30))
    assert store.sales("a", T0) == (1, Decimal(1))


def test_calls_from_many_threads_are_all_kept(store: Store) -> None:
    """Concurrent writers lose nothing."""

    def work(n: int) -> None:
        for i in range(200):
            store.record_sale("a", Decimal(1), T0 + timedelta(seconds=i))
            store.record_post("a", i % 2 == 0, T0)
            store.save_attempt(f"L{n}", outcome(attempt=i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.sales("a", T0) == (800, Decimal(800))
    assert store.acceptance_rate("a", T0) == pytest.approx(0.5)
    assert [len(store.attempts(f"L{n}")) for n in range(4)] == [200] * 4


def test_close_is_idempotent(store: Store) -> None:
    """Closing twice is harmless."""
    store.record_sale("a", Decimal(1), T0)
    store.close()
    store.close()


@pytest.mark.anyio
async def test_usable_from_many_tasks_of_one_event_loop(store: Store) -> None:
    """Tasks of one event loop may call the store freely: no deadlock, nothing lost."""

    async def sell(n: int) -> None:
        store.save_lead(f"L{n}", "home-auction", {"n": n})
        await anyio.sleep(0)
        store.save_attempt(f"L{n}", outcome())
        store.record_sale("a", Decimal(2), T0)
        await anyio.sleep(0)
        store.save_result(f"L{n}", {"disposition": "sold"})

    async with anyio.create_task_group() as tg:
        for n in range(50):
            tg.start_soon(sell, n)
    assert store.sales("a", T0) == (50, Decimal(100))
    assert all(store.get_result(f"L{n}") == {"disposition": "sold"} for n in range(50))

"""The in-memory ledger answers "since t" exactly like counting every entry by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.store.base import Ledger, Series

FAST = settings()
times = st.integers(min_value=0, max_value=50).map(float)
prices = st.none() | st.decimals(min_value=0, max_value=1000, places=2)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@FAST
@given(entries=st.lists(st.tuples(times, prices), max_size=40), since=times)
def test_sales_match_a_plain_count(
    entries: list[tuple[float, Decimal | None]], since: float
) -> None:
    """Whatever order sales are recorded in, count and spend since t are exact."""
    ledger = Ledger()
    for when, price in entries:
        ledger.add_sale("a", price, when)
    kept = [p for when, p in entries if when >= since]
    assert ledger.sales("a", at(since)) == (
        len(kept),
        sum((p or Decimal(0) for p in kept), Decimal(0)),
    )


@FAST
@given(entries=st.lists(st.tuples(times, st.booleans()), max_size=40), since=times)
def test_acceptance_rate_matches_a_plain_count(
    entries: list[tuple[float, bool]], since: float
) -> None:
    """The rate is accepted / posts since t, None without posts."""
    ledger = Ledger()
    for when, accepted in entries:
        ledger.add_post("a", accepted, when)
    kept = [ok for when, ok in entries if when >= since]
    expected = sum(kept) / len(kept) if kept else None
    assert ledger.acceptance_rate("a", at(since)) == expected


def test_dropping_old_entries_keeps_the_newer_totals() -> None:
    """After old entries are dropped, totals since a later time are unchanged."""
    series = Series()
    for when in range(10):
        series.add(float(when), Decimal(when))
    series.drop_before(5.0)
    assert series.since(5.0) == (5, Decimal(5 + 6 + 7 + 8 + 9))
    assert series.since(8.0) == (2, Decimal(17))
    assert series.since(0.0) == (5, Decimal(35))


def test_a_ledger_with_a_horizon_says_what_it_covers() -> None:
    """Questions reaching before the floor must be answered elsewhere (the SQLite file)."""
    ledger = Ledger(keep=100.0, floor=1000.0)
    assert ledger.covers(at(1000.0))
    assert not ledger.covers(at(999.0))


def test_a_ledger_with_a_horizon_drops_old_entries_as_it_grows() -> None:
    """Every few thousand entries, those older than the newest minus ``keep`` are dropped."""
    ledger = Ledger(keep=10.0)
    for when in range(4096):
        ledger.add_sale("a", Decimal(1), float(when))
    assert ledger.covers(at(4085.0))
    assert not ledger.covers(at(4084.0))
    assert ledger.sales("a", at(4090.0)) == (6, Decimal(6))

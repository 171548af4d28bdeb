"""Eligibility: filters, schedule (buyer's zone), circuit breaker, caps in UTC calendar units."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.campaigns.plan import CampaignBuyer
from engine.clock import FakeClock
from engine.plan import CapsPlan, FilterPlan, IntegrationPlan, SchedulePlan
from engine.runtime.eligibility import BREAKER_OPEN, cap_windows, eligibility, schedule_open
from engine.store import MemoryStore
from tests.examples import example_plan
from tests.paths import REPO

ROOT = REPO
#: Monday 2024-12-16, 14:30 UTC = 09:30 in New York (EST).
MONDAY = datetime(2024, 12, 16, 14, 30, tzinfo=UTC)
LEAD: Mapping[str, Any] = {"lead": {"address": {"state": "TX"}}}
WEEKDAYS_8_TO_20 = SchedulePlan("America/New_York", frozenset(range(5)), ((8 * 60, 20 * 60),))


@cache
def harbor() -> IntegrationPlan:
    return example_plan("harbor-mutual")


def buyer(price: str | None = None, **changes: Any) -> CampaignBuyer:
    """The Harbor Mutual plan with no filters, caps or schedule, except those given."""
    base = {"filters": None, "caps": CapsPlan(), "schedule": None}
    plan = dataclasses.replace(harbor(), **{**base, **changes})
    return CampaignBuyer(plan, 1, Decimal(price) if price is not None else None)


def check(b: CampaignBuyer, store: MemoryStore, at: datetime, breaker_open: bool = False) -> Any:
    return eligibility(
        b, LEAD, store=store, clock=FakeClock(wall_start=at), breaker_open=breaker_open
    )


def test_a_buyer_without_limits_is_eligible() -> None:
    """No filters, schedule, caps or open breaker: eligible (None)."""
    assert check(buyer(), MemoryStore(), MONDAY) is None


def test_a_filter_reason_is_returned_as_is() -> None:
    """The buyer's filter decides first and its reason is the answer."""
    no_texas = FilterPlan(lambda lead: "state TX is outside the buyer's states")
    assert check(buyer(filters=no_texas), MemoryStore(), MONDAY) == (
        "state TX is outside the buyer's states"
    )


def test_the_real_filters_of_a_buyer_file_apply() -> None:
    """Harbor Mutual's file takes TX, CA, FL and AZ only."""
    b = CampaignBuyer(harbor(), 1, None)
    ny = {"lead": {"address": {"state": "NY"}}}
    reason = eligibility(b, ny, store=MemoryStore(), clock=FakeClock(wall_start=MONDAY),
                         breaker_open=False)  # fmt: skip
    assert reason == "state NY is outside the buyer's states"


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (MONDAY, None),
        (datetime(2024, 12, 16, 13, 0, tzinfo=UTC), None),
        (
            datetime(2024, 12, 16, 12, 59, tzinfo=UTC),
            "outside the buyer's schedule: it is Mon 07:59 in America/New_York",
        ),
        (
            datetime(2024, 12, 17, 1, 0, tzinfo=UTC),
            "outside the buyer's schedule: it is Mon 20:00 in America/New_York",
        ),
        (
            datetime(2024, 12, 21, 15, 0, tzinfo=UTC),
            "outside the buyer's schedule: it is Sat 10:00 in America/New_York",
        ),
        (datetime(2024, 7, 15, 12, 30, tzinfo=UTC), None),
    ],
    ids=["mon-0930", "opens-0800", "before-opening", "closes-2000", "saturday", "summer-time"],
)
def test_schedule_in_the_buyers_time_zone(at: datetime, reason: str | None) -> None:
    """Open days and hours [start, end) are read in the buyer's zone, daylight saving included."""
    assert check(buyer(schedule=WEEKDAYS_8_TO_20), MemoryStore(), at) == reason


def test_schedule_open_reads_the_local_day() -> None:
    """Friday 23:30 in New York is Saturday in UTC, and still Friday for the buyer."""
    late_friday = SchedulePlan("America/New_York", frozenset({4}), ((23 * 60, 24 * 60),))
    assert schedule_open(late_friday, datetime(2024, 12, 21, 4, 30, tzinfo=UTC))


def test_an_open_circuit_breaker_excludes() -> None:
    """A buyer whose breaker is open is not offered the lead."""
    assert check(buyer(), MemoryStore(), MONDAY, breaker_open=True) == BREAKER_OPEN


def test_the_filter_is_reported_before_schedule_breaker_and_caps() -> None:
    """When everything excludes a buyer, the cheapest check (the filter) gives the reason."""
    store = MemoryStore()
    store.record_sale("harbor-mutual", None, MONDAY)
    b = buyer(filters=FilterPlan(lambda lead: "filtered"), schedule=WEEKDAYS_8_TO_20,
              caps=CapsPlan(per_hour=1))  # fmt: skip
    assert check(b, store, datetime(2024, 12, 21, 15, tzinfo=UTC), breaker_open=True) == "filtered"


def test_cap_windows_are_utc_calendar_units() -> None:
    """The hour, day and month start at :00, midnight and the 1st, in UTC (any zone given)."""
    in_chicago = datetime(2024, 12, 15, 13, 30, tzinfo=ZoneInfo("America/Chicago"))
    assert cap_windows(in_chicago) == (
        datetime(2024, 12, 15, 19, tzinfo=UTC),
        datetime(2024, 12, 15, tzinfo=UTC),
        datetime(2024, 12, 1, tzinfo=UTC),
    )


def test_hourly_cap_counts_sales_this_utc_hour() -> None:
    """Two sales this hour reach a cap of 2; a sale last hour does not count; next hour reopens."""
    store = MemoryStore()
    b = buyer(caps=CapsPlan(per_hour=2))
    store.record_sale("harbor-mutual", Decimal(1), MONDAY - timedelta(minutes=31))  # 13:59
    store.record_sale("harbor-mutual", Decimal(1), MONDAY - timedelta(minutes=30))  # 14:00
    assert check(b, store, MONDAY) is None
    store.record_sale("harbor-mutual", Decimal(1), MONDAY)
    assert check(b, store, MONDAY) == "hourly cap reached: 2 of 2 leads sold this hour (UTC)"
    assert check(b, store, MONDAY + timedelta(minutes=30)) is None


def test_daily_cap_counts_sales_this_utc_day() -> None:
    """The daily cap resets at midnight UTC."""
    store = MemoryStore()
    b = buyer(caps=CapsPlan(per_day=1))
    store.record_sale("harbor-mutual", None, datetime(2024, 12, 16, 0, 0, tzinfo=UTC))
    assert check(b, store, MONDAY) == "daily cap reached: 1 of 1 leads sold today (UTC)"
    assert check(b, store, datetime(2024, 12, 17, 0, 0, tzinfo=UTC)) is None


def test_monthly_cap_counts_sales_this_utc_month() -> None:
    """The monthly cap counts from the 1st, 00:00 UTC."""
    store = MemoryStore()
    b = buyer(caps=CapsPlan(per_month=2))
    store.record_sale("harbor-mutual", None, datetime(2024, 11, 30, 23, 59, tzinfo=UTC))
    store.record_sale("harbor-mutual", None, datetime(2024, 12, 1, tzinfo=UTC))
    assert check(b, store, MONDAY) is None
    store.record_sale("harbor-mutual", None, datetime(2024, 12, 10, tzinfo=UTC))
    assert check(b, store, MONDAY) == "monthly cap reached: 2 of 2 leads sold this month (UTC)"


def test_caps_are_counted_per_buyer() -> None:
    """Another buyer's sales do not use this buyer's cap."""
    store = MemoryStore()
    store.record_sale("summit-crm", None, MONDAY)
    assert check(buyer(caps=CapsPlan(per_hour=1)), store, MONDAY) is None


def test_spend_cap_reached() -> None:
    """A day's spend at the cap excludes the buyer."""
    store = MemoryStore()
    store.record_sale("harbor-mutual", Decimal("60.00"), MONDAY)
    store.record_sale("harbor-mutual", Decimal("40"), MONDAY)
    b = buyer(caps=CapsPlan(spend_per_day=Decimal(100)))
    assert check(b, store, MONDAY) == (
        "daily spend cap reached: $100.00 of $100.00 spent today (UTC)"
    )


def test_a_fixed_price_that_would_pass_the_spend_cap_excludes() -> None:
    """With a fixed price known, the buyer is excluded before the sale that would overspend."""
    store = MemoryStore()
    store.record_sale("harbor-mutual", Decimal("70"), MONDAY)
    b = buyer(price="38.00", caps=CapsPlan(spend_per_day=Decimal(100)))
    assert check(b, store, MONDAY) == (
        "daily spend cap: $70.00 spent today (UTC) plus this lead's $38.00 would pass the "
        "$100.00 cap"
    )
    assert (
        check(buyer(price="30", caps=CapsPlan(spend_per_day=Decimal(100))), store, MONDAY) is None
    )

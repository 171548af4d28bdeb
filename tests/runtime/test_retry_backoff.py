"""Backoff, Retry-After and retry decisions: pure functions, checked by example and property."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.plan import RetryPlan
from engine.runtime.retry import (
    Delay,
    backoff_delay,
    base_delay,
    decide,
    next_delay,
    parse_retry_after,
    should_retry,
)

NOW = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
PLAN = RetryPlan(interval=2.0, backoff_rate=2.0, max_delay=60.0, max_wait=5.0)

plans = st.builds(
    RetryPlan,
    interval=st.floats(0, 1000, allow_nan=False),
    backoff_rate=st.floats(0, 10, allow_nan=False),
    max_delay=st.floats(0, 100_000, allow_nan=False),
    jitter=st.sampled_from(["full", "none"]),
)


def test_base_delays_grow_then_cap() -> None:
    """2, 4, 8, 16, 32, then capped at 60."""
    assert [base_delay(PLAN, a) for a in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    """No overflow for absurd attempt numbers."""
    assert base_delay(PLAN, 100_000) == 60


@pytest.mark.parametrize(
    ("jitter", "rand", "expected"),
    [("full", 0.0, 0.0), ("full", 0.25, 2.0), ("full", 1.0, 8.0), ("none", 0.25, 8.0)],
    ids=["full-0", "full-quarter", "full-1", "none"],
)
def test_jitter(jitter: str, rand: float, expected: float) -> None:
    """Full jitter scales the delay by rand; no jitter gives the exact delay."""
    plan = RetryPlan(interval=2.0, backoff_rate=2.0, jitter=jitter)  # type: ignore[arg-type]
    assert backoff_delay(plan, 3, rand) == expected


@pytest.mark.parametrize(("attempt", "rand"), [(0, 0.5), (1, -0.1), (1, 1.5)])
def test_bad_arguments_are_refused(attempt: int, rand: float) -> None:
    """Attempts start at 1 and rand lies in [0, 1]."""
    with pytest.raises(ValueError, match="must be"):
        backoff_delay(PLAN, attempt, rand)


@given(plans, st.integers(1, 60))
def test_delays_never_shrink_and_never_exceed_the_cap(plan: RetryPlan, attempt: int) -> None:
    """Before jitter the sequence is non-decreasing and stays within [0, max_delay]."""
    now, after = base_delay(plan, attempt), base_delay(plan, attempt + 1)
    assert 0 <= now <= after <= plan.max_delay


@given(plans, st.integers(1, 60), st.floats(0, 1))
def test_jitter_stays_within_the_capped_delay(plan: RetryPlan, attempt: int, rand: float) -> None:
    """With any rand, the jittered delay lies in [0, capped delay]."""
    assert 0 <= backoff_delay(plan, attempt, rand) <= base_delay(plan, attempt)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("0", 0.0),
        ("Fri, 01 Mar 2024 12:00:30 GMT", 30.0),
        ("Fri, 01 Mar 2024 11:00:00 GMT", 0.0),
        ("", None),
        ("soon", None),
        ("12 seconds", None),
        ("Fri, 99 Mar 2024 12:00:30 GMT", None),
        ("nan", None),
    ],
    ids=lambda v: repr(v),
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    """Seconds or an HTTP date; past dates and negative numbers are 0; garbage is None."""
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_with_naive_now() -> None:
    """A naive ``now`` is taken as UTC."""
    assert parse_retry_after("Fri, 01 Mar 2024 12:01:00 GMT", NOW.replace(tzinfo=None)) == 60


@given(st.text(max_size=40))
def test_parse_retry_after_never_raises(value: str) -> None:
    """Any header text gives a non-negative number or None, never an exception."""
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)))
def test_http_dates_round_trip(when: datetime) -> None:
    """An HTTP date gives the distance from now (at second precision), or 0 in the past."""
    when = when.replace(microsecond=0, tzinfo=UTC)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(header, NOW) == max((when - NOW).total_seconds(), 0)


def test_next_delay_uses_backoff_without_retry_after() -> None:
    """Without Retry-After, the jittered backoff; short waits are awaited in-line."""
    assert next_delay(PLAN, 1, 0.5) == Delay(1.0, scheduled=False, from_retry_after=False)
    assert next_delay(PLAN, 4, 1.0) == Delay(16.0, scheduled=True, from_retry_after=False)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (3.0, Delay(3.0, scheduled=False, from_retry_after=True)),
        (30.0, Delay(30.0, scheduled=True, from_retry_after=True)),
        (3600.0, Delay(60.0, scheduled=True, from_retry_after=True)),
    ],
    ids=["short", "scheduled", "capped"],
)
def test_next_delay_honours_retry_after_up_to_the_cap(retry_after: float, expected: Delay) -> None:
    """Retry-After replaces backoff but never exceeds max_delay; beyond max_wait it is
    scheduled rather than awaited."""
    assert next_delay(PLAN, 1, 0.5, retry_after) == expected


@pytest.mark.parametrize(
    ("error_class", "attempt", "age", "expected"),
    [
        ("server_error", 1, 0.0, True),
        ("rate_limited", 5, 0.0, True),
        ("server_error", 6, 0.0, False),
        ("server_error", 1, 3600.0, False),
        ("client_error", 1, 0.0, False),
        ("unknown", 1, 0.0, False),
        ("rejected", 1, 0.0, False),
    ],
    ids=["5xx", "last-retry", "attempts-used", "too-old", "4xx", "unknown", "rejected"],
)
def test_should_retry(error_class: str, attempt: int, age: float, expected: bool) -> None:
    """Only listed classes, while attempts remain and the lead is fresh enough."""
    assert should_retry(PLAN, error_class, attempt, age) is expected


def test_unknown_outcome_retried_only_when_asked() -> None:
    """A timeout after sending is retried only with on_timeout: retry."""
    assert should_retry(RetryPlan(on_timeout="retry"), "unknown", 1, 0.0)


def test_decide_explains_each_outcome() -> None:
    """Decisions carry a plain-English reason."""
    assert decide(PLAN, "client_error", 1, 0, 0.5).reason == (
        "a failure of type 'client_error' is not retried"
    )
    assert decide(PLAN, "server_error", 6, 0, 0.5).reason == "all 6 attempts were used"
    late = decide(PLAN, "server_error", 1, 3599.5, 1.0)
    assert not late.retry
    assert late.reason == (
        "the lead would be older than 3600 seconds by the next attempt, so it was not tried"
        " again (give_up_after counts from the lead's timestamp; the lead is 59 minutes old)"
    )
    old = decide(PLAN, "server_error", 1, 2 * 86400 + 5, 1.0)
    assert old.reason.endswith("the lead is 2 days old)")
    ok = decide(PLAN, "rate_limited", 1, 0, 0.5, retry_after=30)
    assert ok.retry and ok.delay == Delay(30.0, scheduled=True, from_retry_after=True)
    assert ok.reason == "retry later from the queue in 30 seconds, as the buyer's Retry-After asked"
    assert decide(PLAN, "server_error", 1, 0, 0.5).reason == (
        "retry in-line in 1 second, after backoff"
    )

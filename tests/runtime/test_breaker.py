# mypy: disable-error-code="comparison-overlap"
# (mypy narrows breaker.state after one comparison, as if record_failure() could not change it)
"""Circuit breaker states: opening, failing fast, one probe, closing, hung probes, registry."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.clock import FAKE_EPOCH, FakeClock
from engine.plan import BreakerPlan
from engine.runtime.breaker import BreakerEvent, BreakerRegistry, CircuitBreaker

PLAN = BreakerPlan(
    consecutive_failures=3, failure_rate=0.5, window=60, min_requests=10, cooldown=30
)


@pytest.fixture
def events() -> list[BreakerEvent]:
    return []


@pytest.fixture
def breaker(fake_clock: FakeClock, events: list[BreakerEvent]) -> CircuitBreaker:
    return CircuitBreaker(PLAN, fake_clock, "acme/post", events.append)


def transitions(events: list[BreakerEvent]) -> list[tuple[str, str]]:
    return [(e.old, e.new) for e in events]


def test_opens_after_consecutive_failures(
    breaker: CircuitBreaker, events: list[BreakerEvent]
) -> None:
    """Three failures in a row open it; a success in between resets the count."""
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    assert events == [
        BreakerEvent(
            "acme/post",
            "closed",
            "open",
            FAKE_EPOCH,
            "3 failures in a row; next probe in 30 seconds",
        )
    ]


def test_open_breaker_fails_fast_until_cooldown(
    breaker: CircuitBreaker, fake_clock: FakeClock
) -> None:
    """While open, allow() is False and retry_at says when the probe will go."""
    for _ in range(3):
        breaker.record_failure()
    fake_clock.advance(29.9)
    assert not breaker.allow()
    assert breaker.retry_at == 30.0


def test_exactly_one_probe_then_close(
    breaker: CircuitBreaker, fake_clock: FakeClock, events: list[BreakerEvent]
) -> None:
    """After the cooldown one caller probes, the others are refused; success closes it."""
    for _ in range(3):
        breaker.record_failure()
    fake_clock.advance(30)
    assert breaker.allow()
    assert breaker.state == "half_open"
    assert [breaker.allow() for _ in range(5)] == [False] * 5
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.retry_at is None
    assert all(breaker.allow() for _ in range(5))
    assert transitions(events) == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    assert events[-1].reason == "probe request succeeded"
    assert events[-1].at == FAKE_EPOCH + timedelta(seconds=30)


def test_closing_starts_with_fresh_counts(breaker: CircuitBreaker, fake_clock: FakeClock) -> None:
    """After a successful probe, old failures no longer count."""
    for _ in range(3):
        breaker.record_failure()
    fake_clock.advance(30)
    breaker.allow()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_failed_probe_reopens_and_restarts_cooldown(
    breaker: CircuitBreaker, fake_clock: FakeClock, events: list[BreakerEvent]
) -> None:
    """A failed probe re-opens the breaker for another full cooldown."""
    for _ in range(3):
        breaker.record_failure()
    fake_clock.advance(30)
    assert breaker.allow()
    fake_clock.advance(1)
    breaker.record_failure()
    assert breaker.state == "open"
    assert breaker.retry_at == 61.0
    fake_clock.advance(29.5)
    assert not breaker.allow()
    fake_clock.advance(0.5)
    assert breaker.allow()
    assert transitions(events)[1:4] == [
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
    ]
    assert events[2].reason == "probe request failed; next probe in 30 seconds"


def test_hung_probe_is_replaced_after_a_cooldown(
    breaker: CircuitBreaker, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A probe that never reports back blocks others for one cooldown, then a new probe goes."""
    for _ in range(3):
        breaker.record_failure()
    fake_clock.advance(30)
    assert breaker.allow()
    fake_clock.advance(29)
    assert not breaker.allow()
    assert breaker.retry_at == 60.0
    fake_clock.advance(1)
    with caplog.at_level(logging.WARNING, logger="leadpost.breaker"):
        assert breaker.allow()
    assert not breaker.allow()
    assert "the probe request never reported back; sending another" in caplog.text


def test_opens_on_failure_rate(breaker: CircuitBreaker, events: list[BreakerEvent]) -> None:
    """Alternating results never make three failures in a row, but a 50% rate over ten
    requests opens the breaker."""
    for _ in range(4):
        breaker.record_success()
        breaker.record_failure()
    breaker.record_success()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    assert events[0].reason == (
        "50% of the last 10 requests failed (within 60 seconds); next probe in 30 seconds"
    )


def test_rate_needs_minimum_requests(fake_clock: FakeClock) -> None:
    """Below min_requests the failure rate is not judged."""
    plan = BreakerPlan(consecutive_failures=100, failure_rate=0.5, window=60, min_requests=10)
    breaker = CircuitBreaker(plan, fake_clock, "b")
    for _ in range(9):
        breaker.record_failure()
    assert breaker.state == "closed"


def test_old_results_slide_out_of_the_window(fake_clock: FakeClock) -> None:
    """Failures older than the window stop counting."""
    plan = BreakerPlan(consecutive_failures=100, failure_rate=0.5, window=60, min_requests=10)
    breaker = CircuitBreaker(plan, fake_clock, "b")
    for _ in range(5):
        breaker.record_failure()
    fake_clock.advance(61)
    for _ in range(5):
        breaker.record_success()
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 20)), max_size=200))
def test_window_counts_match_a_naive_count(results: list[tuple[bool, float]]) -> None:
    """The bucketed counts equal a naive count over the same buckets' span, and the breaker
    opens exactly when either rule says so."""
    clock = FakeClock()
    plan = BreakerPlan(consecutive_failures=5, failure_rate=0.6, window=60, min_requests=8)
    breaker = CircuitBreaker(plan, clock, "p")
    history: list[tuple[float, bool]] = []
    streak = 0
    width = plan.window / 30
    for failed, gap in results:
        clock.advance(gap)
        if breaker.state != "closed":
            return
        now = clock.now()
        history.append((now, failed))
        streak = streak + 1 if failed else 0
        (breaker.record_failure if failed else breaker.record_success)()
        oldest = (int(now // width) - 29) * width
        recent = [f for t, f in history if t >= oldest]
        rate_open = len(recent) >= 8 and sum(recent) / len(recent) >= 0.6
        expected = "open" if streak >= 5 or (failed and rate_open) else "closed"
        assert breaker.state == expected


def test_state_changes_are_logged(
    breaker: CircuitBreaker, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Each change is logged on leadpost.breaker, opening as a warning."""
    with caplog.at_level(logging.INFO, logger="leadpost.breaker"):
        for _ in range(3):
            breaker.record_failure()
        fake_clock.advance(30)
        breaker.allow()
        breaker.record_success()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "breaker acme/post: closed -> open (3 failures in a row; next probe in 30 seconds)",
        ),
        ("INFO", "breaker acme/post: open -> half_open (cooldown over: sending one probe request)"),
        ("INFO", "breaker acme/post: half_open -> closed (probe request succeeded)"),
    ]


def test_registry_keeps_one_breaker_per_endpoint(fake_clock: FakeClock) -> None:
    """The same name gives the same breaker; a new plan gives a fresh one."""
    seen: list[BreakerEvent] = []
    registry = BreakerRegistry(fake_clock, seen.append)
    a = registry.get("acme/post", PLAN)
    assert registry.get("acme/post", PLAN) is a
    b = registry.get("zeta/ping", PLAN)
    assert b is not a and len(registry) == 2 and "zeta/ping" in registry
    for _ in range(3):
        b.record_failure()
    assert registry.states() == {"acme/post": "closed", "zeta/ping": "open"}
    assert [e.name for e in seen] == ["zeta/ping"]
    fresh = registry.get("zeta/ping", BreakerPlan())
    assert fresh is not b and fresh.state == "closed"

"""Per-endpoint circuit breakers: stop sending to a failing buyer, probe once, recover.

A breaker is *closed* (requests flow) until N consecutive failures, or a failure rate at or above
the threshold over a sliding window with enough requests; then it is *open* (``allow()`` is
False: fail fast, nothing is sent). After the cooldown the next ``allow()`` turns it *half open*
and lets exactly one probe through; concurrent callers get False while the probe is out. A
successful probe closes the breaker with fresh counts; a failed one re-opens it and restarts the
cooldown. A probe that never reports back does not wedge the breaker: one cooldown after it was
let through, another probe is allowed.

All methods are synchronous and never await, so within one event loop they are atomic. Times
are read from the injected :class:`~engine.clock.Clock`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.clock import Clock
from engine.plan import BreakerPlan

log = logging.getLogger("leadpost.breaker")

State = Literal["closed", "open", "half_open"]

#: The sliding window is cut into this many buckets (a 300 s window has 10 s buckets).
BUCKETS = 30


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    """One state change of one breaker."""

    name: str
    old: State
    new: State
    at: datetime
    """Wall time (UTC) of the change, from the breaker's clock."""
    reason: str
    """Plain English, e.g. "10 failures in a row"."""


class _Window:
    """Success and failure counts over the last ``window`` seconds, in fixed-width buckets.

    Each record costs O(1) amortized: buckets that slid out of the window are cleared lazily,
    at most ``BUCKETS`` of them per call.
    """

    __slots__ = ("_epoch", "_failures", "_successes", "_width", "failures", "total")

    def __init__(self, window: float) -> None:
        self._width = max(window, 1e-3) / BUCKETS
        self._successes = [0] * BUCKETS
        self._failures = [0] * BUCKETS
        self._epoch: int | None = None
        self.total = 0
        self.failures = 0

    def _slide(self, now: float) -> int:
        epoch = int(now // self._width)
        if self._epoch is None or epoch - self._epoch >= BUCKETS:
            self.clear()
        else:
            for e in range(self._epoch + 1, epoch + 1):
                i = e % BUCKETS
                self.total -= self._successes[i] + self._failures[i]
                self.failures -= self._failures[i]
                self._successes[i] = self._failures[i] = 0
        if self._epoch is None or epoch > self._epoch:
            self._epoch = epoch
        return self._epoch % BUCKETS

    def add(self, now: float, failed: bool) -> None:
        i = self._slide(now)
        self.total += 1
        if failed:
            self.failures += 1
            self._failures[i] += 1
        else:
            self._successes[i] += 1

    def clear(self) -> None:
        self._successes = [0] * BUCKETS
        self._failures = [0] * BUCKETS
        self._epoch = None
        self.total = self.failures = 0


def _ignore(event: BreakerEvent) -> None:
    """The default ``on_event``: events are only logged."""


class CircuitBreaker:
    """The breaker of one endpoint (e.g. one buyer's post URL)."""

    def __init__(
        self,
        plan: BreakerPlan,
        clock: Clock,
        name: str,
        on_event: Callable[[BreakerEvent], None] = _ignore,
    ) -> None:
        self.plan = plan
        self.name = name
        self._clock = clock
        self._on_event = on_event
        self._state: State = "closed"
        self._window = _Window(plan.window)
        self._consecutive = 0
        self._opened_at = 0.0
        self._probe_at: float | None = None

    @property
    def state(self) -> State:
        """The current state. An open breaker stays "open" until ``allow()`` sends a probe."""
        return self._state

    @property
    def retry_at(self) -> float | None:
        """Clock time (``clock.now()``) when the next probe will be let through; None when
        closed."""
        if self._state == "open":
            return self._opened_at + self.plan.cooldown
        if self._state == "half_open" and self._probe_at is not None:
            return self._probe_at + self.plan.cooldown
        return None

    def allow(self) -> bool:
        """Whether a request may be sent now. While half open, True means "you are the probe":
        the caller must report the outcome with ``record_success``/``record_failure``."""
        if self._state == "closed":
            return True
        now = self._clock.now()
        if self._state == "open":
            if now < self._opened_at + self.plan.cooldown:
                return False
            self._probe_at = now
            self._change("half_open", "cooldown over: sending one probe request")
            return True
        if self._probe_at is not None and now < self._probe_at + self.plan.cooldown:
            return False
        log.warning("breaker %s: the probe request never reported back; sending another", self.name)
        self._probe_at = now
        return True

    def record_success(self) -> None:
        """Report a request that succeeded (the buyer answered, whatever it decided)."""
        if self._state == "half_open":
            self._reset()
            self._change("closed", "probe request succeeded")
            return
        self._consecutive = 0
        self._window.add(self._clock.now(), failed=False)

    def record_failure(self) -> None:
        """Report a request that failed (transport error, timeout, 5xx …)."""
        now = self._clock.now()
        if self._state == "half_open":
            self._open(now, "probe request failed")
            return
        self._consecutive += 1
        self._window.add(now, failed=True)
        if self._state != "closed":
            return
        plan, w = self.plan, self._window
        if self._consecutive >= plan.consecutive_failures:
            self._open(now, f"{self._consecutive} failures in a row")
        elif w.total >= plan.min_requests and w.failures / w.total >= plan.failure_rate:
            rate = round(100 * w.failures / w.total)
            self._open(
                now,
                f"{rate}% of the last {w.total} requests failed (within {plan.window:g} seconds)",
            )

    def _open(self, now: float, reason: str) -> None:
        self._opened_at = now
        self._probe_at = None
        self._change("open", f"{reason}; next probe in {self.plan.cooldown:g} seconds")

    def _reset(self) -> None:
        self._window.clear()
        self._consecutive = 0
        self._probe_at = None

    def _change(self, new: State, reason: str) -> None:
        old, self._state = self._state, new
        event = BreakerEvent(self.name, old, new, self._clock.wall(), reason)
        level = logging.WARNING if new == "open" else logging.INFO
        log.log(level, "breaker %s: %s -> %s (%s)", self.name, old, new, reason)
        self._on_event(event)


class BreakerRegistry:
    """One breaker per endpoint name, created on first use; all share one clock and listener."""

    def __init__(self, clock: Clock, on_event: Callable[[BreakerEvent], None] = _ignore) -> None:
        self._clock = clock
        self._on_event = on_event
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str, plan: BreakerPlan) -> CircuitBreaker:
        """The breaker for ``name``. A different plan for the same name (the integration was
        reloaded with new settings) replaces the breaker with a fresh, closed one."""
        breaker = self._breakers.get(name)
        if breaker is None or (breaker.plan is not plan and breaker.plan != plan):
            breaker = CircuitBreaker(plan, self._clock, name, self._on_event)
            self._breakers[name] = breaker
        return breaker

    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def __len__(self) -> int:
        return len(self._breakers)

    def states(self) -> dict[str, State]:
        """Every known endpoint's current state, for dashboards and health checks."""
        return {name: b.state for name, b in self._breakers.items()}

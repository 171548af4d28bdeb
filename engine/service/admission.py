"""Admission control: take a new auction only when it can still meet its deadlines.

Two signals, both cheap: the event loop's lag (how late a timer that should fire every
``interval`` seconds actually fires — when the loop is busy, every ping's deadline is missed by
about that much) and the number of leads in flight, against a limit that adapts to what the
process can sell in time (AIMD, as TCP and Netflix's concurrency-limits do: each auction whose
pings ended more than ``TOLERANCE`` after their deadline shrinks the limit by a tenth, each one
on time grows it by 1/limit — by 1 until the first late one, a slow start). When either says a
new auction would be late, the intake answers 503 with ``Retry-After`` instead of making every
auction late.

The lag is measured on the service's clock by :meth:`Admission.monitor`; tests set it with
:meth:`Admission.observe` (no wall time involved).
"""

from __future__ import annotations

import math
from collections import deque

from engine.clock import Clock

#: Seconds between two lag probes.
INTERVAL = 0.05
#: The lag is the largest of this many recent probes (a burst is not forgotten at once).
WINDOW = 8
#: An auction whose ping phase ends later than its deadline plus this was late.
TOLERANCE = 0.010
#: Where the adaptive limit starts (it grows while auctions end on time).
START = 8.0
#: Refuse when the lag exceeds this share of the campaign's tightest deadline (its ping
#: deadline when it pings buyers, else its total deadline).
LAG_SHARE = 0.25


class Admission:
    """Counts leads in flight and the loop's lag; says when to refuse a lead."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_in_flight: int = 200,
        max_lag: float | None = None,
        interval: float = INTERVAL,
        probing: bool = True,
        adaptive: bool = True,
    ) -> None:
        self.clock = clock
        self.max_in_flight = max_in_flight
        self.max_lag = max_lag
        """Seconds of lag above which leads are refused; None: a share of the ping deadline."""
        self.interval = interval
        self.probing = probing
        """False: :meth:`monitor` measures nothing (tests set the lag with :meth:`observe`)."""
        self.adaptive = adaptive
        """False: the in-flight limit stays ``max_in_flight`` (tests; --max-in-flight fixed)."""
        self.in_flight = 0
        self.refused = 0
        self.allowed = float(min(START, max_in_flight)) if adaptive else float(max_in_flight)
        """The adaptive limit of leads in flight (at most ``max_in_flight``)."""
        self.slow_start = True
        """Until the first late auction the limit grows by one per auction on time (TCP's slow
        start: it doubles every round of auctions), then by 1/limit."""
        self._lags: deque[float] = deque([0.0], maxlen=WINDOW)

    @property
    def lag(self) -> float:
        """Seconds: the largest recent lag of the event loop."""
        return max(self._lags)

    def observe(self, lag: float) -> None:
        self._lags.append(max(lag, 0.0))

    async def monitor(self) -> None:
        """Probe the loop's lag forever (run it in the service's task group)."""
        while self.probing:
            start = self.clock.now()
            await self.clock.sleep(self.interval)
            self.observe(self.clock.now() - start - self.interval)

    def finished(self, late_by: float) -> None:
        """One auction ended; its pings ended ``late_by`` seconds after their deadline (<= 0:
        on time). Adjusts the limit of leads in flight."""
        if not self.adaptive:
            return
        if late_by > TOLERANCE:
            self.allowed = max(1.0, self.allowed * 0.9)
            self.slow_start = False
        else:
            grow = 1.0 if self.slow_start else 1.0 / self.allowed
            self.allowed = min(float(self.max_in_flight), self.allowed + grow)

    def limit(self, deadline: float) -> float:
        return self.max_lag if self.max_lag is not None else deadline * LAG_SHARE

    def refuse(self, deadline: float) -> tuple[str, int] | None:
        """Why a new sale whose tightest deadline is ``deadline`` must wait, and the seconds to
        tell the source to wait (Retry-After); None when it may start now."""
        lag = self.lag
        if lag > self.limit(deadline):
            wait = max(1, math.ceil(lag * 10))
            ms = round(lag * 1000)
            return f"the service is overloaded (its event loop runs {ms} ms late)", wait
        if self.in_flight >= min(self.max_in_flight, int(self.allowed)):
            return f"the service is overloaded ({self.in_flight} leads in flight)", 1
        return None

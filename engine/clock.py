"""Time as an injectable seam: the system clock for production, a fake clock for tests.

Everything on the run side that reads time or waits (backoff, breakers, token expiry) takes a
:class:`Clock`, so tests control time instead of sleeping for real.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

import anyio
from anyio.lowlevel import checkpoint


class Clock(Protocol):
    """Where the run side reads time and waits."""

    def now(self) -> float:
        """Monotonic seconds: only differences between two readings mean anything."""
        ...

    def wall(self) -> datetime:
        """The current date and time, timezone-aware, in UTC."""
        ...

    def epoch(self) -> float:
        """``wall()`` as seconds since the Unix epoch (what the store records)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a negative or zero wait returns after letting other tasks run)."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic``, ``datetime.now(UTC)`` and ``anyio.sleep``."""

    __slots__ = ()

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def epoch(self) -> float:
        return time.time()  # read several times per lead: no datetime to build and convert

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(seconds, 0.0))


#: Where a FakeClock's wall time starts unless told otherwise.
FAKE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class FakeClock:
    """A deterministic clock for tests: time moves only when told to, or when someone sleeps.

    ``sleep(s)`` never waits for real. It moves the fake time forward to the sleeper's wake-up
    point (the time when ``sleep`` was called plus ``s``) unless the time is already past it,
    records ``s`` in :attr:`sleeps`, and yields once to the event loop so other tasks run.
    Time never goes backwards, so concurrent sleepers are safe: two tasks that both sleep 1 s
    from time 0 both wake at time 1 (not 2). ``advance(s)`` moves time forward explicitly.
    Reading the time from another thread (e.g. a test server) is safe.
    """

    def __init__(self, start: float = 0.0, wall_start: datetime = FAKE_EPOCH) -> None:
        if wall_start.tzinfo is None:
            raise ValueError("wall_start must be timezone-aware (use tzinfo=UTC)")
        self._start = start
        self._now = start
        self._wall_start = wall_start.astimezone(UTC)
        self.sleeps: list[float] = []
        """Every duration passed to :meth:`sleep`, in call order."""

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self._now - self._start)

    def epoch(self) -> float:
        return self.wall().timestamp()

    def advance(self, seconds: float) -> None:
        """Move the fake time forward by ``seconds`` (which must not be negative)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards: pass a positive number of seconds")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake = self._now + max(seconds, 0.0)
        await checkpoint()
        if wake > self._now:
            self._now = wake

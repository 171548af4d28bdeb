"""The clocks backoff waits on: the system clock and the deterministic fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from engine.clock import FAKE_EPOCH, Clock, FakeClock, SystemClock

pytestmark = pytest.mark.anyio


async def test_system_clock() -> None:
    """Monotonic time moves forward; wall time is UTC; a tiny sleep returns."""
    clock: Clock = SystemClock()
    before = clock.now()
    await clock.sleep(0.001)
    await clock.sleep(-1)
    assert clock.now() >= before
    assert clock.wall().tzinfo is UTC
    wall = clock.wall().timestamp()
    assert wall - 1.0 <= clock.epoch() <= clock.wall().timestamp() + 1.0  # the same wall time


async def test_fake_sleep_advances_time_instantly() -> None:
    """Sleeping moves fake time to the wake-up point and records the wait."""
    clock = FakeClock()
    with anyio.fail_after(1):
        await clock.sleep(3600)
    assert clock.now() == 3600
    assert clock.wall() == FAKE_EPOCH + timedelta(hours=1)
    assert clock.sleeps == [3600]


async def test_concurrent_fake_sleeps_do_not_add_up() -> None:
    """Tasks sleeping at the same time wake at their own points; time ends at the latest."""
    clock = FakeClock(start=10.0)
    woke: list[float] = []

    async def nap(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(clock.now())

    async with anyio.create_task_group() as tg:
        for s in (1.0, 1.0, 2.0):
            tg.start_soon(nap, s)
    assert clock.now() == 12.0
    assert sorted(clock.sleeps) == [1.0, 1.0, 2.0]
    assert woke[0] == 11.0 and woke[-1] == 12.0


def test_advance() -> None:
    """advance moves time forward only."""
    clock = FakeClock(wall_start=datetime(2030, 5, 1, tzinfo=UTC))
    clock.advance(1.5)
    assert clock.now() == 1.5
    assert clock.wall() == datetime(2030, 5, 1, 0, 0, 1, 500000, tzinfo=UTC)
    assert clock.epoch() == clock.wall().timestamp()
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.advance(-1)


def test_naive_wall_start_is_refused() -> None:
    """The fake wall clock must be timezone-aware."""
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(wall_start=datetime(2024, 1, 1))

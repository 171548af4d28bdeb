"""Slots: the per-buyer limit of requests in flight (taken in order, resizable, cancel-safe)."""

from __future__ import annotations

import asyncio

import pytest

from engine.runtime.slots import Slots

pytestmark = pytest.mark.anyio


async def test_slots_are_taken_up_to_the_total_then_refused() -> None:
    """Two slots: two takes succeed at once, the third does not."""
    slots = Slots(2)
    assert slots.take_nowait() and slots.take_nowait()
    assert not slots.take_nowait()
    slots.release()
    assert slots.take_nowait()


async def test_waiters_are_served_first_come_first_served() -> None:
    """Released slots go to the waiters in the order they came."""
    slots = Slots(1)
    assert slots.take_nowait()
    served: list[int] = []

    async def wait(i: int) -> None:
        await slots.take()
        served.append(i)

    tasks = [asyncio.create_task(wait(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert not slots.take_nowait()  # someone is in line: no jumping the queue
    for _ in range(3):
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert served == [0, 1, 2]
    assert slots.used == 1


async def test_a_cancelled_waiter_leaves_the_line_and_keeps_no_slot() -> None:
    """Cancelling a waiting take removes it; a slot handed over as it is cancelled comes back."""
    slots = Slots(1)
    assert slots.take_nowait()
    waiting = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    slots.release()
    assert slots.used == 0 and slots.take_nowait()

    handed = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    slots.release()  # the slot goes to the waiter ...
    handed.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await handed
    assert slots.used == 0


async def test_growing_the_total_serves_waiters_shrinking_keeps_holders() -> None:
    """A larger total lets waiters in at once; a smaller one takes nothing from holders."""
    slots = Slots(1)
    assert slots.take_nowait()
    waiting = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    slots.resize(2)
    await waiting
    assert slots.used == 2
    slots.resize(1)
    slots.release()
    assert not slots.take_nowait()  # still one holder, and the total is 1
    slots.release()
    assert slots.take_nowait()

"""How many requests one buyer may have in flight: a counter with a queue, resizable.

Written by hand because neither library fits the hot path: anyio's ``CapacityLimiter`` records
the borrowing task on every take and give back (2–3% of an auction's CPU at 50 buyers, measured
with scripts/bench/auction.py), and ``asyncio.Semaphore`` cannot change its size when a buyer
file is reloaded with another ``concurrency``. Waiters are served first come, first served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class Slots:
    """At most ``total`` holders at once; ``take_nowait``/``take`` then ``release``."""

    __slots__ = ("_waiters", "total", "used")

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def take_nowait(self) -> bool:
        """Take a slot if one is free and nobody queues for it; False otherwise."""
        if self.used < self.total and not self._waiters:
            self.used += 1
            return True
        return False

    async def take(self) -> None:
        """Take a slot, waiting in line for one."""
        if self.take_nowait():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as the wait was cancelled: give it back
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give a slot back (to the first in line, if any)."""
        self.used -= 1
        self._serve()

    def resize(self, total: int) -> None:
        """A new size; holders beyond it keep their slots until they release them."""
        self.total = total
        self._serve()

    def _serve(self) -> None:
        while self._waiters and self.used < self.total:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.used += 1
                waiter.set_result(None)

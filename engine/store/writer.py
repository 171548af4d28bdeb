"""Group commit: one writer thread turns every queued write into few transactions.

Callers queue an operation (a function of the open transaction) and, when they need it durable,
wait for the :class:`concurrent.futures.Future` it returns — ``await asyncio.wrap_future(f)``
from async code, so the event loop keeps running while the disk works. The writer takes
everything queued, runs it in one transaction and commits: requests arriving during a commit
form the next batch, so N callers cost about one commit, not N. A batch that nobody awaits
(pings, heartbeats) waits up to ``window`` seconds (5 ms) for company, so a burst of pings is
one commit too.

Every operation must be idempotent (an insert that ignores its own earlier copy, an update to a
value): after a lost connection the writer cannot know whether the commit happened, so it
reconnects and runs the batch again. An operation that fails by itself (not the connection) is
retried alone, so it fails only its own caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from engine.store.backend import Backend, Tx

log = logging.getLogger("leadpost.store")

Op = Callable[[Tx], Any]
#: Who waits for an operation: nobody, a thread (a concurrent Future), or a task of an event
#: loop (an asyncio Future, resolved on its loop).
Waiter = Future[Any] | tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]"] | None
#: Longest a batch that nobody awaits waits for more work before committing.
WINDOW = 0.005
#: Waits between reconnection attempts after the database was lost (seconds, then the last).
RECONNECT = (0.05, 0.1, 0.2, 0.5, 1.0)


class Writer:
    """The one thread that writes; see the module docstring."""

    def __init__(self, backend: Backend, *, window: float = WINDOW, name: str = "store") -> None:
        self.backend = backend
        self.window = window
        self._queue: deque[tuple[Op, Waiter]] = deque()
        self._cond = threading.Condition()
        self._stop = False
        self.commits = 0
        """Transactions committed (for benchmarks and tests)."""
        self.batched = 0
        """Operations committed."""
        self.lost = 0
        """Batches that failed for a transient reason and were run again."""
        self._thread = threading.Thread(target=self._loop, name=f"leadpost-{name}", daemon=True)
        self._thread.start()

    def submit(self, op: Op, *, wait: bool = True) -> Future[Any] | None:
        """Queue ``op``; its Future (resolved once committed) when ``wait``, else None."""
        future: Future[Any] | None = Future() if wait else None
        with self._cond:
            if self._stop:
                raise RuntimeError("the store is closed")
            self._queue.append((op, future))
            # Wake the writer only when it has to act now: the queue was empty (it sleeps until
            # work comes) or someone waits. Otherwise it is either committing or already waiting
            # out the window for company, and a wake-up per queued ping (50 in a burst) only
            # made it take the GIL and go back to sleep.
            if future is not None or len(self._queue) == 1:
                self._cond.notify()
        return future

    def submit_async(self, op: Op) -> asyncio.Future[Any]:
        """Queue ``op`` from async code: an asyncio Future of the running loop, resolved once
        committed. The writer resolves all of a batch's futures of one loop in one call, so a
        batch costs the loop one wake-up, not one per caller."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._cond:
            if self._stop:
                raise RuntimeError("the store is closed")
            self._queue.append((op, (loop, future)))
            self._cond.notify()
        return future

    def call(self, op: Op) -> Any:
        """Run ``op`` in the next batch and return its result once committed (blocking)."""
        future = self.submit(op)
        assert future is not None
        return future.result()

    def flush(self) -> None:
        """Return once everything queued before now is committed."""
        self.call(lambda tx: None)

    def close(self) -> None:
        """Commit what is queued and stop the thread (idempotent)."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join()

    # -- the thread ------------------------------------------------------------------------

    def _take(self) -> list[tuple[Op, Waiter]] | None:
        with self._cond:
            while not self._queue and not self._stop:
                self._cond.wait()
            if not self._queue:
                return None
            if not self._stop and all(f is None for _, f in self._queue):
                deadline = time.monotonic() + self.window
                while not self._stop and all(f is None for _, f in self._queue):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            batch = list(self._queue)
            self._queue.clear()
            return batch

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self._commit(batch)

    def _commit(self, batch: list[tuple[Op, Waiter]]) -> None:
        tries = 0
        while True:
            try:
                with self.backend.transaction() as tx:
                    results = [op(tx) for op, _ in batch]
            except Exception as exc:
                if self.backend.transient(exc):
                    self.lost += 1
                    wait = RECONNECT[min(tries, len(RECONNECT) - 1)]
                    if tries in (0, 10) or tries % 100 == 0:
                        log.warning("the database is unreachable (%s); retrying", exc)
                    tries += 1
                    time.sleep(wait)
                    continue
                if len(batch) == 1:
                    if batch[0][1] is None:
                        log.error("a store write failed and is lost: %s", exc)
                    _deliver([(batch[0][1], None, exc)])
                    return
                for one in batch:  # find the one that fails; the others commit
                    self._commit([one])
                return
            break
        self.commits += 1
        self.batched += len(batch)
        _deliver([(w, r, None) for (_, w), r in zip(batch, results, strict=True)])


def _deliver(done: list[tuple[Waiter, Any, BaseException | None]]) -> None:
    """Hand each result (or failure) to whoever waits for it."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Any]]] = {}
    for waiter, result, exc in done:
        if waiter is None:
            continue
        if isinstance(waiter, Future):
            if exc is not None:
                waiter.set_exception(exc)
            else:
                waiter.set_result(result)
            continue
        loop, future = waiter
        by_loop.setdefault(loop, []).append((future, result, exc))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, items)


def _settle(items: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, exc in items:
        if future.done():  # the waiting task was cancelled; the write happened anyway
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

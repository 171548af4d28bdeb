"""The in-memory retry scheduler: deliveries waiting for their next attempt, run when due.

A real-time delivery never sleeps longer than its buyer's ``max_wait`` nor past its deadline:
such a retry becomes a :class:`Job` here, with the clock time of its next attempt. The
scheduler runs each job when it is due (one attempt), re-queues it while the retry policy says
so, and hands the final :class:`~engine.runtime.outcome.Delivery` to ``on_result``.

Jobs live in memory only. When the runtime stops, jobs not yet run (and attempts cut short)
stay in :attr:`Scheduler.pending` so the caller can persist them; nothing is silently dropped.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import anyio

from engine.clock import Clock
from engine.plan import IntegrationPlan, RenderContext
from engine.runtime.outcome import Delivery, Outcome

log = logging.getLogger("leadpost.scheduler")


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery waiting for its next attempt."""

    id: int
    plan: IntegrationPlan = field(repr=False)
    stage: str
    ctx: RenderContext = field(repr=False)
    env: str
    lead_id: str
    attempt: int
    """The number of the next attempt (the first attempt is 1)."""
    due: float
    """Clock time (``clock.now()``) of the next attempt."""
    previous: tuple[Outcome, ...] = field(default=(), repr=False)
    """The attempts made so far, oldest first."""

    @property
    def buyer(self) -> str:
        return self.plan.buyer

    def later(self, due: float, previous: tuple[Outcome, ...]) -> Job:
        """The same delivery, one attempt further, due at ``due``."""
        return replace(self, attempt=self.attempt + 1, due=due, previous=previous)


#: Runs one attempt of a job: the job again (retry later) or the final Delivery.
Runner = Callable[[Job], Awaitable["Job | Delivery"]]
#: Receives every finished job with its final Delivery (may be sync or async).
ResultCallback = Callable[[Job, Delivery], Awaitable[None] | None]


class Scheduler:
    """Due-time ordered jobs; :meth:`run` drives them in the background, through the clock."""

    def __init__(
        self, clock: Clock, runner: Runner, on_result: ResultCallback | None = None
    ) -> None:
        self.clock = clock
        self.on_result = on_result
        """Called with (job, delivery) when a job's delivery is final."""
        self._runner = runner
        self._heap: list[tuple[float, int, Job]] = []
        self._ids = itertools.count(1)
        self._running = 0
        self._changed: anyio.Event | None = None

    # -- queue ------------------------------------------------------------------------------

    def add(
        self,
        *,
        plan: IntegrationPlan,
        stage: str,
        ctx: RenderContext,
        env: str,
        lead_id: str,
        attempt: int,
        due: float,
        previous: tuple[Outcome, ...] = (),
    ) -> Job:
        """Queue a delivery whose next attempt (number ``attempt``) is due at ``due``."""
        job = Job(next(self._ids), plan, stage, ctx, env, lead_id, attempt, due, previous)
        self._push(job)
        return job

    def _push(self, job: Job) -> None:
        heapq.heappush(self._heap, (job.due, job.id, job))
        self._notify()

    @property
    def pending(self) -> tuple[Job, ...]:
        """Jobs waiting for their next attempt, soonest first."""
        return tuple(job for _, _, job in sorted(self._heap))

    @property
    def next_due(self) -> float | None:
        """Clock time of the soonest attempt, None when nothing waits."""
        return self._heap[0][0] if self._heap else None

    @property
    def running(self) -> int:
        """Attempts in flight right now."""
        return self._running

    def __len__(self) -> int:
        return len(self._heap)

    def cancel(self, lead_id: str, buyer: str | None = None) -> int:
        """Drop the waiting jobs of a lead (for one buyer, or all); returns how many."""
        keep = [
            e for e in self._heap if not (e[2].lead_id == lead_id and buyer in (None, e[2].buyer))
        ]
        dropped = len(self._heap) - len(keep)
        if dropped:
            heapq.heapify(keep)
            self._heap = keep
            self._notify()
        return dropped

    # -- running ----------------------------------------------------------------------------

    def _take_due(self) -> list[Job]:
        now = self.clock.now()
        due = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap)[2])
        return due

    async def run_due(self) -> int:
        """Run every job due now, concurrently, and wait for them; returns how many ran."""
        jobs = self._take_due()
        async with anyio.create_task_group() as tg:
            for job in jobs:
                tg.start_soon(self._run_one, job)
        return len(jobs)

    async def drain(self) -> None:
        """Wait (through the clock) and run jobs until none is waiting or running."""
        while self._heap or self._running:
            due = self.next_due
            if due is None:
                await self._wait(None)
                continue
            await self.clock.sleep(due - self.clock.now())
            await self.run_due()

    async def run(self) -> None:
        """Run jobs as they fall due, forever (until cancelled). Started by the Runtime."""
        async with anyio.create_task_group() as tg:
            while True:
                for job in self._take_due():
                    tg.start_soon(self._run_one, job)
                due = self.next_due
                await self._wait(None if due is None else due - self.clock.now())

    async def _wait(self, seconds: float | None) -> None:
        """Until something changed, or ``seconds`` passed on the clock."""
        if self._changed is None:
            self._changed = anyio.Event()
        changed = self._changed
        if seconds is None:
            await changed.wait()
            return
        async with anyio.create_task_group() as tg:

            async def sleeper() -> None:
                await self.clock.sleep(seconds)
                tg.cancel_scope.cancel()

            tg.start_soon(sleeper)
            await changed.wait()
            tg.cancel_scope.cancel()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def _run_one(self, job: Job) -> None:
        self._running += 1
        try:
            result = await self._runner(job)
        except anyio.get_cancelled_exc_class():
            self._push(job)  # stopped mid-attempt: keep it for the caller to persist
            raise
        except Exception:
            log.exception("the retry of lead %s to %s failed unexpectedly", job.lead_id, job.buyer)
            return
        finally:
            self._running -= 1
            self._notify()
        if isinstance(result, Job):
            self._push(result)
            return
        if self.on_result is None:
            return
        try:
            maybe = self.on_result(job, result)
            if inspect.isawaitable(maybe):
                await maybe
        except Exception:
            log.exception("the result handler failed for lead %s to %s", job.lead_id, job.buyer)

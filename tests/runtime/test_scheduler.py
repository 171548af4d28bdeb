"""The in-memory retry scheduler, driven by a fake runner and the fake clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from engine.clock import FakeClock
from engine.plan import IntegrationPlan, RenderContext
from engine.runtime.outcome import Delivery, Outcome, Timings
from engine.runtime.scheduler import Job, Scheduler

pytestmark = pytest.mark.anyio


@pytest.fixture
def plan(runtime_plan: Callable[..., IntegrationPlan]) -> IntegrationPlan:
    return runtime_plan("direct")


def outcome(job: Job, kind: str = "accepted") -> Outcome:
    return Outcome(job.buyer, job.stage, kind, False, None, job.attempt, Timings(0.0))  # type: ignore[arg-type]


class Recorder:
    """A runner that records (lead, attempt, time) and retries each job ``retries`` times."""

    def __init__(self, clock: FakeClock, retries: int = 0, delay: float = 10.0) -> None:
        self.clock = clock
        self.retries = retries
        self.delay = delay
        self.calls: list[tuple[str, int, float]] = []

    async def __call__(self, job: Job) -> Job | Delivery:
        self.calls.append((job.lead_id, job.attempt, self.clock.now()))
        if job.attempt <= self.retries:
            failed = outcome(job, "server_error")
            return job.later(self.clock.now() + self.delay, (*job.previous, failed))
        return Delivery(outcome(job), (*job.previous, outcome(job)))


def add(s: Scheduler, plan: IntegrationPlan, lead: str, due: float, attempt: int = 2) -> Job:
    ctx = RenderContext({}, FakeClock().wall())
    return s.add(
        plan=plan, stage="post", ctx=ctx, env="test", lead_id=lead, attempt=attempt, due=due
    )


async def test_pending_is_ordered_by_due_time(fake_clock: FakeClock, plan: IntegrationPlan) -> None:
    """Jobs come out soonest first, whatever order they were added in."""
    s = Scheduler(fake_clock, Recorder(fake_clock))
    for lead, due in [("c", 30.0), ("a", 10.0), ("b", 20.0)]:
        add(s, plan, lead, due)
    assert [j.lead_id for j in s.pending] == ["a", "b", "c"]
    assert s.next_due == 10.0 and len(s) == 3


async def test_run_due_runs_only_what_is_due(fake_clock: FakeClock, plan: IntegrationPlan) -> None:
    """Nothing runs early; a due job runs once and its result reaches on_result."""
    runner = Recorder(fake_clock)
    results: list[Delivery] = []
    s = Scheduler(fake_clock, runner, on_result=lambda job, d: results.append(d))
    add(s, plan, "a", 5.0)
    add(s, plan, "b", 50.0)
    assert await s.run_due() == 0
    fake_clock.advance(5.0)
    assert await s.run_due() == 1
    assert runner.calls == [("a", 2, 5.0)] and len(results) == 1
    assert [j.lead_id for j in s.pending] == ["b"]


async def test_the_background_loop_follows_the_clock(
    fake_clock: FakeClock, plan: IntegrationPlan
) -> None:
    """run() sleeps on the clock to each due time; a retried job comes back later."""
    runner = Recorder(fake_clock, retries=2, delay=10.0)
    finished = anyio.Event()
    results: list[Delivery] = []

    async def on_result(job: Job, delivery: Delivery) -> None:
        results.append(delivery)
        finished.set()

    s = Scheduler(fake_clock, runner, on_result=on_result)
    async with anyio.create_task_group() as tg:
        tg.start_soon(s.run)
        add(s, plan, "a", 60.0, attempt=2)
        with anyio.fail_after(5):
            await finished.wait()
        tg.cancel_scope.cancel()
    assert runner.calls == [("a", 2, 60.0), ("a", 3, 70.0)]
    (delivery,) = results
    assert [o.kind for o in delivery.attempts] == ["server_error", "accepted"]


async def test_drain_runs_everything(fake_clock: FakeClock, plan: IntegrationPlan) -> None:
    """drain() waits and runs until nothing is left."""
    runner = Recorder(fake_clock, retries=3, delay=1.0)
    s = Scheduler(fake_clock, runner)
    add(s, plan, "a", 1.0, attempt=1)
    add(s, plan, "b", 2.0, attempt=3)
    await s.drain()
    assert len(s) == 0 and s.running == 0
    assert sorted(runner.calls) == [
        ("a", 1, 1.0),
        ("a", 2, 2.0),
        ("a", 3, 3.0),
        ("a", 4, 4.0),
        ("b", 3, 2.0),
        ("b", 4, 3.0),
    ]


async def test_cancel_drops_a_leads_jobs(fake_clock: FakeClock, plan: IntegrationPlan) -> None:
    """cancel(lead) removes that lead's waiting jobs only (for one buyer when named)."""
    s = Scheduler(fake_clock, Recorder(fake_clock))
    add(s, plan, "a", 1.0)
    add(s, plan, "a", 2.0)
    add(s, plan, "b", 3.0)
    assert s.cancel("a", buyer="someone-else") == 0
    assert s.cancel("a") == 2
    assert [j.lead_id for j in s.pending] == ["b"]


async def test_an_attempt_cut_short_stays_pending(
    fake_clock: FakeClock, plan: IntegrationPlan
) -> None:
    """Cancelling the loop mid-attempt puts the job back, so it is never lost."""
    started = anyio.Event()

    async def never(job: Job) -> Job | Delivery:
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    s = Scheduler(fake_clock, never)
    add(s, plan, "a", 0.0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(s.run)
        await started.wait()
        assert len(s) == 0 and s.running == 1
        tg.cancel_scope.cancel()
    assert [j.lead_id for j in s.pending] == ["a"] and s.running == 0


async def test_failures_of_runner_and_callback_are_logged_not_raised(
    fake_clock: FakeClock, plan: IntegrationPlan, caplog: pytest.LogCaptureFixture
) -> None:
    """A crashing runner or result handler is logged; the scheduler keeps going."""

    async def broken(job: Job) -> Job | Delivery:
        if job.lead_id == "boom":
            raise RuntimeError("bug")
        return Delivery(outcome(job), (outcome(job),))

    def bad_handler(job: Job, delivery: Any) -> None:
        raise ValueError("handler bug")

    s = Scheduler(fake_clock, broken, on_result=bad_handler)
    add(s, plan, "boom", 0.0)
    add(s, plan, "ok", 0.0)
    with caplog.at_level(logging.ERROR, logger="leadpost.scheduler"):
        assert await s.run_due() == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("lead boom" in m and "failed unexpectedly" in m for m in messages)
    assert any("result handler failed for lead ok" in m for m in messages)

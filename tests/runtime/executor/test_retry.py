"""Runtime.deliver: retries, Retry-After, scheduling long waits, freshness, through a fake clock."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import anyio
import pytest

from engine.clock import FakeClock
from engine.plan import IntegrationPlan, RenderContext, RetryPlan
from engine.runtime.executor import Runtime
from engine.runtime.outcome import Delivery
from engine.runtime.scheduler import Job
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

ENV = {"ACME_TOKEN": "tok-SECRET-123"}
ACCEPTED = Reply.json({"status": "accepted", "id": "A-1"})
PlanLoader = Callable[..., IntegrationPlan]


@pytest.fixture
async def rt(fake_clock: FakeClock) -> AsyncIterator[Runtime]:
    """A runtime on the fake clock whose jitter always picks half the backoff."""
    async with Runtime(clock=fake_clock, environ=ENV, rand=lambda: 0.5) as runtime:
        yield runtime


@pytest.fixture
def ctx(runtime_lead: dict[str, Any], fake_clock: FakeClock) -> RenderContext:
    return RenderContext(runtime_lead, fake_clock.wall())


def plan_with(loader: PlanLoader, **retry: Any) -> IntegrationPlan:
    return loader("direct", retry=RetryPlan(**retry))


async def deliver(rt: Runtime, plan: IntegrationPlan, ctx: RenderContext, **kw: Any) -> Delivery:
    return await rt.deliver(plan, "post", ctx, env="test", lead_id="L-1", **kw)


async def test_a_503_burst_is_recovered_by_retries(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """Three 503s then a sale: four attempts, backoff 2/4/8 s halved by the jitter."""
    buyer_server.script("/post", Reply(503), Reply(503), Reply(503), ACCEPTED)
    delivery = await deliver(rt, plan_with(runtime_plan), ctx)
    assert delivery.outcome.kind == "accepted" and not delivery.scheduled
    assert [o.kind for o in delivery.attempts] == ["server_error"] * 3 + ["accepted"]
    assert [o.attempt for o in delivery.attempts] == [1, 2, 3, 4]
    assert fake_clock.sleeps == [1.0, 2.0, 4.0]
    keys = {r.headers["idempotency-key"] for r in buyer_server.received("/post")}
    assert keys == {"L-1:acme-direct:post"}


async def test_a_400_is_never_retried(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """A client error ends the delivery after one request."""
    buyer_server.default("/post", Reply(400, b"bad zip"))
    delivery = await deliver(rt, plan_with(runtime_plan), ctx)
    assert delivery.outcome.kind == "client_error" and len(delivery.attempts) == 1
    assert len(buyer_server.received("/post")) == 1 and fake_clock.sleeps == []


@pytest.mark.parametrize(
    ("header", "waited"),
    [("3", 3.0), ("Mon, 01 Jan 2024 00:00:04 GMT", 4.0), ("4000", 60.0)],
    ids=["seconds", "http-date", "capped-at-max-delay"],
)
async def test_429_waits_the_buyers_time_capped(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
    header: str,
    waited: float,
) -> None:
    """Retry-After replaces the backoff but never exceeds max_delay."""
    buyer_server.script("/post", Reply(429, headers={"Retry-After": header}), ACCEPTED)
    plan = plan_with(runtime_plan, max_wait=120.0)
    delivery = await deliver(rt, plan, ctx)
    assert delivery.outcome.kind == "accepted"
    assert fake_clock.sleeps == [waited]


async def test_retry_after_3600_is_scheduled_not_awaited(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """A wait past max_wait returns at once as scheduled; the scheduler later completes it."""
    buyer_server.script("/post", Reply(429, headers={"Retry-After": "3600"}), ACCEPTED)
    results: list[tuple[Job, Delivery]] = []
    done = anyio.Event()

    def collect(job: Job, delivery: Delivery) -> None:
        results.append((job, delivery))
        done.set()

    rt.scheduler.on_result = collect
    delivery = await deliver(rt, plan_with(runtime_plan), ctx)
    assert delivery.scheduled and delivery.scheduled_at == 60.0
    assert delivery.outcome.kind == "rate_limited"
    assert fake_clock.now() == 0.0 and fake_clock.sleeps == []
    (job,) = rt.scheduler.pending
    assert (job.lead_id, job.buyer, job.attempt, job.due) == ("L-1", "acme-direct", 2, 60.0)
    with anyio.fail_after(5):
        await done.wait()
    (_, final) = results[0]
    assert final.outcome.kind == "accepted" and final.outcome.attempt == 2
    assert [o.kind for o in final.attempts] == ["rate_limited", "accepted"]
    assert fake_clock.now() >= 60.0 and rt.scheduler.pending == ()


async def test_a_retry_past_the_deadline_is_scheduled(
    rt: Runtime, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """In real time, a backoff that would end after the deadline goes to the scheduler."""
    buyer_server.script("/post", Reply(503))
    delivery = await deliver(rt, plan_with(runtime_plan, jitter="none"), ctx, deadline=1.0)
    assert delivery.scheduled_at == 2.0 and len(rt.scheduler) == 1


async def test_not_realtime_waits_in_line(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """Outside real time even a long wait is spent on the clock, not scheduled."""
    buyer_server.script("/post", Reply(429, headers={"Retry-After": "30"}), ACCEPTED)
    delivery = await deliver(rt, plan_with(runtime_plan), ctx, realtime=False)
    assert delivery.outcome.kind == "accepted" and fake_clock.sleeps == [30.0]


async def test_an_unknown_post_is_not_retried_by_default(
    rt: Runtime, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """A post that may have been kept is never sent again unless on_timeout says retry."""
    buyer_server.script("/post", Reply(reset="before"), ACCEPTED)
    delivery = await deliver(rt, runtime_plan("direct"), ctx)
    assert delivery.outcome.kind == "unknown" and len(delivery.attempts) == 1
    assert len(buyer_server.received("/post")) == 1


async def test_on_timeout_retry_sends_again(
    rt: Runtime, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """With on_timeout: retry, an unknown post is retried (with the same idempotency key)."""
    buyer_server.script("/post", Reply(reset="before"), ACCEPTED)
    delivery = await deliver(rt, plan_with(runtime_plan, on_timeout="retry"), ctx)
    assert [o.kind for o in delivery.attempts] == ["unknown", "accepted"]


async def test_attempts_stop_at_max_attempts(
    rt: Runtime, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """max_attempts counts every attempt; the Delivery says why it stopped."""
    buyer_server.default("/post", Reply(500))
    delivery = await deliver(rt, plan_with(runtime_plan, max_attempts=3), ctx)
    assert len(delivery.attempts) == 3 and delivery.outcome.kind == "server_error"
    assert delivery.gave_up == "all 3 attempts were used"


async def test_an_old_lead_is_not_retried(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """Freshness: a lead older than give_up_after (from its timestamp) gets no more attempts."""
    buyer_server.default("/post", Reply(503))
    old = dataclasses.replace(ctx, now=fake_clock.wall() - timedelta(hours=2))
    delivery = await deliver(rt, plan_with(runtime_plan), old)
    assert len(delivery.attempts) == 1
    assert delivery.gave_up and "older than 3600 seconds" in delivery.gave_up


async def test_pending_jobs_survive_the_runtime(
    fake_clock: FakeClock, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """Stopping the runtime keeps unsent retries in scheduler.pending for the caller."""
    buyer_server.script("/post", Reply(429, headers={"Retry-After": "3600"}))
    runtime = Runtime(clock=fake_clock, environ=ENV)
    async with runtime:
        await deliver(runtime, plan_with(runtime_plan), ctx)
    (job,) = runtime.scheduler.pending
    assert job.attempt == 2 and len(buyer_server.received("/post")) == 1

"""Deadlines: a ping returns at its deadline whatever the buyer does; a post cut short: unknown."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from engine.clock import SystemClock
from engine.plan import IntegrationPlan, RenderContext
from engine.runtime.executor import Runtime
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

ENV = {"BEACON_KEY": "key"}
PlanLoader = Callable[..., IntegrationPlan]
BID = Reply.json({"status": "bid", "bid": "12.50", "ping_id": 98765})


@pytest.fixture
async def rt() -> AsyncIterator[Runtime]:
    async with Runtime(clock=SystemClock(), environ=ENV) as runtime:
        yield runtime


@pytest.fixture
def ctx(runtime_lead: dict[str, Any]) -> RenderContext:
    return RenderContext(runtime_lead, SystemClock().wall())


@pytest.fixture
def plan(runtime_plan: PlanLoader) -> IntegrationPlan:
    return runtime_plan("pingpost")


async def test_a_sleeping_buyer_cannot_hold_a_ping_past_its_deadline(
    rt: Runtime, plan: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """The buyer sleeps 60 s; the ping returns "late" at its 100 ms deadline (the bound below
    only shows it did not wait for the buyer; it holds on any machine)."""
    buyer_server.script("/ping", Reply.json({"status": "bid", "bid": "9"}, delay=60.0))
    started = time.perf_counter()
    outcome = await rt.send(
        plan, "ping", ctx, env="test", lead_id="L-1", deadline=rt.clock.now() + 0.1
    )
    elapsed = time.perf_counter() - started
    assert outcome.kind == "late" and not outcome.retryable and not outcome.sent
    assert outcome.values == {} and outcome.status is None
    assert 0.09 <= elapsed < 30.0
    assert outcome.reason and "deadline" in outcome.reason


async def test_after_a_late_ping_the_next_one_is_answered(
    rt: Runtime, plan: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """The abandoned request does not poison the connection pool. (The first ping's deadline
    leaves time to connect and send even on a loaded machine: it must reach the buyer.)"""
    buyer_server.script("/ping", Reply(hang=True), BID)
    late = await rt.send(
        plan, "ping", ctx, env="test", lead_id="L-1", deadline=rt.clock.now() + 1.0
    )
    assert late.kind == "late" and len(buyer_server.received()) == 1
    bid = await rt.send(plan, "ping", ctx, env="test", lead_id="L-2", deadline=rt.clock.now() + 5)
    assert (late.kind, bid.kind) == ("late", "accepted")
    assert str(bid.price) == "12.50" and bid.values["ping_id"] == 98765


async def test_a_post_cut_by_the_deadline_is_unknown(
    rt: Runtime, plan: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """A post that was sent and not answered by the deadline may have been kept: unknown. (The
    deadline leaves time to connect and send even on a loaded machine; the buyer never answers,
    so returning at all shows the deadline cut it.)"""
    buyer_server.script("/post", Reply(hang=True))
    prior = RenderContext(ctx.lead, ctx.now, {"ping": {"ping_id": 1}})
    outcome = await rt.send(
        plan, "post", prior, env="test", lead_id="L-1", deadline=rt.clock.now() + 1.0
    )
    assert outcome.kind == "unknown" and outcome.sent
    assert outcome.reason and "deadline" in outcome.reason


async def test_a_deadline_already_past_sends_nothing(
    rt: Runtime, plan: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """No time left: late at once, no request."""
    outcome = await rt.send(plan, "ping", ctx, env="test", lead_id="L-1", deadline=rt.clock.now())
    assert outcome.kind == "late" and buyer_server.received() == []


def test_a_loop_with_millisecond_timers_gets_slack_on_deadlines() -> None:
    """uvloop (what ``leadpost serve`` runs on) keeps whole milliseconds and fires timers up to
    about one early: an attempt's timer gets COARSE_TIMER_SLACK there, and none on asyncio's
    own loops, whose timers fire on time."""
    import asyncio

    import uvloop

    from engine.runtime.executor import COARSE_TIMER_SLACK, timer_slack

    plain, coarse = asyncio.new_event_loop(), uvloop.new_event_loop()
    try:
        assert timer_slack(plain) == 0.0
        assert timer_slack(coarse) == COARSE_TIMER_SLACK > 0.001
    finally:
        plain.close()
        coarse.close()


async def test_a_request_whose_turn_comes_after_its_deadline_is_not_sent(
    plan: IntegrationPlan, ctx: RenderContext
) -> None:
    """A buyer taking one request at a time: the second ping waits for the first, and its turn
    comes after its deadline (on the fake clock; its timer, 30 s of real time away, has not
    fired). It returns late and never leaves: on uvloop a timer may fire up to 2 ms after the
    deadline (COARSE_TIMER_SLACK), and nothing may be sent in that window."""
    import asyncio

    from engine.clock import FakeClock
    from engine.runtime.outcome import Outcome
    from engine.runtime.timing import Phases
    from engine.runtime.wire import WireAnswer, WireRequest

    class Held:
        def __init__(self) -> None:
            self.sent: list[str] = []
            self.go = asyncio.Event()

        async def send(self, request: WireRequest, phases: Phases) -> WireAnswer:
            self.sent.append(request.url)
            await self.go.wait()
            body = b'{"status": "bid", "bid": "12.50", "ping_id": 98765}'
            return WireAnswer(200, (("Content-Type", "application/json"),), body)

        async def aclose(self) -> None:
            return None

    clock, wire = FakeClock(), Held()
    one_at_a_time = dataclasses.replace(plan, concurrency=1)
    async with Runtime(clock=clock, environ=ENV, wire=wire) as runtime:

        async def ping(lead_id: str) -> Outcome:
            return await runtime.send(
                one_at_a_time, "ping", ctx, env="test", lead_id=lead_id, deadline=30.0
            )

        first = asyncio.create_task(ping("L-1"))
        while not wire.sent:
            await asyncio.sleep(0)
        second = asyncio.create_task(ping("L-2"))
        await asyncio.sleep(0)
        clock.advance(31.0)  # past both deadlines; then the first answer frees the slot
        wire.go.set()
        late = await second
        await first
    assert late.kind == "late" and late.reason is not None
    assert "nothing sent" in late.reason
    assert len(wire.sent) == 1

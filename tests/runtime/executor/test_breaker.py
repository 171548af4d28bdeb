"""The circuit breaker in the executor: opens on failures, sends nothing while open, probes once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from engine.clock import FakeClock
from engine.plan import BreakerPlan, IntegrationPlan, RenderContext
from engine.runtime.executor import Runtime
from engine.runtime.outcome import Outcome
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

ENV = {"ACME_TOKEN": "tok"}
PlanLoader = Callable[..., IntegrationPlan]
ACCEPTED = Reply.json({"status": "accepted"})


@pytest.fixture
async def rt(fake_clock: FakeClock) -> AsyncIterator[Runtime]:
    async with Runtime(clock=fake_clock, environ=ENV) as runtime:
        yield runtime


@pytest.fixture
def ctx(runtime_lead: dict[str, Any], fake_clock: FakeClock) -> RenderContext:
    return RenderContext(runtime_lead, fake_clock.wall())


@pytest.fixture
def plan(runtime_plan: PlanLoader) -> IntegrationPlan:
    return runtime_plan("direct", breaker=BreakerPlan(consecutive_failures=3, cooldown=30.0))


async def send(rt: Runtime, plan: IntegrationPlan, ctx: RenderContext) -> Outcome:
    return await rt.send(plan, "post", ctx, env="test", lead_id="L-1")


async def test_open_close_cycle(
    rt: Runtime,
    plan: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """Three 503s open it; while open nothing is sent; after the cooldown one probe closes it."""
    buyer_server.default("/post", Reply(503))
    assert [(await send(rt, plan, ctx)).kind for _ in range(3)] == ["server_error"] * 3
    breaker = rt.breaker_for(plan, "test")
    assert breaker.state == "open"
    blocked = await send(rt, plan, ctx)
    assert (blocked.kind, blocked.sent, blocked.retryable) == ("circuit_open", False, False)
    assert blocked.reason and "30 more seconds" in blocked.reason
    assert len(buyer_server.received("/post")) == 3
    fake_clock.advance(30.0)
    buyer_server.default("/post", ACCEPTED)
    assert (await send(rt, plan, ctx)).kind == "accepted"
    assert rt.breaker_for(plan, "test").state == "closed"
    assert len(buyer_server.received("/post")) == 4


async def test_exactly_one_probe_while_half_open(
    rt: Runtime,
    plan: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """After the cooldown, concurrent leads: one probe goes out, the others fail fast."""
    buyer_server.default("/post", Reply(500))
    for _ in range(3):
        await send(rt, plan, ctx)
    fake_clock.advance(30.0)
    buyer_server.default("/post", Reply.json({"status": "accepted"}, delay=0.2))
    kinds: list[str] = []

    async def one() -> None:
        kinds.append((await send(rt, plan, ctx)).kind)

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(one)
    assert sorted(kinds) == ["accepted"] + ["circuit_open"] * 4
    assert len(buyer_server.received("/post")) == 4


async def test_a_failed_probe_reopens(
    rt: Runtime,
    plan: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    fake_clock: FakeClock,
) -> None:
    """A probe that fails opens the breaker for another cooldown."""
    buyer_server.default("/post", Reply(502))
    for _ in range(3):
        await send(rt, plan, ctx)
    fake_clock.advance(30.0)
    assert (await send(rt, plan, ctx)).kind == "server_error"
    assert (await send(rt, plan, ctx)).kind == "circuit_open"
    assert len(buyer_server.received("/post")) == 4


async def test_client_errors_and_invalid_leads_do_not_open_it(
    rt: Runtime, plan: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """4xx answers count as the endpoint working; refused leads are not counted at all."""
    buyer_server.default("/post", Reply(400))
    for _ in range(5):
        assert (await send(rt, plan, ctx)).kind == "client_error"
    assert rt.breaker_for(plan, "test").state == "closed"


async def test_each_environment_has_its_own_breaker(rt: Runtime, plan: IntegrationPlan) -> None:
    """Breakers are per endpoint: buyer and environment."""
    assert rt.breaker_for(plan, "test") is rt.breaker_for(plan, "test")
    assert rt.breaker_for(plan, "test") is not rt.breaker_for(plan, "production")
    assert rt.breaker_for(plan, "test").name == "acme-direct/test"

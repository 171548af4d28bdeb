"""Auth in the executor: one OAuth token for many leads, refresh on 401, token endpoint failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from engine.clock import FakeClock
from engine.plan import IntegrationPlan, RenderContext, RetryPlan
from engine.runtime.executor import Runtime
from engine.runtime.outcome import Outcome
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

ENV = {"OAUTH_ID": "client", "OAUTH_SECRET": "s3cret"}
PlanLoader = Callable[..., IntegrationPlan]


@pytest.fixture
def oauth(buyer_server: BuyerServer, fake_clock: FakeClock) -> BuyerServer:
    """The buyer with a token endpoint and a protected /post, on the fake clock."""
    buyer_server.clock = fake_clock.now
    buyer_server.enable_oauth(clients={"client": "s3cret"}, expires_in=3600)
    buyer_server.protect("/post")
    buyer_server.default("/post", Reply.json({"status": "accepted"}))
    return buyer_server


@pytest.fixture
async def rt(fake_clock: FakeClock) -> AsyncIterator[Runtime]:
    async with Runtime(clock=fake_clock, environ=ENV, rand=lambda: 0.5) as runtime:
        yield runtime


@pytest.fixture
def ctx(runtime_lead: dict[str, Any], fake_clock: FakeClock) -> RenderContext:
    return RenderContext(runtime_lead, fake_clock.wall())


async def test_one_token_for_a_thousand_concurrent_leads(
    rt: Runtime, oauth: BuyerServer, runtime_plan: PlanLoader, ctx: RenderContext
) -> None:
    """1,000 leads sent at once share one token request, and all are accepted."""
    plan = runtime_plan("oauth")
    outcomes: list[Outcome] = []

    async def one(i: int) -> None:
        outcomes.append(await rt.send(plan, "post", ctx, env="test", lead_id=f"L-{i}"))

    async with anyio.create_task_group() as tg:
        for i in range(1000):
            tg.start_soon(one, i)
    assert oauth.token_requests == 1
    assert {o.kind for o in outcomes} == {"accepted"} and len(outcomes) == 1000
    assert len(oauth.received("/post")) == 1000


async def test_an_expired_token_is_refreshed_once_and_resent(
    rt: Runtime, oauth: BuyerServer, runtime_plan: PlanLoader, ctx: RenderContext
) -> None:
    """A 401 drops the token, fetches one new token and resends once: the lead is accepted."""
    plan = runtime_plan("oauth")
    first = await rt.send(plan, "post", ctx, env="test", lead_id="L-1")
    oauth.expire_tokens()
    second = await rt.send(plan, "post", ctx, env="test", lead_id="L-2")
    assert (first.kind, second.kind) == ("accepted", "accepted")
    assert oauth.token_requests == 2
    statuses = [r.token_client for r in oauth.received("/post")]
    assert statuses == ["client", None, "client"]  # the refused request carried no valid token


async def test_a_401_after_the_refresh_is_auth(
    rt: Runtime, oauth: BuyerServer, runtime_plan: PlanLoader, ctx: RenderContext
) -> None:
    """When the buyer refuses the fresh token too, the outcome is auth (sent twice, no more)."""
    oauth.script("/post", Reply(401), Reply(401))
    outcome = await rt.send(runtime_plan("oauth"), "post", ctx, env="test", lead_id="L-1")
    assert outcome.kind == "auth" and outcome.status == 401
    assert len(oauth.received("/post")) == 2 and oauth.token_requests == 2


async def test_a_failing_token_endpoint_is_auth_and_retried(
    rt: Runtime,
    oauth: BuyerServer,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    fake_clock: FakeClock,
) -> None:
    """The token endpoint fails: kind auth, retryable, nothing sent; the retry delivers it."""
    oauth.script("/oauth/token", Reply(500))
    delivery = await rt.deliver(runtime_plan("oauth"), "post", ctx, env="test", lead_id="L-1")
    first, last = delivery.attempts
    assert (first.kind, first.retryable, first.sent) == ("auth", True, False)
    assert first.reason and "token endpoint" in first.reason and "HTTP 500" in first.reason
    assert last.kind == "accepted" and fake_clock.sleeps == [1.0]
    assert len(oauth.received("/post")) == 1


async def test_a_failing_token_endpoint_queues_the_lead(
    rt: Runtime, oauth: BuyerServer, runtime_plan: PlanLoader, ctx: RenderContext
) -> None:
    """When the retry cannot wait in line, the lead is queued in the scheduler, never lost."""
    oauth.script("/oauth/token", Reply(503))
    plan = runtime_plan("oauth", retry=RetryPlan(interval=30.0, jitter="none"))
    delivery = await rt.deliver(plan, "post", ctx, env="test", lead_id="L-1")
    assert delivery.outcome.kind == "auth" and delivery.scheduled
    assert [j.lead_id for j in rt.scheduler.pending] == ["L-1"]

"""The Runtime's own parts: per-buyer concurrency, an injected client, where secrets come from."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from engine.clock import FakeClock
from engine.plan import IntegrationPlan, RenderContext, SecretRef, Template
from engine.runtime.executor import Runtime
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

PlanLoader = Callable[..., IntegrationPlan]
ENV = {"ACME_TOKEN": "tok"}


@pytest.fixture
def ctx(runtime_lead: dict[str, Any], fake_clock: FakeClock) -> RenderContext:
    return RenderContext(runtime_lead, fake_clock.wall())


async def test_concurrency_is_limited_per_buyer(
    fake_clock: FakeClock, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """With concurrency 2, ten leads at once use at most two connections to the buyer."""
    plan = runtime_plan("direct", concurrency=2)
    buyer_server.default("/post", Reply.json({"status": "accepted"}, delay=0.05))
    async with Runtime(clock=fake_clock, environ=ENV) as rt, anyio.create_task_group() as tg:

        async def one(i: int) -> None:
            await rt.send(plan, "post", ctx, env="test", lead_id=f"L{i}")

        for i in range(10):
            tg.start_soon(one, i)
    received = buyer_server.received("/post")
    assert len(received) == 10
    assert len({r.connection for r in received}) <= 2


async def test_an_injected_client_is_used_and_left_open(
    fake_clock: FakeClock, runtime_plan: PlanLoader, ctx: RenderContext
) -> None:
    """Runtime(client=...) sends through that client (here a mock transport) and never closes
    it."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "accepted", "id": "M-1"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        async with Runtime(client=client, clock=fake_clock, environ=ENV) as rt:
            outcome = await rt.send(runtime_plan("direct"), "post", ctx, env="test", lead_id="L")
        assert not client.is_closed
    assert outcome.kind == "accepted" and outcome.buyer_lead_id == "M-1"
    assert json.loads(seen[0].content)["state"] == "TX"


async def test_header_secrets_come_from_the_runtime_environment(
    fake_clock: FakeClock, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """A context without its own environment renders ${env:...} headers from the runtime's;
    the logged exchange shows the reference, not the value."""
    plan = runtime_plan("direct")
    stage = plan.stages["post"]
    header = ("X-Partner", Template(("p-", SecretRef("PARTNER"))))
    request = dataclasses.replace(stage.request, headers=(*stage.request.headers, header))
    plan = dataclasses.replace(plan, stages={"post": dataclasses.replace(stage, request=request)})
    async with Runtime(clock=fake_clock, environ={**ENV, "PARTNER": "xyz"}) as rt:
        outcome = await rt.send(plan, "post", ctx, env="test", lead_id="L")
    assert buyer_server.received("/post")[0].headers["x-partner"] == "p-xyz"
    assert outcome.exchange is not None
    assert ("X-Partner", "p-${env:PARTNER}") in outcome.exchange.request_headers


async def test_an_address_check_refuses_before_dialling(
    fake_clock: FakeClock, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """Runtime(check=...) is asked about every address dialled: a refused one is a transport
    outcome with the check's reason, retryable, and the buyer receives nothing."""

    def refuse(address: str) -> str | None:
        return "127.0.0.1 is not a buyer" if address == "127.0.0.1" else None

    async with Runtime(clock=fake_clock, environ=ENV, check=refuse) as rt:
        outcome = await rt.send(runtime_plan("direct"), "post", ctx, env="test", lead_id="L")
    assert (outcome.kind, outcome.sent, outcome.retryable) == ("transport", False, True)
    assert outcome.reason and "127.0.0.1 is not a buyer" in outcome.reason
    assert buyer_server.received() == []


class RefusingJournal:
    """A journal whose intent write fails (as a store that lost the lead's claim does)."""

    def __init__(self) -> None:
        self.intents: list[tuple[str, str, int]] = []

    async def sending(
        self, lead_id: str, buyer: str, stage: str, attempt: int, key: str | None
    ) -> None:
        self.intents.append((lead_id, stage, attempt))
        raise LookupError("claim lost")

    def answered(self, lead_id: str, outcome: object) -> None:
        raise AssertionError("no outcome for an attempt that never left")


async def test_a_failing_intent_write_propagates_and_nothing_is_sent(
    fake_clock: FakeClock, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """The runtime awaits journal.sending before a post leaves; whatever it raises reaches the
    caller unchanged, and the buyer receives nothing. Pings never touch the journal."""
    journal = RefusingJournal()
    async with Runtime(clock=fake_clock, environ=ENV, journal=journal) as rt:
        with pytest.raises(LookupError, match="claim lost"):
            await rt.send(runtime_plan("direct"), "post", ctx, env="test", lead_id="L")
    assert journal.intents == [("L", "post", 1)]
    assert buyer_server.received() == []

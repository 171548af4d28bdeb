"""Connections to buyers can be opened before the first lead, so pings do not pay to connect."""

from __future__ import annotations

from typing import Any

import pytest

from engine.clock import FakeClock
from engine.plan import RenderContext
from engine.runtime.executor import Runtime
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio


async def test_prewarm_opens_the_connection_the_first_lead_uses(
    runtime_plan: Any,
    runtime_lead: dict[str, Any],
    fake_clock: FakeClock,
    buyer_server: BuyerServer,
) -> None:
    """Two buyers on one host: one HEAD opens one connection; the post then reuses it."""
    direct, pingpost = runtime_plan("direct"), runtime_plan("pingpost")
    buyer_server.script("/post", Reply.json({"status": "accepted", "id": "A-1"}))
    environ = {"ACME_TOKEN": "tok-SECRET-123", "BEACON_KEY": "key-SECRET-456"}
    async with Runtime(clock=fake_clock, environ=environ) as runtime:
        assert await runtime.prewarm([direct, pingpost, direct], "test") == 1
        ctx = RenderContext(runtime_lead, fake_clock.wall())
        outcome = await runtime.send(direct, "post", ctx, env="test", lead_id="L-1")
    head, post = buyer_server.received()
    assert (head.method, post.method) == ("HEAD", "POST")
    assert head.connection == post.connection
    assert outcome.timings.connect == 0.0


async def test_prewarm_skips_buyers_without_the_environment(
    runtime_plan: Any, fake_clock: FakeClock
) -> None:
    """A buyer with no such environment is passed over; nothing fails."""
    async with Runtime(clock=fake_clock) as runtime:
        assert await runtime.prewarm([runtime_plan("direct")], "production") == 0

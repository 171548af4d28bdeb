"""The prepared target: worked out once per plan, stage and environment, never keeping lead data."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.plan import IntegrationPlan, RenderContext
from engine.runtime.auth import OAuth2ClientCredentials, StaticAuth
from engine.runtime.executor import Runtime
from engine.runtime.target import plain_http_problem, secret_names
from engine.runtime.wire_aiohttp import AiohttpWire
from tests.buyer_server import BuyerServer

pytestmark = pytest.mark.anyio

ENV = {"ACME_TOKEN": "t-123", "OAUTH_ID": "client", "OAUTH_SECRET": "s3cret"}
PlanLoader = Callable[..., IntegrationPlan]


async def test_one_target_per_plan_stage_and_environment(
    runtime_plan: PlanLoader, fake_clock: FakeClock
) -> None:
    """The same plan reuses its target; a reloaded plan (a new object) gets a fresh one."""
    plan = runtime_plan("direct")
    async with Runtime(clock=fake_clock, environ=ENV) as rt:
        first = rt._target(plan, "post", "test")
        assert first is not None and rt._target(plan, "post", "test") is first
        reloaded = dataclasses.replace(plan)
        again = rt._target(reloaded, "post", "test")
        assert again is not None and again is not first and again.plan is reloaded
        assert rt._target(plan, "nope", "test") is None
        assert rt._target(plan, "post", "nope") is None


async def test_static_credentials_are_applied_by_the_executor(
    runtime_plan: PlanLoader, fake_clock: FakeClock
) -> None:
    """A bearer plan's headers are static credentials; an OAuth plan's come from the token
    cache; the needed secrets are known without reading the environment."""
    async with Runtime(clock=fake_clock, environ=ENV) as rt:
        static = rt._target(runtime_plan("direct"), "post", "test")
        oauth = rt._target(runtime_plan("oauth"), "post", "test")
    assert static is not None and isinstance(static.static, StaticAuth)
    assert static.oauth is None
    assert oauth is not None and oauth.static is None
    assert isinstance(oauth.oauth, OAuth2ClientCredentials)
    assert secret_names(runtime_plan("direct")) == ("ACME_TOKEN",)
    assert static.missing_secret({}) == "ACME_TOKEN"
    assert static.missing_secret(ENV) is None


def test_only_urls_without_a_query_are_kept() -> None:
    """The aiohttp wire keeps a parsed URL without a query; one with a query (it may carry lead
    data) is never kept; an encoded URL is sent as rendered (not re-quoted)."""
    wire = AiohttpWire(
        limit=1,
        limit_per_host=1,
        ttl_dns_cache=1,
        keepalive=1,
        ssl=None,
        user_agent="t",
    )
    plain = wire._url("http://127.0.0.1:9/post")
    assert wire._url("http://127.0.0.1:9/post") is plain
    with_query = wire._url("http://127.0.0.1:9/post?email=a%40b.com")
    assert with_query.raw_query_string == "email=a%40b.com"
    assert list(wire._urls) == ["http://127.0.0.1:9/post"]


async def test_bearer_header_is_sent_and_masked(
    runtime_plan: PlanLoader,
    buyer_server: BuyerServer,
    runtime_lead: dict[str, Any],
    fake_clock: FakeClock,
) -> None:
    """Applying the credentials in the executor still sends them, and the logged exchange
    still hides them."""
    plan = runtime_plan("direct")
    ctx = RenderContext(runtime_lead, fake_clock.wall())
    async with Runtime(clock=fake_clock, environ=ENV) as rt:
        outcome = await rt.send(plan, "post", ctx, env="test", lead_id="L-1")
    assert buyer_server.received()[0].headers["authorization"] == "Bearer t-123"
    assert outcome.exchange is not None
    shown = dict(outcome.exchange.request_headers)
    assert "t-123" not in str(outcome.exchange)
    assert shown["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://127.0.0.1:8701/leads", False),
        ("http://localhost:8701/leads", False),
        ("http://[::1]:8701/leads", False),
        ("https://api.buyer.example/leads", False),
        ("http://api.buyer.example/leads", True),
        ("http://10.0.0.5/leads", True),
    ],
)
def test_plain_http_only_to_this_machine(
    runtime_plan: Callable[..., IntegrationPlan], url: str, refused: bool
) -> None:
    """TLS always, except to a buyer simulated on loopback: any environment, production or not."""
    plan = runtime_plan("direct")
    environment = dataclasses.replace(plan.environments["test"], url=url)
    problem = plain_http_problem(plan, environment)
    assert (problem is not None) == refused
    if refused:
        assert problem is not None and problem.startswith(f"{url} is plain http:// to another")


async def test_plain_http_to_another_machine_is_refused_unsent(
    runtime_plan: Callable[..., IntegrationPlan],
    runtime_lead: dict[str, Any],
    fake_clock: FakeClock,
) -> None:
    """The runtime itself refuses it (lint may have been skipped): kind invalid, no request."""
    plan = runtime_plan("direct")
    remote = dataclasses.replace(plan.environments["test"], url="http://192.0.2.10/leads")
    plan = dataclasses.replace(plan, environments={"test": remote})
    async with Runtime(clock=fake_clock, environ={"ACME_TOKEN": "t"}) as runtime:
        ctx = RenderContext(runtime_lead, fake_clock.wall())
        outcome = await runtime.send(plan, "post", ctx, env="test", lead_id="L-1")
    assert (outcome.kind, outcome.retryable, outcome.exchange) == ("invalid", False, None)
    assert outcome.reason is not None and outcome.reason.endswith("nothing was sent")

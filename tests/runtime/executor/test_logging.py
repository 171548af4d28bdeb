"""Every attempt is one structured log record; no personal value or secret is ever logged."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.plan import ApiKeyAuth, IntegrationPlan, RenderContext, SecretRef, Template
from engine.runtime.executor import Runtime
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

SECRETS = {"ACME_TOKEN": "tok-SECRET-123", "BEACON_KEY": "key-SECRET-456"}
PII = ["john.smith@gmail.com", "John", "Smith", "5125550142", "555-0142", "123 Main St"]
PlanLoader = Callable[..., IntegrationPlan]


@pytest.fixture
async def rt(fake_clock: FakeClock) -> AsyncIterator[Runtime]:
    async with Runtime(clock=fake_clock, environ=SECRETS) as runtime:
        yield runtime


@pytest.fixture
def ctx(runtime_lead: dict[str, Any], fake_clock: FakeClock) -> RenderContext:
    return RenderContext(runtime_lead, fake_clock.wall(), {"ping": {"ping_id": 7}})


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every message and every attribute of every record, as text."""
    return "\n".join(
        f"{r.getMessage()} {[repr(v) for v in vars(r).values()]}" for r in caplog.records
    )


def assert_clean(text: str) -> None:
    for value in [*PII, *SECRETS.values()]:
        assert value.lower() not in text.lower(), f"{value!r} was logged"


ECHO = {"status": "rejected", "message": "John Smith (john.smith@gmail.com) is already ours"}


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply.json(ECHO), id="rejected-echoing-pii"),
        pytest.param(Reply.json(ECHO, 400), id="client-error-echoing-pii"),
        pytest.param(Reply(hang=True), id="timeout"),
    ],
)
async def test_no_pii_or_secret_in_any_log_record(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    caplog: pytest.LogCaptureFixture,
    reply: Reply,
) -> None:
    """The request body, the buyer's answer and its reason are masked; auth headers hidden."""
    caplog.set_level(logging.DEBUG)
    buyer_server.script("/post", reply)
    outcome = await rt.send(
        runtime_plan("direct"), "post", ctx, env="test", lead_id="L-1", deadline=0.5
    )
    text = everything_logged(caplog)
    assert_clean(text)
    assert "j***@gmail.com" in text and "***0142" in text and "J***" in text
    assert outcome.exchange is not None
    assert ("Authorization", "Bearer ***") in outcome.exchange.request_headers
    assert_clean(repr(outcome))


async def test_the_record_carries_structured_fields(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One record per attempt on leadpost.delivery with lead, buyer, stage, kind, status, ms."""
    caplog.set_level(logging.INFO, logger="leadpost.delivery")
    buyer_server.script("/post", Reply(503))
    await rt.send(runtime_plan("direct"), "post", ctx, env="test", lead_id="L-9", attempt=2)
    (record,) = [r for r in caplog.records if r.name == "leadpost.delivery"]
    fields = {k: getattr(record, k) for k in ("lead_id", "buyer", "stage", "attempt", "kind")}
    assert fields == {
        "lead_id": "L-9",
        "buyer": "acme-direct",
        "stage": "post",
        "attempt": 2,
        "kind": "server_error",
    }
    assert record.status == 503 and record.ms >= 0  # type: ignore[attr-defined]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("lead L-9 to acme-direct, post attempt 2: server_error")


async def test_api_keys_in_headers_and_query_strings_are_hidden(
    rt: Runtime,
    runtime_plan: PlanLoader,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A key sent in a header or as a query parameter never reaches a log, httpx's included."""
    caplog.set_level(logging.DEBUG)
    key = Template((SecretRef("BEACON_KEY"),))
    ping = runtime_plan("pingpost")
    by_query = dataclasses.replace(ping, auth=ApiKeyAuth("query", "api_key", key))
    header = await rt.send(ping, "ping", ctx, env="test", lead_id="L-1")
    query = await rt.send(by_query, "ping", ctx, env="test", lead_id="L-1")
    first, second = buyer_server.received("/ping")
    assert first.headers["x-api-key"] == "key-SECRET-456" and "key-SECRET-456" in second.query
    assert header.exchange and ("X-Api-Key", "${env:BEACON_KEY}") in header.exchange.request_headers
    assert query.exchange and query.exchange.url.endswith("?api_key=***")
    assert_clean(everything_logged(caplog))

"""Runtime.send: every outcome class, against the real loopback test buyer."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.plan import IntegrationPlan, RenderContext, RetryPlan, Timeouts
from engine.runtime.executor import Runtime
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

ENV = {"ACME_TOKEN": "tok-SECRET-123", "BEACON_KEY": "key-SECRET-456"}
PlanLoader = Callable[..., IntegrationPlan]


def with_timeouts(plan: IntegrationPlan, stage: str, **seconds: float) -> IntegrationPlan:
    """The plan with other timeouts for one stage."""
    sp = plan.stages[stage]
    request = dataclasses.replace(sp.request, timeouts=Timeouts(**seconds))
    stages = {**plan.stages, stage: dataclasses.replace(sp, request=request)}
    return dataclasses.replace(plan, stages=stages)


@pytest.fixture
async def rt(fake_clock: FakeClock) -> AsyncIterator[Runtime]:
    async with Runtime(clock=fake_clock, environ=ENV) as runtime:
        yield runtime


@pytest.fixture
def ctx(runtime_lead: dict[str, Any], fake_clock: FakeClock) -> RenderContext:
    return RenderContext(runtime_lead, fake_clock.wall())


@pytest.fixture
def direct(runtime_plan: PlanLoader) -> IntegrationPlan:
    return runtime_plan("direct")


async def post(rt: Runtime, plan: IntegrationPlan, ctx: RenderContext, **kw: Any) -> Any:
    return await rt.send(plan, "post", ctx, env="test", lead_id="L-1", **kw)


async def test_accepted_with_values_timings_and_evidence(
    rt: Runtime, direct: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """A sold lead: kind accepted, extracted values, timings and the masked exchange."""
    buyer_server.script("/post", Reply.json({"status": "accepted", "id": "A-77"}))
    outcome = await post(rt, direct, ctx)
    assert (outcome.kind, outcome.status, outcome.retryable) == ("accepted", 200, False)
    assert outcome.buyer_lead_id == "A-77" and outcome.attempt == 1
    assert outcome.timings.total > 0 and outcome.timings.wait is not None
    assert outcome.timings.read is not None
    ex = outcome.exchange
    assert ex is not None and ex.status == 200 and "A-77" in ex.response_body
    assert ex.url == buyer_server.url + "/post"
    assert '"state":"TX"' in ex.request_body
    (got,) = buyer_server.received("/post")
    assert got.json()["email"] == "john.smith@gmail.com"
    assert got.headers["authorization"] == "Bearer tok-SECRET-123"


@pytest.mark.parametrize(
    ("answer", "kind", "reason"),
    [
        pytest.param({"status": "rejected", "message": "outside area"}, "rejected", "outside area"),
        pytest.param({"status": "duplicate"}, "duplicate", None, id="duplicate"),
        pytest.param({"status": "maybe"}, "bad_response", "response matched no rule"),
    ],
)
async def test_application_level_answers(
    rt: Runtime,
    direct: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    answer: dict[str, str],
    kind: str,
    reason: str | None,
) -> None:
    """A 200 is classified by the response rules; a 200 no rule matches is bad_response."""
    buyer_server.script("/post", Reply.json(answer))
    outcome = await post(rt, direct, ctx)
    assert outcome.kind == kind and not outcome.retryable
    assert outcome.reason == reason or (reason and reason in (outcome.reason or ""))


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, "client_error", False),
        (403, "client_error", False),
        (404, "client_error", False),
        (401, "auth", True),
        (500, "server_error", True),
        (503, "server_error", True),
    ],
)
async def test_http_statuses(
    rt: Runtime,
    direct: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    status: int,
    kind: str,
    retryable: bool,
) -> None:
    """Error statuses without a deciding rule: 4xx not retried, 401 auth, 5xx retryable."""
    buyer_server.script("/post", Reply.json({"message": "nope"}, status))
    outcome = await post(rt, direct, ctx)
    assert (outcome.kind, outcome.status, outcome.retryable) == (kind, status, retryable)
    assert outcome.reason is not None and f"HTTP {status}" in outcome.reason
    assert "nope" in outcome.reason


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("Mon, 01 Jan 2024 00:00:30 GMT", 30.0)],
    ids=["seconds", "http-date"],
)
async def test_rate_limited_carries_retry_after(
    rt: Runtime,
    direct: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    header: str,
    seconds: float,
) -> None:
    """429 is rate_limited; Retry-After in seconds or as a date (from the clock's wall time)."""
    buyer_server.script("/post", Reply(429, headers={"Retry-After": header}))
    outcome = await post(rt, direct, ctx)
    assert (outcome.kind, outcome.retryable, outcome.retry_after) == ("rate_limited", True, seconds)


async def test_mapping_error_is_invalid_and_sends_nothing(
    rt: Runtime, direct: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """A lead the buyer file cannot render is refused before sending."""
    lead = {**ctx.lead, "lead": {k: v for k, v in ctx.lead["lead"].items() if k != "email"}}
    outcome = await post(rt, direct, dataclasses.replace(ctx, lead=lead))
    assert outcome.kind == "invalid" and not outcome.retryable and not outcome.sent
    assert outcome.reason and "email" in outcome.reason
    assert buyer_server.received() == []


async def test_a_ping_with_personal_data_is_refused(
    rt: Runtime, runtime_plan: PlanLoader, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """The ping double-check: PII fields with a value are named; nothing is sent."""
    plan = runtime_plan("pii_ping")
    lead = {**ctx.lead, "lead": {k: v for k, v in ctx.lead["lead"].items() if k != "dob"}}
    outcome = await rt.send(
        plan, "ping", dataclasses.replace(ctx, lead=lead), env="test", lead_id="L-1"
    )
    assert outcome.kind == "invalid"
    assert outcome.reason is not None and "(email, phone)" in outcome.reason
    assert buyer_server.received() == []


async def test_unknown_stage_or_environment_is_invalid(
    rt: Runtime, direct: IntegrationPlan, ctx: RenderContext
) -> None:
    """A caller's mistake about the file is reported as invalid, not raised."""
    outcome = await rt.send(direct, "post", ctx, env="production", lead_id="L-1")
    assert outcome.kind == "invalid" and "environment 'production'" in (outcome.reason or "")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose listen queue is full: new connections are never accepted (connect hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    yield port
    for c in fillers:
        c.close()
    server.close()


@pytest.mark.parametrize("where", ["closed-port", "connect-timeout", "tls-handshake"])
async def test_failures_before_sending_are_transport(
    rt: Runtime,
    direct: IntegrationPlan,
    ctx: RenderContext,
    full_backlog: int,
    buyer_server: BuyerServer,
    where: str,
) -> None:
    """Refused, never-accepted or failed-TLS connections: transport, retryable, not delivered
    (httpx.ConnectError, httpx.ConnectTimeout, httpx.ConnectError from the aiohttp transport)."""
    url = {
        "closed-port": f"http://127.0.0.1:{closed_port()}",
        "connect-timeout": f"http://127.0.0.1:{full_backlog}",
        "tls-handshake": f"https://127.0.0.1:{buyer_server.port}",  # TLS to a plain HTTP server
    }[where]
    env = dataclasses.replace(direct.environments["test"], url=url)
    plan = with_timeouts(
        dataclasses.replace(direct, environments={"test": env}),
        "post",
        connect=0.2,
        read=1.0,
        total=3.0,
    )
    outcome = await post(rt, plan, ctx)
    assert (outcome.kind, outcome.retryable, outcome.sent) == ("transport", True, False)
    assert outcome.reason and "nothing was sent" in outcome.reason


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param(Reply(hang=True), "did not answer in time", id="never-answers"),
        pytest.param(Reply(reset="before"), "after the lead was sent", id="reset-before-answer"),
        pytest.param(
            Reply(body=b"x" * 20_000, reset="mid_body"), "after the lead was sent", id="reset-mid"
        ),
        pytest.param(Reply(raw=b"NOT HTTP\r\n\r\n"), "not HTTP", id="garbage"),
        pytest.param(
            Reply.json({"status": "accepted", "pad": "x" * 200}, trickle=0.01),
            "stage's total time",
            id="trickle-past-total",
        ),
    ],
)
async def test_failures_after_sending_are_unknown(
    rt: Runtime,
    direct: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    reply: Reply,
    reason: str,
) -> None:
    """Once the request left, failures are unknown and (by default) not retried."""
    buyer_server.script("/post", reply)
    plan = with_timeouts(direct, "post", connect=1.0, read=0.3, total=0.6)
    outcome = await post(rt, plan, ctx)
    assert (outcome.kind, outcome.retryable, outcome.sent) == ("unknown", False, True)
    assert outcome.reason and reason in outcome.reason
    assert len(buyer_server.received("/post")) == 1


@pytest.mark.parametrize(
    ("on_timeout", "kind", "retryable"),
    [("retry", "unknown", True), ("reject", "rejected", False)],
)
async def test_on_timeout_setting(
    rt: Runtime,
    direct: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    on_timeout: str,
    kind: str,
    retryable: bool,
) -> None:
    """on_timeout: retry makes unknown retryable; reject treats it as not delivered."""
    buyer_server.script("/post", Reply(hang=True))
    plan = with_timeouts(direct, "post", connect=1.0, read=0.2, total=1.0)
    plan = dataclasses.replace(plan, retry=RetryPlan(on_timeout=on_timeout))  # type: ignore[arg-type]
    outcome = await post(rt, plan, ctx)
    assert (outcome.kind, outcome.retryable) == (kind, retryable)
    if kind == "rejected":
        assert outcome.reason and outcome.reason.startswith("timed out (treated as rejected)")


@pytest.mark.parametrize("header", ["Idempotency-Key", "X-Request-Id", None])
async def test_idempotency_header(
    rt: Runtime,
    direct: IntegrationPlan,
    ctx: RenderContext,
    buyer_server: BuyerServer,
    header: str | None,
) -> None:
    """Every request carries lead:buyer:stage in the configured header; none when turned off."""
    await post(rt, dataclasses.replace(direct, idempotency_header=header), ctx)
    (got,) = buyer_server.received("/post")
    sent = {k for k in got.headers if k in ("idempotency-key", "x-request-id")}
    if header is None:
        assert sent == set()
    else:
        assert got.headers[header.lower()] == "L-1:acme-direct:post"
        assert sent == {header.lower()}


async def test_missing_secret_is_reported_not_raised(
    fake_clock: FakeClock, direct: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """An unset ${env:...} secret is an auth outcome naming the variable; nothing is sent."""
    async with Runtime(clock=fake_clock, environ={}) as runtime:
        outcome = await post(runtime, direct, ctx)
    assert outcome.kind == "auth" and "ACME_TOKEN" in (outcome.reason or "")
    assert not outcome.sent and buyer_server.received() == []


async def test_timings_split_into_the_guides_phases(
    rt: Runtime, direct: IntegrationPlan, ctx: RenderContext, buyer_server: BuyerServer
) -> None:
    """A new connection's connect time is measured; a pooled one connects in 0. The buyer's
    think time shows as wait, not as connect. Sending is not timed apart (the request is
    written to the kernel's buffer at once; any delay shows in wait)."""
    buyer_server.script(
        "/post",
        Reply.json({"status": "accepted", "id": "A-1"}, delay=0.05),
        Reply.json({"status": "accepted", "id": "A-2"}, delay=0.05),
    )
    first = (await post(rt, direct, ctx)).timings
    second = (await post(rt, direct, ctx)).timings
    assert first.connect is not None and first.wait is not None and first.send is None
    assert first.connect > 0 and first.wait >= 0.05
    assert (second.connect, second.dns) == (0.0, 0.0)
    assert second.wait is not None and second.wait >= 0.05
    assert first.total >= first.connect + first.wait

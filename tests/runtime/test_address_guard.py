"""The address policy where connections are made: a loopback listener counts what reaches it.

Only 127.0.0.1 is ever dialled (or refused before dialling); the listener counts accepted
connections, which must stay 0 for every refused spelling of this machine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from engine.clock import FakeClock
from engine.plan import EnvironmentPlan, IntegrationPlan, RenderContext
from engine.runtime.executor import Runtime
from engine.runtime.timing import Phases
from engine.runtime.transport import ClientPool, ClientSettings
from engine.runtime.wire import WireError, WireRequest
from tests.listener import Listener

pytestmark = pytest.mark.anyio

FAST = ClientSettings(connect_timeout=1.0, read_timeout=1.0)


#: Spellings of this machine that must never be dialled from production.
SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",
    "0x7f000001",
]
#: Spellings the URL readers refuse before any connection (a failure all the same).
UNREADABLE = ["2130706433", "127.0.0.1.", "0177.0.0.1", "127.000.000.001"]


async def dial(pool: ClientPool, env: EnvironmentPlan, url: str) -> list[BaseException]:
    """A lead through ``env``'s wire and a token request through its httpx client: what each
    raised."""
    failures: list[BaseException] = []
    try:
        await pool.wire_for(env).send(WireRequest("POST", url, (), b"lead", 1.0, 1.0), Phases())
    except WireError as exc:
        failures.append(exc)
    try:
        await pool.client_for(env).post(url, content=b"grant_type=client_credentials")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        failures.append(exc)
    return failures


@pytest.mark.parametrize("host", SPELLINGS + UNREADABLE)
@pytest.mark.parametrize("http2", [False, True], ids=["aiohttp", "httpx"])
async def test_production_never_connects_to_this_machine(
    listener: Listener, host: str, http2: bool
) -> None:
    """Every spelling fails, for the lead's wire and the token client alike; those that reach
    DNS fail as a refused connection saying why. The listener saw nothing."""
    pool = ClientPool(FAST)
    url = f"https://{host}:{listener.port}/post"
    try:
        failures = await dial(pool, EnvironmentPlan("production", url, http2=http2), url)
    finally:
        await pool.aclose()
    assert len(failures) == 2, failures
    if host in SPELLINGS:
        wire_error, client_error = failures
        assert isinstance(wire_error, WireError) and not wire_error.sent
        assert "address not allowed" in str(wire_error)
        assert isinstance(client_error, httpx.ConnectError)
        assert "address not allowed" in str(client_error)
    assert listener.accepted == 0


@pytest.mark.parametrize("http2", [False, True], ids=["aiohttp", "httpx"])
async def test_an_allowed_test_environment_does_connect(listener: Listener, http2: bool) -> None:
    """The control: a test environment that says allow_private reaches the listener with both
    (the TLS handshake then fails, as the listener speaks nothing)."""
    pool = ClientPool(FAST)
    url = f"https://127.0.0.1:{listener.port}/post"
    env = EnvironmentPlan("test", url, http2=http2, allow_private=True)
    try:
        failures = await dial(pool, env, url)
    finally:
        await pool.aclose()
    assert len(failures) == 2
    assert all("address not allowed" not in str(f) for f in failures)
    assert listener.accepted >= 2


async def test_a_refused_address_is_a_transport_outcome_with_nothing_sent(
    listener: Listener,
    runtime_plan: Callable[..., IntegrationPlan],
    runtime_lead: dict[str, Any],
    fake_clock: FakeClock,
) -> None:
    """Through the runtime: outcome ``transport``, the reason names the refused address and
    says nothing was sent; no connection reached the listener."""
    plan = runtime_plan("direct")
    url = f"https://localhost:{listener.port}/post"
    plan = dataclasses.replace(
        plan, environments={"production": EnvironmentPlan("production", url)}
    )
    ctx = RenderContext(runtime_lead, fake_clock.wall())
    async with Runtime(clock=fake_clock, environ={"ACME_TOKEN": "t"}) as rt:
        outcome = await rt.send(plan, "post", ctx, env="production", lead_id="L-1")
    assert outcome.kind in ("transport", "retry_scheduled", "failed"), outcome
    reason = outcome.reason or ""
    assert "address not allowed" in reason and "nothing was sent" in reason, reason
    assert listener.accepted == 0


@pytest.mark.parametrize("host", ["0177.0.0.1", "127.000.000.001"])
async def test_an_unreadable_address_is_an_invalid_outcome_not_a_crash(
    listener: Listener,
    runtime_plan: Callable[..., IntegrationPlan],
    runtime_lead: dict[str, Any],
    fake_clock: FakeClock,
    host: str,
) -> None:
    """`leadpost post` to https://0177.0.0.1/ once failed unexpectedly; now: invalid, unsent."""
    url = f"https://{host}:{listener.port}/post"
    plan = dataclasses.replace(
        runtime_plan("direct"), environments={"production": EnvironmentPlan("production", url)}
    )
    ctx = RenderContext(runtime_lead, fake_clock.wall())
    async with Runtime(clock=fake_clock, environ={"ACME_TOKEN": "t"}) as rt:
        outcome = await rt.send(plan, "post", ctx, env="production", lead_id="L-1")
    assert outcome.kind == "invalid" and "cannot be used" in (outcome.reason or "")
    assert listener.accepted == 0

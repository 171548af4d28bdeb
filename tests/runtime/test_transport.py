"""The transport seam: both wires (aiohttp directly, httpx) against the same loopback buyers."""

from __future__ import annotations

import dataclasses
import logging
import socket
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from engine.plan import EnvironmentPlan
from engine.runtime.timing import Phases
from engine.runtime.transport import ClientPool, ClientSettings, make_client, prewarm, tls_context
from engine.runtime.wire import Wire, WireAnswer, WireError, WireRequest
from engine.runtime.wire_aiohttp import AiohttpWire
from engine.runtime.wire_httpx import HttpxWire
from tests.buyer_server import BuyerServer, Reply
from tests.listener import Listener

pytestmark = pytest.mark.anyio

FAST = ClientSettings(connect_timeout=0.5, read_timeout=0.5)
LOCAL = EnvironmentPlan("test", "http://127.0.0.1")


def pool_of(name: str, **kw: object) -> ClientPool:
    return ClientPool(dataclasses.replace(FAST, http1=name), **kw)  # type: ignore[arg-type]


@pytest.fixture(params=["aiohttp", "httpx"])
async def wire(request: pytest.FixtureRequest) -> AsyncIterator[Wire]:
    """The HTTP/1.1 wire of a pool, one of each implementation."""
    pool = pool_of(request.param)
    yield pool.wire_for(LOCAL)
    await pool.aclose()


async def send(
    wire: Wire, url: str, body: bytes = b"x", *, read: float = 0.5, phases: Phases | None = None
) -> WireAnswer:
    request = WireRequest("POST", url, (("Content-Type", "text/plain"),), body, 0.5, read)
    return await wire.send(request, phases or Phases())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_tls_context_verifies_and_requires_tls_1_2() -> None:
    """Certificates and host names are always checked; nothing older than TLS 1.2 is spoken."""
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_the_pool_picks_the_wire_per_setting() -> None:
    """aiohttp for HTTP/1.1 buyers by default, httpx when asked; HTTP/2 buyers always httpx."""
    h2 = EnvironmentPlan("test", "http://127.0.0.1", http2=True)
    assert isinstance(pool_of("aiohttp").wire_for(LOCAL), AiohttpWire)
    assert isinstance(pool_of("httpx").wire_for(LOCAL), HttpxWire)
    assert isinstance(pool_of("aiohttp").wire_for(h2), HttpxWire)


async def test_post_reaches_the_buyer(wire: Wire, buyer_server: BuyerServer) -> None:
    """A POST arrives with its body and headers as rendered; the answer comes back intact,
    with the moments it was sent, answered and read."""
    buyer_server.script("/post", Reply.json({"status": "accepted"}, 201))
    phases = Phases()
    answer = await send(wire, buyer_server.url + "/post?x=1&e=a%40b", b'{"p": 1}', phases=phases)
    assert answer.status == 201 and answer.body == b'{"status": "accepted"}'
    assert ("content-type", "application/json") in [(k.lower(), v) for k, v in answer.headers]
    (got,) = buyer_server.received("/post")
    assert got.method == "POST" and got.query == "x=1&e=a%40b"
    assert got.body == b'{"p": 1}' and got.headers["content-type"] == "text/plain"
    assert got.headers["user-agent"] == "leadpost/0.1"
    assert phases.sent and phases.head and phases.done
    assert phases.sent <= phases.head <= phases.done
    assert phases.connect is not None and phases.connect > 0


async def test_connections_are_reused(wire: Wire, buyer_server: BuyerServer) -> None:
    """Sequential requests to one buyer share one keep-alive connection; a pooled request
    connects in 0 s."""
    phases = [Phases() for _ in range(5)]
    for p in phases:
        assert (await send(wire, buyer_server.url + "/post", phases=p)).status == 200
    assert {r.connection for r in buyer_server.received()} == {1}
    assert phases[-1].connect == 0.0 and phases[-1].reused


async def test_prewarm_opens_a_connection_used_later(wire: Wire, buyer_server: BuyerServer) -> None:
    """Prewarming sends one HEAD per origin; the next request reuses that connection."""
    urls = [buyer_server.url + "/ping", buyer_server.url + "/post"]
    assert await prewarm(wire, urls) == 1
    await send(wire, buyer_server.url + "/post")
    head, post = buyer_server.received()
    assert head.method == "HEAD" and post.method == "POST"
    assert head.connection == post.connection


async def test_prewarm_ignores_unreachable_buyers(wire: Wire) -> None:
    """An origin that refuses connections is skipped, not raised."""
    assert await prewarm(wire, [f"http://127.0.0.1:{closed_port()}/"], timeout=0.3) == 0


async def test_refused_connection_sent_nothing(wire: Wire) -> None:
    """A refused connection is a transport error: nothing was sent."""
    with pytest.raises(WireError) as info:
        await send(wire, f"http://127.0.0.1:{closed_port()}/post")
    assert info.value.kind == "transport" and not info.value.sent
    assert "nothing was sent" in info.value.reason


async def test_an_unusable_address_is_invalid(wire: Wire) -> None:
    """A URL the wire cannot send to is invalid (the buyer file needs fixing), nothing sent."""
    with pytest.raises(WireError) as info:
        await send(wire, "ftp://127.0.0.1/post")
    assert info.value.kind == "invalid" and not info.value.sent


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        pytest.param(Reply(reset="before"), "after the lead was sent", id="reset-before-answer"),
        pytest.param(Reply(hang=True), "did not answer in time", id="never-answers"),
        pytest.param(Reply(raw=b"NOT HTTP AT ALL\r\n\r\n"), "not HTTP", id="garbage"),
        pytest.param(
            Reply(body=b"x" * 20_000, reset="mid_body"), "after the lead was sent", id="mid-body"
        ),
    ],
)
async def test_failures_after_sending_are_unknown(
    wire: Wire, buyer_server: BuyerServer, reply: Reply, words: str
) -> None:
    """Once the request went out, failures say so (the buyer may have the lead)."""
    buyer_server.script("/post", reply)
    with pytest.raises(WireError) as info:
        await send(wire, buyer_server.url + "/post", read=0.2)
    assert info.value.kind == "unknown" and info.value.sent
    assert words in info.value.reason


async def test_trickled_body_arrives_whole(wire: Wire, buyer_server: BuyerServer) -> None:
    """A body sent one byte at a time is read completely."""
    buyer_server.script("/post", Reply(body=b"accepted", trickle=0.005))
    assert (await send(wire, buyer_server.url + "/post")).body == b"accepted"


async def test_redirects_are_not_followed(wire: Wire, buyer_server: BuyerServer) -> None:
    """A redirect is the answer (the executor calls it a client error), never followed."""
    buyer_server.script("/post", Reply(302, b"", {"Location": "/elsewhere"}))
    assert (await send(wire, buyer_server.url + "/post")).status == 302
    assert [r.path for r in buyer_server.received()] == ["/post"]


@pytest.mark.parametrize("name", ["aiohttp", "httpx"])
async def test_proxy_receives_the_full_url(buyer_server: BuyerServer, name: str) -> None:
    """With a proxy, the request goes to the proxy, naming the buyer's full URL."""
    pool = pool_of(name)
    env = EnvironmentPlan("test", "http://buyer.invalid", proxy=buyer_server.url)
    try:
        answer = await send(pool.wire_for(env), "http://buyer.invalid/leads")
    finally:
        await pool.aclose()
    assert answer.status == 200
    (got,) = buyer_server.received()
    assert got.target == "http://buyer.invalid/leads"


@pytest.mark.parametrize("name", ["aiohttp", "httpx"])
async def test_source_address_is_used(buyer_server: BuyerServer, name: str) -> None:
    """A wire bound to a source address still reaches the buyer."""
    pool = pool_of(name)
    env = EnvironmentPlan("test", buyer_server.url, source_address="127.0.0.1")
    try:
        assert (await send(pool.wire_for(env), buyer_server.url + "/")).status == 200
    finally:
        await pool.aclose()


async def test_an_injected_client_makes_a_wire() -> None:
    """Tests can swap the network for an httpx transport: the seam is the same."""
    transport = httpx.MockTransport(lambda request: httpx.Response(202, text="queued"))
    async with make_client(transport=transport) as client:
        answer = await send(HttpxWire(client, owned=False), "https://buyer.example/post")
        assert (answer.status, answer.body) == (202, b"queued")
    assert client.is_closed


async def test_pool_shares_wires_by_network_settings(caplog: pytest.LogCaptureFixture) -> None:
    """Environments with the same proxy, source address, HTTP version and address policy share
    one wire (and one token client); turning TLS verification off is refused with a warning."""
    pool = ClientPool(FAST)
    a = EnvironmentPlan("production", "https://a.example")
    b = EnvironmentPlan("staging", "https://b.example", tls_verify=False)
    c = EnvironmentPlan("proxied", "https://c.example", proxy="http://127.0.0.1:3128")
    d = EnvironmentPlan("modern", "https://d.example", http2=True)
    with caplog.at_level(logging.WARNING, logger="leadpost.transport"):
        assert pool.wire_for(a) is pool.wire_for(b)
        assert pool.wire_for(c) is not pool.wire_for(a)
        assert pool.wire_for(d) is not pool.wire_for(a)
        pool.wire_for(b)
    assert len(pool) == 3
    assert pool.client_for(a) is pool.client_for(b) and pool.client_for(c) is not pool.client_for(a)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "environment staging turns TLS verification off; leadpost always verifies certificates,"
        " so the buyer needs a valid certificate",
    ]
    await pool.aclose()
    assert len(pool) == 0


async def test_http2_environment_uses_httpx_native_transport(buyer_server: BuyerServer) -> None:
    """A buyer that asks for HTTP/2 gets httpx's own transport with HTTP/2 offered (ALPN);
    over plain HTTP on loopback it falls back to HTTP/1.1 and still delivers."""
    pool = ClientPool(FAST)
    wire = pool.wire_for(EnvironmentPlan("test", buyer_server.url, http2=True))
    assert isinstance(wire, HttpxWire)
    transport = wire.client._transport
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    assert transport._pool._http2 is True
    buyer_server.script("/post", Reply.json({"status": "accepted"}, 201))
    assert (await send(wire, buyer_server.url + "/post")).status == 201
    await pool.aclose()


# -- the address check --------------------------------------------------------------------------


def refuse_127(address: str) -> str | None:
    """The test's address policy: 127.0.0.1 is refused."""
    return "127.0.0.1 is this machine" if address == "127.0.0.1" else None


def refuse_loopback(address: str) -> str | None:
    return "a loopback address" if address in ("127.0.0.1", "::1") else None


@pytest.mark.parametrize("name", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    ("host", "check"),
    [("127.0.0.1", refuse_127), ("localhost", refuse_loopback)],
    ids=["ip-literal", "after-dns"],
)
async def test_a_refused_address_is_never_dialled(
    listener: Listener, name: str, host: str, check: object
) -> None:
    """The check sees each address about to be dialled (after DNS; an IP literal too): a
    refused one is a transport error naming the reason, and no connection is made."""
    pool = pool_of(name, check=check)
    try:
        with pytest.raises(WireError) as info:
            await send(pool.wire_for(LOCAL), f"http://{host}:{listener.port}/post")
        client = pool.client_for(LOCAL)
        with pytest.raises(httpx.ConnectError, match="refused"):
            await client.post(f"http://{host}:{listener.port}/token")
    finally:
        await pool.aclose()
    assert info.value.kind == "transport" and not info.value.sent
    assert "address was refused" in info.value.reason and "nothing was sent" in info.value.reason
    assert listener.accepted == 0


@pytest.mark.parametrize("name", ["aiohttp", "httpx"])
async def test_an_allowed_address_is_dialled(buyer_server: BuyerServer, name: str) -> None:
    """The check lets through what it does not refuse, and is asked about the address."""
    asked: list[str] = []

    def allow(address: str) -> None:
        asked.append(address)

    pool = pool_of(name, check=allow)
    try:
        assert (await send(pool.wire_for(LOCAL), buyer_server.url + "/post")).status == 200
    finally:
        await pool.aclose()
    assert asked == ["127.0.0.1"]


def test_buyer_server_serves_plain_sync_tests(buyer_server: BuyerServer) -> None:
    """The test buyer runs in its own thread, so sync tests can use it with a sync client."""
    buyer_server.script("/post", Reply(503, "busy", {"Retry-After": "7"}))
    with httpx.Client() as sync:
        first = sync.post(buyer_server.url + "/post", data={"a": "1"})
        second = sync.post(buyer_server.url + "/post", data={"a": "2"})
    assert (first.status_code, first.headers["retry-after"], first.text) == (503, "7", "busy")
    assert (second.status_code, second.text) == (200, "ok")
    assert [r.form() for r in buyer_server.received("/post")] == [{"a": "1"}, {"a": "2"}]


async def test_cookies_from_one_lead_never_reach_the_next(
    wire: Wire, buyer_server: BuyerServer
) -> None:
    """A buyer's Set-Cookie is not stored: the next lead's request carries no Cookie header."""
    buyer_server.script(
        "/post",
        Reply(200, "ok", {"Set-Cookie": "session=consumer-1; Path=/"}),
        Reply(200, "ok"),
    )
    await send(wire, buyer_server.url + "/post", b"lead 1")
    await send(wire, buyer_server.url + "/post", b"lead 2")
    first, second = buyer_server.received("/post")
    assert "cookie" not in first.headers and "cookie" not in second.headers


class _InProcess:
    """A wire that answers every request itself (what a benchmark of leadpost's own work uses)."""

    def __init__(self) -> None:
        self.requests: list[WireRequest] = []

    async def send(self, request: WireRequest, phases: Phases) -> WireAnswer:
        self.requests.append(request)
        body = b'{"status": "bid", "bid": "7.50", "ping_id": "P1"}'
        return WireAnswer(200, (("Content-Type", "application/json"),), body)

    async def aclose(self) -> None:
        return None


async def test_a_wire_given_to_the_runtime_carries_every_lead() -> None:
    """``Runtime(wire=...)``: the rendered request goes to that wire, and its answer is read
    like any buyer's (no socket is opened)."""
    from engine.clock import SystemClock
    from engine.plan import RenderContext
    from engine.runtime.executor import Runtime
    from tests.auction_kit import ENVIRON, plan, sample_lead

    wire = _InProcess()
    bidder = plan("bidder", "b1", "http://127.0.0.1:9")
    ctx = RenderContext(sample_lead(), SystemClock().wall(), {})
    async with Runtime(environ=ENVIRON, wire=wire) as runtime:
        outcome = await runtime.send(bidder, "ping", ctx, env="test", lead_id="ld-1")
    assert [r.url for r in wire.requests] == ["http://127.0.0.1:9/b1/ping"]
    assert (outcome.kind, str(outcome.price)) == ("accepted", "7.50")

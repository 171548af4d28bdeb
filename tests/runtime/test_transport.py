"""The shared client over the aiohttp transport, against the real test buyer on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from engine.plan import EnvironmentPlan
from engine.runtime.transport import ClientPool, ClientSettings, make_client, prewarm, tls_context
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

FAST = ClientSettings(connect_timeout=0.5, read_timeout=0.5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    client = make_client(FAST)
    yield client
    await client.aclose()


def test_tls_context_verifies_and_requires_tls_1_2() -> None:
    """Certificates and host names are always checked; nothing older than TLS 1.2 is spoken."""
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


async def test_post_reaches_the_buyer(client: httpx.AsyncClient, buyer_server: BuyerServer) -> None:
    """A POST arrives with its body and headers; the buyer's answer comes back intact."""
    buyer_server.script("/post", Reply.json({"status": "accepted"}, 201))
    response = await client.post(buyer_server.url + "/post?x=1", json={"phone": "5551234567"})
    assert response.status_code == 201
    assert response.json() == {"status": "accepted"}
    (got,) = buyer_server.received("/post")
    assert got.method == "POST" and got.query == "x=1"
    assert got.json() == {"phone": "5551234567"}
    assert got.headers["user-agent"] == "leadpost/0.1"


async def test_connections_are_reused(client: httpx.AsyncClient, buyer_server: BuyerServer) -> None:
    """Sequential requests to one buyer share one keep-alive connection."""
    for _ in range(5):
        (await client.post(buyer_server.url + "/post", content=b"x")).raise_for_status()
    assert {r.connection for r in buyer_server.received()} == {1}


async def test_prewarm_opens_a_connection_used_later(
    client: httpx.AsyncClient, buyer_server: BuyerServer
) -> None:
    """Prewarming sends one HEAD per origin; the next request reuses that connection."""
    urls = [buyer_server.url + "/ping", buyer_server.url + "/post"]
    assert await prewarm(client, urls) == 1
    await client.post(buyer_server.url + "/post", content=b"x")
    head, post = buyer_server.received()
    assert head.method == "HEAD" and post.method == "POST"
    assert head.connection == post.connection


async def test_prewarm_ignores_unreachable_buyers(client: httpx.AsyncClient) -> None:
    """An origin that refuses connections is skipped, not raised."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert await prewarm(client, [f"http://127.0.0.1:{port}/"], timeout=0.3) == 0


async def test_refused_connection_is_a_connect_error(client: httpx.AsyncClient) -> None:
    """Nothing was sent: the error is a ConnectError."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await client.post(f"http://127.0.0.1:{port}/post", content=b"x")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        pytest.param(Reply(reset="before"), httpx.ReadError, id="reset-before-answer"),
        pytest.param(Reply(hang=True), httpx.ReadTimeout, id="never-answers"),
        pytest.param(
            Reply(raw=b"NOT HTTP AT ALL\r\n\r\n"), httpx.RemoteProtocolError, id="garbage"
        ),
    ],
)
async def test_failures_after_sending_are_not_connect_errors(
    client: httpx.AsyncClient,
    buyer_server: BuyerServer,
    reply: Reply,
    error: type[Exception],
) -> None:
    """Once the request went out, failures say so (the buyer may have the lead)."""
    buyer_server.script("/post", reply)
    with pytest.raises(error) as info:
        await client.post(buyer_server.url + "/post", content=b"x", timeout=0.2)
    assert not isinstance(info.value, httpx.ConnectError | httpx.ConnectTimeout)


async def test_reset_in_the_middle_of_the_body(
    client: httpx.AsyncClient, buyer_server: BuyerServer
) -> None:
    """A connection cut halfway through the body is a read error."""
    buyer_server.script("/post", Reply(body=b"x" * 20_000, reset="mid_body"))
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        await client.post(buyer_server.url + "/post", content=b"x")


async def test_trickled_body_arrives_whole(
    client: httpx.AsyncClient, buyer_server: BuyerServer
) -> None:
    """A body sent one byte at a time is read completely."""
    buyer_server.script("/post", Reply(body=b"accepted", trickle=0.005))
    response = await client.post(buyer_server.url + "/post", content=b"x")
    assert response.content == b"accepted"


async def test_proxy_receives_the_full_url(buyer_server: BuyerServer) -> None:
    """With a proxy, the request goes to the proxy, naming the buyer's full URL."""
    client = make_client(FAST, proxy=buyer_server.url)
    try:
        response = await client.post("http://buyer.invalid/leads", content=b"x")
    finally:
        await client.aclose()
    assert response.status_code == 200
    (got,) = buyer_server.received()
    assert got.target == "http://buyer.invalid/leads"


async def test_source_address_is_used(buyer_server: BuyerServer) -> None:
    """A client bound to a source address still reaches the buyer."""
    client = make_client(FAST, source_address="127.0.0.1")
    try:
        assert (await client.get(buyer_server.url + "/")).status_code == 200
    finally:
        await client.aclose()


async def test_mock_transport_can_be_injected() -> None:
    """Tests can swap the network for an httpx transport."""
    transport = httpx.MockTransport(lambda request: httpx.Response(202, text="queued"))
    client = make_client(transport=transport)
    async with client:
        assert (await client.post("https://buyer.example/post")).status_code == 202


async def test_pool_shares_clients_by_network_settings(caplog: pytest.LogCaptureFixture) -> None:
    """Environments with the same proxy, source address and HTTP version share one client;
    turning TLS verification off is refused with a warning."""
    pool = ClientPool(FAST)
    a = EnvironmentPlan("production", "https://a.example")
    b = EnvironmentPlan("staging", "https://b.example", tls_verify=False)
    c = EnvironmentPlan("proxied", "https://c.example", proxy="http://127.0.0.1:3128")
    d = EnvironmentPlan("modern", "https://d.example", http2=True)
    with caplog.at_level(logging.WARNING, logger="leadpost.transport"):
        assert pool.for_environment(a) is pool.default
        assert pool.for_environment(b) is pool.default
        assert pool.for_environment(c) is not pool.default
        assert pool.for_environment(d) is not pool.default
        pool.for_environment(b)
    assert len(pool) == 3
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
    client = pool.for_environment(EnvironmentPlan("test", buyer_server.url, http2=True))
    transport = client._transport
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    assert transport._pool._http2 is True
    buyer_server.script("/post", Reply.json({"status": "accepted"}, 201))
    response = await client.post(buyer_server.url + "/post", content=b"x")
    assert (response.status_code, response.http_version) == (201, "HTTP/1.1")
    await pool.aclose()


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
    client: httpx.AsyncClient, buyer_server: BuyerServer
) -> None:
    """A buyer's Set-Cookie is not stored: the next lead's request carries no Cookie header."""
    buyer_server.script(
        "/post",
        Reply(200, "ok", {"Set-Cookie": "session=consumer-1; Path=/"}),
        Reply(200, "ok"),
    )
    await client.post(buyer_server.url + "/post", content=b"lead 1")
    await client.post(buyer_server.url + "/post", content=b"lead 2")
    first, second = buyer_server.received("/post")
    assert "cookie" not in first.headers and "cookie" not in second.headers
    assert len(client.cookies) == 0

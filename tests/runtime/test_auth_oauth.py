"""OAuth 2.0 client credentials: caching, single flight, refresh, 401 recovery, failures."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from engine.clock import FakeClock
from engine.errors import AuthFailure
from engine.plan import EnvironmentPlan, OAuth2Auth, SecretRef, Template
from engine.runtime.auth import OAuth2ClientCredentials, TokenCache, build_auth
from engine.runtime.transport import make_client
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio

ENV = {"CID": "alpha", "CSECRET": "s3cret-alpha", "CID2": "beta", "CSECRET2": "s3cret-beta"}
CLIENTS = {"alpha": "s3cret-alpha", "beta": "s3cret-beta"}


def plan(token_url: str, cid: str = "CID", secret: str = "CSECRET", **kw: object) -> OAuth2Auth:
    return OAuth2Auth(
        token_url,
        Template((SecretRef(cid),)),
        Template((SecretRef(secret),)),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as client:
        yield client


@pytest.fixture
def cache(fake_clock: FakeClock) -> TokenCache:
    return TokenCache(fake_clock)


@pytest.fixture
def oauth(buyer_server: BuyerServer, fake_clock: FakeClock) -> BuyerServer:
    """The buyer with a token endpoint for alpha and beta, and a protected /post; tokens live
    100 server seconds on the fake clock."""
    buyer_server.clock = fake_clock.now
    buyer_server.enable_oauth(clients=CLIENTS, expires_in=100)
    buyer_server.protect("/post")
    return buyer_server


def flow(
    server: BuyerServer, client: httpx.AsyncClient, cache: TokenCache, **kw: object
) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        plan(server.url + "/oauth/token", **kw),  # type: ignore[arg-type]
        ENV,
        client=client,
        cache=cache,
    )


async def test_one_token_for_a_thousand_concurrent_requests(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """1,000 concurrent requests wait for one token request and all succeed with it."""
    auth = flow(oauth, client, cache)
    statuses: list[int] = []

    async def post() -> None:
        statuses.append(
            (await client.post(oauth.url + "/post", content=b"x", auth=auth)).status_code
        )

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(post)
    assert statuses == [200] * 1000
    assert oauth.token_requests == 1
    assert {r.token_client for r in oauth.received("/post")} == {"alpha"}


async def test_token_request_carries_credentials_and_scopes(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """Client credentials go in the form body by default; scopes are joined by spaces."""
    auth = flow(oauth, client, cache, scopes=("leads.write", "leads.read"))
    await client.post(oauth.url + "/post", content=b"x", auth=auth)
    form = oauth.received("/oauth/token")[0].form()
    assert form == {
        "grant_type": "client_credentials",
        "scope": "leads.write leads.read",
        "client_id": "alpha",
        "client_secret": "s3cret-alpha",
    }


async def test_client_auth_by_http_basic(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """With client_auth basic, the credentials travel in the Authorization header only."""
    auth = flow(oauth, client, cache, client_auth="basic")
    response = await client.post(oauth.url + "/post", content=b"x", auth=auth)
    assert response.status_code == 200
    token_request = oauth.received("/oauth/token")[0]
    assert token_request.headers["authorization"].startswith("Basic ")
    assert "client_secret" not in token_request.form()


async def test_expired_token_is_refreshed_once_and_the_request_resent(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """A 401 from the buyer drops the token, fetches one new token, and resends once."""
    auth = flow(oauth, client, cache)
    await client.post(oauth.url + "/post", content=b"lead", auth=auth)
    oauth.expire_tokens()
    response = await client.post(oauth.url + "/post", content=b"lead", auth=auth)
    assert response.status_code == 200
    assert oauth.token_requests == 2
    posts = oauth.received("/post")
    assert [r.token_client for r in posts] == ["alpha", None, "alpha"]
    assert posts[1].body == posts[2].body == b"lead"


async def test_second_401_is_returned_not_retried(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """If the fresh token is refused too, the 401 reaches the caller after one resend."""
    oauth.enable_oauth(clients=CLIENTS, expires_in=100, lifetime=0)
    auth = flow(oauth, client, cache)
    response = await client.post(oauth.url + "/post", content=b"x", auth=auth)
    assert response.status_code == 401
    assert oauth.token_requests == 2
    assert len(oauth.received("/post")) == 2


async def test_token_is_refreshed_ahead_of_expiry(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache, fake_clock: FakeClock
) -> None:
    """With less than 10% of its lifetime left, the token is replaced before it fails."""
    auth = flow(oauth, client, cache)
    await client.post(oauth.url + "/post", content=b"x", auth=auth)
    fake_clock.advance(89)
    await client.post(oauth.url + "/post", content=b"x", auth=auth)
    assert oauth.token_requests == 1
    fake_clock.advance(2)
    response = await client.post(oauth.url + "/post", content=b"x", auth=auth)
    assert response.status_code == 200
    assert oauth.token_requests == 2
    assert len(oauth.received("/post")) == 3


async def test_missing_expires_in_means_an_hour(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache, fake_clock: FakeClock
) -> None:
    """A token answer without expires_in is trusted for 3600 seconds."""
    oauth.enable_oauth(clients=CLIENTS, expires_in=None, lifetime=10_000)
    auth = flow(oauth, client, cache)
    await client.post(oauth.url + "/post", content=b"x", auth=auth)
    (token,) = [cache.peek(auth.key())]
    assert token is not None
    assert token.expires_at - token.obtained_at == 3600


async def test_two_credentials_on_one_token_url_do_not_share(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """Two client ids at the same identity provider each get and use their own token."""
    alpha = flow(oauth, client, cache)
    beta = flow(oauth, client, cache, cid="CID2", secret="CSECRET2")
    await client.post(oauth.url + "/post", content=b"a", auth=alpha)
    await client.post(oauth.url + "/post", content=b"b", auth=beta)
    await client.post(oauth.url + "/post", content=b"a", auth=alpha)
    assert oauth.token_requests == 2
    assert [r.token_client for r in oauth.received("/post")] == ["alpha", "beta", "alpha"]
    assert len(cache) == 2


async def test_same_client_with_another_secret_does_not_share(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """A wrong secret never rides on a token fetched with the right one."""
    good = flow(oauth, client, cache)
    bad = flow(oauth, client, cache, secret="CSECRET2")
    await client.post(oauth.url + "/post", content=b"x", auth=good)
    with pytest.raises(AuthFailure, match="answered HTTP 401, error 'invalid_client'"):
        await client.post(oauth.url + "/post", content=b"x", auth=bad)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        pytest.param(
            Reply(503, b"down"), "the token endpoint {url} answered HTTP 503", id="status-503"
        ),
        pytest.param(
            Reply(200, b"<html>"),
            "the token endpoint {url} answered without an access_token in a JSON object",
            id="not-json",
        ),
        pytest.param(
            Reply.json({"token": "x"}),
            "the token endpoint {url} answered without an access_token in a JSON object",
            id="no-access-token",
        ),
        pytest.param(
            Reply(reset="before"), "the token endpoint {url} could not be reached", id="reset"
        ),
    ],
)
async def test_token_endpoint_failure_is_an_auth_failure(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache, reply: Reply, message: str
) -> None:
    """A failing token endpoint raises AuthFailure and sends nothing to the buyer."""
    oauth.script("/oauth/token", reply)
    auth = flow(oauth, client, cache)
    with pytest.raises(AuthFailure) as info:
        await client.post(oauth.url + "/post", content=b"x", auth=auth)
    expected = "could not get an access token: " + message.format(url=auth.token_url)
    assert str(info.value).startswith(expected)
    assert oauth.received("/post") == []


async def test_unreachable_token_endpoint(client: httpx.AsyncClient, cache: TokenCache) -> None:
    """A token endpoint that refuses connections is an AuthFailure too."""
    with anyio.fail_after(5):
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        await listener.aclose()
    auth = OAuth2ClientCredentials(
        plan(f"http://127.0.0.1:{port}/token"), ENV, client=client, cache=cache
    )
    with pytest.raises(AuthFailure, match="could not be reached"):
        await client.post(f"http://127.0.0.1:{port}/post", content=b"x", auth=auth)


async def test_slow_token_endpoint_times_out(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """A token endpoint that never answers fails after the token timeout."""
    oauth.script("/oauth/token", Reply(hang=True))
    auth = OAuth2ClientCredentials(
        plan(oauth.url + "/oauth/token"), ENV, client=client, cache=cache, timeout=0.2
    )
    with pytest.raises(AuthFailure, match=r"did not answer within 0\.2 seconds"):
        await client.post(oauth.url + "/post", content=b"x", auth=auth)


async def test_failed_early_refresh_keeps_the_valid_token(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache, fake_clock: FakeClock
) -> None:
    """If a refresh ahead of expiry fails, the still-valid token keeps being used."""
    auth = flow(oauth, client, cache)
    await client.post(oauth.url + "/post", content=b"x", auth=auth)
    fake_clock.advance(95)
    oauth.script("/oauth/token", Reply(500))
    response = await client.post(oauth.url + "/post", content=b"x", auth=auth)
    assert response.status_code == 200
    assert oauth.token_requests == 2


async def test_logs_never_contain_secrets_or_tokens(
    oauth: BuyerServer,
    client: httpx.AsyncClient,
    cache: TokenCache,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Token requests, refreshes and failures are logged without secret or token values."""
    auth = flow(oauth, client, cache)
    with caplog.at_level(logging.DEBUG, logger="leadpost.auth"):
        await client.post(oauth.url + "/post", content=b"x", auth=auth)
        oauth.expire_tokens()
        await client.post(oauth.url + "/post", content=b"x", auth=auth)
        oauth.script("/oauth/token", Reply.json({"error": "invalid_client"}, 401))
        oauth.expire_tokens()
        with pytest.raises(AuthFailure):
            await client.post(oauth.url + "/post", content=b"x", auth=auth)
    text = caplog.text
    assert "requesting an access token for client ${env:CID}" in text
    assert "the buyer refused the access token" in text
    assert "could not get an access token" in text
    for value in ["s3cret-alpha", *oauth.tokens]:
        assert value not in text


async def test_environment_overrides_the_token_url(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """An environment's token_url replaces the plan's."""
    env = EnvironmentPlan("sandbox", oauth.url, token_url=oauth.url + "/oauth/token")
    auth = build_auth(
        plan("https://idp.invalid/token"), ENV, client=client, cache=cache, environment=env
    )
    assert (await client.post(oauth.url + "/post", content=b"x", auth=auth)).status_code == 200


def test_sync_clients_are_refused(fake_clock: FakeClock) -> None:
    """The OAuth flow needs an AsyncClient; a sync client gets a clear error."""
    auth = OAuth2ClientCredentials(
        plan("http://127.0.0.1:1/token"),
        ENV,
        client=httpx.AsyncClient(),
        cache=TokenCache(fake_clock),
    )
    with httpx.Client() as sync, pytest.raises(RuntimeError, match=r"only with httpx\.AsyncClient"):
        sync.get("http://127.0.0.1:1/", auth=auth)


async def test_concurrent_401s_cause_one_refresh(
    oauth: BuyerServer, client: httpx.AsyncClient, cache: TokenCache
) -> None:
    """A hundred requests refused with the same expired token share one new token."""
    auth = flow(oauth, client, cache)
    await client.post(oauth.url + "/post", content=b"x", auth=auth)
    oauth.expire_tokens()
    statuses: list[int] = []

    async def post() -> None:
        statuses.append(
            (await client.post(oauth.url + "/post", content=b"x", auth=auth)).status_code
        )

    async with anyio.create_task_group() as tg:
        for _ in range(100):
            tg.start_soon(post)
    assert statuses == [200] * 100
    assert oauth.token_requests == 2

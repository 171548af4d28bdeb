"""Static credentials (API key, basic, bearer) added by StaticAuth, checked at the real buyer."""

from __future__ import annotations

import base64

import httpx
import pytest

from engine.clock import FakeClock
from engine.errors import AuthFailure, RunError
from engine.plan import ApiKeyAuth, BasicAuth, BearerAuth, NoAuth, SecretRef, Template
from engine.runtime.auth import StaticAuth, TokenCache, build_auth
from engine.runtime.transport import make_client
from tests.buyer_server import BuyerServer

pytestmark = pytest.mark.anyio

ENV = {"KEY": "k-123", "USER": "acme", "PASS": "p:ss", "TOKEN": "t-456"}


def secret(name: str, prefix: str = "") -> Template:
    return Template((prefix, SecretRef(name)) if prefix else (SecretRef(name),))


async def send(auth: httpx.Auth, server: BuyerServer) -> None:
    async with make_client() as client:
        response = await client.post(server.url + "/post?a=1", content=b"x", auth=auth)
        response.raise_for_status()


async def test_api_key_in_a_header_with_prefix(buyer_server: BuyerServer) -> None:
    """A header API key is sent as prefix + key."""
    plan = ApiKeyAuth("header", "X-Api-Key", secret("KEY"), prefix="Key ")
    await send(StaticAuth(plan, ENV), buyer_server)
    assert buyer_server.received()[0].headers["x-api-key"] == "Key k-123"


async def test_api_key_in_the_query(buyer_server: BuyerServer) -> None:
    """A query API key is added to the query string, keeping the other parameters."""
    plan = ApiKeyAuth("query", "api_key", secret("KEY"))
    await send(StaticAuth(plan, ENV), buyer_server)
    assert buyer_server.received()[0].query == "a=1&api_key=k-123"


async def test_basic(buyer_server: BuyerServer) -> None:
    """Basic auth sends base64("user:password")."""
    await send(StaticAuth(BasicAuth(secret("USER"), secret("PASS")), ENV), buyer_server)
    header = buyer_server.received()[0].headers["authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")) == b"acme:p:ss"


async def test_bearer(buyer_server: BuyerServer) -> None:
    """A bearer token is sent as ``Authorization: Bearer <token>``."""
    await send(StaticAuth(BearerAuth(secret("TOKEN")), ENV), buyer_server)
    assert buyer_server.received()[0].headers["authorization"] == "Bearer t-456"


async def test_missing_variable_is_an_auth_failure(buyer_server: BuyerServer) -> None:
    """An unset secret is a retryable run error naming the variable; nothing is sent."""
    with pytest.raises(AuthFailure) as info:
        await send(StaticAuth(BearerAuth(secret("NOPE")), {}), buyer_server)
    assert str(info.value) == (
        "the environment variable NOPE is not set; set it to the bearer token and restart leadpost"
    )
    assert isinstance(info.value, RunError)
    assert buyer_server.received() == []


def test_repr_hides_secrets() -> None:
    """Printing an auth flow never shows the secret."""
    auth = StaticAuth(BearerAuth(secret("TOKEN")), ENV)
    assert "t-456" not in repr(auth)


async def test_build_auth_picks_the_flow(fake_clock: FakeClock) -> None:
    """build_auth turns each plan kind into its flow; no auth adds nothing."""
    async with make_client() as client:
        cache = TokenCache(fake_clock)
        bearer = build_auth(BearerAuth(secret("TOKEN")), ENV, client=client, cache=cache)
        none = build_auth(NoAuth(), ENV, client=client, cache=cache)
    assert isinstance(bearer, StaticAuth)
    assert type(none) is httpx.Auth

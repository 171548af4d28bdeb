"""The wires and httpx clients of a runtime, one per network setting; TLS; connection prewarming.

:class:`ClientPool` hands each environment the wire it sends leads through — aiohttp directly
for HTTP/1.1 buyers (the default; ``ClientSettings.http1 = "httpx"`` selects httpx instead), httpx
with h2 for buyers whose environment asks for HTTP/2 — and an httpx client for the rare requests
that are not leads (OAuth tokens). Environments needing a proxy or a source address get their own
wire and client, one per distinct setting. Certificates are always verified, TLS 1.2 at least;
no cookies are kept; redirects are never followed; an optional address check is applied to
every address dialled.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Literal
from urllib.parse import urlsplit

import anyio
import httpx

from engine.plan import EnvironmentPlan
from engine.runtime.timing import Phases
from engine.runtime.wire import AddressCheck, Wire, WireError, WireRequest
from engine.runtime.wire_aiohttp import AiohttpWire
from engine.runtime.wire_httpx import CheckedBackend, HttpxWire, use_backend

log = logging.getLogger("leadpost.transport")

#: Which implementation sends to HTTP/1.1 buyers.
Http1 = Literal["aiohttp", "httpx"]


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Connection pool and default timeouts of a client (seconds)."""

    limit: int = 1000
    """Open connections in total."""
    limit_per_host: int = 100
    """Open connections to one host (one buyer)."""
    ttl_dns_cache: float = 300.0
    keepalive: float = 30.0
    """Seconds an idle connection is kept for reuse."""
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    user_agent: str = "leadpost/0.1"
    http1: Http1 = "aiohttp"
    """The wire for HTTP/1.1 buyers (httpx is slower; kept for comparison and tests)."""


#: The settings a runtime uses when given none (tests swap the HTTP/1.1 wire here).
DEFAULT_SETTINGS = ClientSettings()


def tls_context() -> ssl.SSLContext:
    """Certificates and host names verified against the system store; TLS 1.2 or newer."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing. Buyer APIs are stateless: a cookie set while posting one
    lead must not be sent back with the next lead (it could carry the last consumer's session).
    Passed to httpx as a CookieJar: httpx would copy an httpx.Cookies into a default jar."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def make_client(
    settings: ClientSettings | None = None,
    *,
    proxy: str | None = None,
    source_address: str | None = None,
    http2: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    check: AddressCheck | None = None,
) -> httpx.AsyncClient:
    """An httpx client over httpx's own pool (or over ``transport``, e.g. an
    ``httpx.MockTransport`` in tests); ``http2`` speaks HTTP/2 where the buyer offers it.
    Environment proxy variables are ignored: a proxy is used only when given. Must be closed
    with ``await client.aclose()``."""
    s = settings or DEFAULT_SETTINGS
    if transport is None:
        native = httpx.AsyncHTTPTransport(
            verify=tls_context(),
            http2=http2,
            trust_env=False,
            proxy=httpx.Proxy(proxy) if proxy else None,
            local_address=source_address,
            limits=httpx.Limits(
                max_connections=s.limit,
                max_keepalive_connections=s.limit,
                keepalive_expiry=s.keepalive,
            ),
        )
        use_backend(native, CheckedBackend(check))
        transport = native
    return httpx.AsyncClient(
        transport=transport,
        cookies=no_cookies(),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
        headers={"User-Agent": s.user_agent},
    )


_Key = tuple[str | None, str | None, bool]


class ClientPool:
    """Wires and httpx clients, one per distinct proxy / source address / HTTP version.

    The number of variants is bounded by the configured environments, so they are kept until
    :meth:`aclose` rather than evicted (evicting would cut requests in flight).
    """

    def __init__(
        self, settings: ClientSettings | None = None, *, check: AddressCheck | None = None
    ) -> None:
        self.settings = settings or DEFAULT_SETTINGS
        self.check = check
        """Applied to every address dialled, by every wire and client of the pool."""
        self._wires: dict[_Key, Wire] = {}
        self._clients: dict[_Key, httpx.AsyncClient] = {}
        self._warned: set[str] = set()

    @property
    def default(self) -> httpx.AsyncClient:
        """The httpx client for environments with no special network settings."""
        return self._client((None, None, False))

    def client_for(self, env: EnvironmentPlan) -> httpx.AsyncClient:
        """The httpx client for ``env``'s requests that are not leads (OAuth tokens)."""
        return self._client((env.proxy, env.source_address, env.http2))

    def wire_for(self, env: EnvironmentPlan) -> Wire:
        """The wire that sends ``env``'s leads (shared with every environment of the same
        settings)."""
        self._warn(env)
        key = (env.proxy, env.source_address, env.http2)
        wire = self._wires.get(key)
        if wire is None:
            wire = self._wires[key] = self._make_wire(key)
        return wire

    def __len__(self) -> int:
        return len(self._wires.keys() | self._clients.keys())

    def _make_wire(self, key: _Key) -> Wire:
        proxy, source_address, http2 = key
        if http2 or self.settings.http1 == "httpx":
            return HttpxWire(self._client(key), owned=False)
        s = self.settings
        return AiohttpWire(
            limit=s.limit,
            limit_per_host=s.limit_per_host,
            ttl_dns_cache=s.ttl_dns_cache,
            keepalive=s.keepalive,
            ssl=tls_context(),
            user_agent=s.user_agent,
            proxy=proxy,
            source_address=source_address,
            check=self.check,
        )

    def _client(self, key: _Key) -> httpx.AsyncClient:
        client = self._clients.get(key)
        if client is None:
            proxy, source_address, http2 = key
            client = make_client(
                self.settings,
                proxy=proxy,
                source_address=source_address,
                http2=http2,
                check=self.check,
            )
            self._clients[key] = client
        return client

    def _warn(self, env: EnvironmentPlan) -> None:
        if env.name in self._warned or env.tls_verify:
            return
        self._warned.add(env.name)
        log.warning(
            "environment %s turns TLS verification off; leadpost always verifies"
            " certificates, so the buyer needs a valid certificate",
            env.name,
        )

    async def aclose(self) -> None:
        """Close every wire and client (and their connections)."""
        wires, self._wires = list(self._wires.values()), {}
        clients, self._clients = list(self._clients.values()), {}
        for wire in wires:
            await wire.aclose()
        for client in clients:
            await client.aclose()


async def prewarm(wire: Wire, urls: Iterable[str], *, timeout: float = 2.0) -> int:
    """Open a connection to each distinct origin of ``urls`` (scheme, host, port) with a HEAD
    request, concurrently, each bounded by ``timeout`` seconds. Failures are ignored (logged at
    debug level). Returns how many origins answered."""
    origins: dict[tuple[str, str], str] = {}
    for url in urls:
        parts = urlsplit(url)
        origins.setdefault((parts.scheme, parts.netloc), url)
    answered = 0

    async def one(url: str) -> None:
        nonlocal answered
        with anyio.move_on_after(timeout):
            try:
                await wire.send(WireRequest("HEAD", url, (), b"", timeout, timeout), Phases())
            except WireError as exc:
                log.debug("prewarming %s failed: %s", url, exc)
                return
            answered += 1

    async with anyio.create_task_group() as tg:
        for url in origins.values():
            tg.start_soon(one, url)
    return answered

"""The shared HTTP client: httpx's API over aiohttp's connection pool, and connection prewarming.

One process-wide :class:`httpx.AsyncClient` sends every request through
``httpx_aiohttp.AiohttpTransport`` with one aiohttp connector (measured: httpx's own pool is
several times slower under concurrency). TLS certificates are always
verified and TLS 1.2 is the minimum. Environments needing a proxy or a source address get their
own client from :class:`ClientPool`, one per distinct setting.

HTTP/2 is not offered: it needs the ``h2`` package, which leadpost does not install. An
environment asking for it is sent HTTP/1.1, with a warning in the log.

httpx-aiohttp reports a connection the buyer closed mid-answer as ``httpx.ConnectTimeout`` (as if
nothing had been sent). :class:`AiohttpTransport` corrects that mapping so the executor can tell
"never sent" (``ConnectError``, ``ConnectTimeout``) from "the buyer may have it" (``ReadError``,
``ReadTimeout``, ``RemoteProtocolError``).

Every socket a client opens is first shown to its address check (:mod:`engine.runtime.addresses`):
the address actually dialled, after DNS, so no spelling or host name reaches a refused address.
A refused address fails like a refused connection (``ConnectError``: nothing was sent). Through a
proxy the proxy resolves the buyer's name; only the proxy's own address is dialled, and it is an
operator's choice, so a proxied client has no check.
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, NoReturn

import aiohttp
import anyio
import httpcore
import httpx
import httpx_aiohttp

from engine.plan import EnvironmentPlan
from engine.runtime.addresses import PUBLIC_ONLY, Check, check_for
from engine.runtime.timing import trace_config

log = logging.getLogger("leadpost.transport")


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


def tls_context() -> ssl.SSLContext:
    """Certificates and host names verified against the system store; TLS 1.2 or newer."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _translate(exc: Exception, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx exception that says truthfully whether the request may have been received,
    for an aiohttp exception (None for anything else)."""
    message = str(exc) or type(exc).__name__
    new: httpx.TransportError
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        new = httpx.ConnectTimeout(message, request=request)
    elif isinstance(exc, aiohttp.ClientProxyConnectionError):
        new = httpx.ProxyError(message, request=request)
    elif isinstance(exc, aiohttp.ClientConnectorError):
        new = httpx.ConnectError(message, request=request)
    elif isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        new = httpx.ReadTimeout(message, request=request)
    elif isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        new = httpx.RemoteProtocolError(message, request=request)
    elif isinstance(exc, aiohttp.InvalidURL):
        new = httpx.UnsupportedProtocol(message, request=request)
    elif isinstance(exc, aiohttp.ClientError):
        new = httpx.ReadError(message, request=request)
    else:
        return None
    return new


def _reraise(exc: Exception, request: httpx.Request) -> NoReturn:
    """Re-raise an exception from httpx-aiohttp (or from aiohttp, which it lets escape) as the
    right httpx exception."""
    cause = exc.__cause__ if isinstance(exc, httpx.TransportError) else exc
    new = _translate(cause, request) if isinstance(cause, Exception) else None
    if new is None:
        raise exc
    raise new from cause


class _Stream(httpx.AsyncByteStream):
    """A response body whose read errors are translated like the request's."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            _reraise(exc, self._request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class AiohttpTransport(httpx_aiohttp.AiohttpTransport):
    """httpx-aiohttp's transport with an exception mapping that tells sent from not sent."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response: httpx.Response = await super().handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            _reraise(exc, request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Stream(response.stream, request)
        return response


# -- the address check, applied to every socket ------------------------------------------------


def _refused(reason: str) -> OSError:
    return OSError(errno.EACCES, f"{reason}; nothing was sent")


def checked_socket_factory(check: Check) -> Callable[[tuple[Any, ...]], socket.socket]:
    """An aiohttp socket factory that shows each address to ``check`` before making its socket
    (aiohttp calls it with the resolved address it is about to dial)."""

    def make(addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, address = addr_info
        reason = check(str(address[0]))
        if reason is not None:
            raise _refused(reason)
        return socket.socket(family=family, type=type_, proto=proto)

    return make


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend resolving the host itself and dialling only addresses the
    check allows (httpx's own transport, used for HTTP/2). TLS still names the original host."""

    def __init__(self, check: Check, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._check = check
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception = httpcore.ConnectError(f"no address for {host}")
        for *_, sockaddr in infos:
            reason = self._check(str(sockaddr[0]))
            if reason is not None:
                last = httpcore.ConnectError(f"[Errno {errno.EACCES}] {reason}; nothing was sent")
                continue
            try:
                return await self._inner.connect_tcp(
                    str(sockaddr[0]), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - leadpost never dials a unix socket
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


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
    check: Check | None = None,
) -> httpx.AsyncClient:
    """A client over one aiohttp connector (or over ``transport``, e.g. an
    ``httpx.MockTransport`` in tests). ``http2`` uses httpx's own transport, which speaks HTTP/2
    where the buyer offers it (aiohttp does not). Environment proxy variables are ignored: a
    proxy is used only when given. ``check`` judges every address dialled (not through a
    proxy). Must be closed with ``await client.aclose()``."""
    s = settings or ClientSettings()
    context = tls_context()
    if transport is None and http2:
        transport = httpx.AsyncHTTPTransport(
            verify=context,
            http2=True,
            trust_env=False,
            proxy=httpx.Proxy(proxy) if proxy else None,
            local_address=source_address,
            limits=httpx.Limits(
                max_connections=s.limit,
                max_keepalive_connections=s.limit,
                keepalive_expiry=s.keepalive,
            ),
        )
        if check is not None and not proxy:
            # httpx has no argument for it: its connection pool keeps the backend here.
            transport._pool._network_backend = CheckedBackend(check)
    if transport is None:

        def session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(
                limit=s.limit,
                limit_per_host=s.limit_per_host,
                ttl_dns_cache=int(s.ttl_dns_cache),
                keepalive_timeout=s.keepalive,
                ssl=context,
                local_addr=(source_address, 0) if source_address else None,
                socket_factory=checked_socket_factory(check) if check and not proxy else None,
            )
            # No cookie jar: a buyer's Set-Cookie must never ride along with another lead.
            return aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                trace_configs=[trace_config()],
            )

        transport = AiohttpTransport(
            verify=context,
            trust_env=False,
            proxy=httpx.Proxy(proxy) if proxy else None,
            client=session,
        )
    return httpx.AsyncClient(
        transport=transport,
        cookies=no_cookies(),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
        headers={"User-Agent": s.user_agent},
    )


class ClientPool:
    """The process-wide default client plus one client per distinct proxy / source address.

    The number of variants is bounded by the configured environments, so clients are kept until
    :meth:`aclose` rather than evicted (evicting would cut requests in flight).
    """

    def __init__(self, settings: ClientSettings | None = None) -> None:
        self.settings = settings or ClientSettings()
        self._clients: dict[tuple[str | None, str | None, bool, Check], httpx.AsyncClient] = {}
        self._warned: set[str] = set()

    @property
    def default(self) -> httpx.AsyncClient:
        """The shared client for environments with no special network settings (public
        addresses only)."""
        return self._get(None, None, False, PUBLIC_ONLY)

    def for_environment(self, env: EnvironmentPlan) -> httpx.AsyncClient:
        """The client to use for ``env`` (shared with every environment of the same settings)."""
        self._warn(env)
        return self._get(env.proxy, env.source_address, env.http2, check_for(env))

    def __len__(self) -> int:
        return len(self._clients)

    def _get(
        self, proxy: str | None, source_address: str | None, http2: bool, check: Check
    ) -> httpx.AsyncClient:
        key = (proxy, source_address, http2, check)
        client = self._clients.get(key)
        if client is None:
            client = make_client(
                self.settings,
                proxy=proxy,
                source_address=source_address,
                http2=http2,
                check=check,
            )
            self._clients[key] = client
        return client

    def _warn(self, env: EnvironmentPlan) -> None:
        if env.name in self._warned or env.tls_verify:
            return
        self._warned.add(env.name)
        if not env.tls_verify:
            log.warning(
                "environment %s turns TLS verification off; leadpost always verifies"
                " certificates, so the buyer needs a valid certificate",
                env.name,
            )

    async def aclose(self) -> None:
        """Close every client (and its connections)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


async def prewarm(client: httpx.AsyncClient, urls: Iterable[str], *, timeout: float = 2.0) -> int:
    """Open a connection to each distinct origin of ``urls`` (scheme, host, port) with a HEAD
    request, concurrently, each bounded by ``timeout`` seconds. Failures are ignored (logged at
    debug level). Returns how many origins answered."""
    origins: dict[tuple[str, str, int | None], str] = {}
    for url in urls:
        u = httpx.URL(url)
        origins.setdefault((u.scheme, u.host, u.port), url)
    answered = 0

    async def one(url: str) -> None:
        nonlocal answered
        with anyio.move_on_after(timeout):
            try:
                response = await client.head(url, timeout=timeout)
            except httpx.HTTPError as exc:
                log.debug("prewarming %s failed: %s", url, exc)
                return
            answered += 1
            await response.aclose()

    async with anyio.create_task_group() as tg:
        for url in origins.values():
            tg.start_soon(one, url)
    return answered

"""The default wire for HTTP/1.1 buyers: aiohttp's connection pool, used directly.

One :class:`aiohttp.ClientSession` per network setting (proxy, source address) with one
connector: connection limits, keep-alive, a DNS cache, TLS verified (1.2 or newer), no cookies,
no redirects, no trace hooks. The rendered bytes go out as they are; the answer comes back as
status, headers and body. Measured (docs perf facts): httpx's request and response objects on
top of this pool cost about as much CPU as aiohttp itself, so the hot path does without them.

Two aiohttp internals are leaned on, each for something its public API does not offer:
``socket_factory`` (public) sees every address actually dialled — IP literals skip the
resolver — so the address check lives there; ``_create_connection`` is overridden only to note
when a new connection starts and is ready (the public trace hooks cost 24 µs on every request).
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from engine.runtime.timing import CURRENT, Phases
from engine.runtime.wire import (
    AddressCheck,
    AddressRefused,
    WireAnswer,
    WireError,
    WireRequest,
    refusal,
)

#: Parsed addresses kept per wire (addresses without a query only: a query may carry lead data).
_MAX_URLS = 4096
#: An address made only of characters a URL may carry as they are (RFC 3986): sent unchanged,
#: byte for byte, as rendered. Anything else is quoted by yarl.
_ENCODED = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


class _TimedResolver(AbstractResolver):
    """aiohttp's default resolver, noting when a lookup starts and ends (cache misses only)."""

    def __init__(self) -> None:
        self._inner = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        phases = CURRENT.get()
        if phases is not None:
            phases.dns_start = time.perf_counter()
        try:
            return await self._inner.resolve(host, port, family)
        finally:
            if phases is not None:
                phases.dns_end = time.perf_counter()

    async def close(self) -> None:
        await self._inner.close()


class _Connector(aiohttp.TCPConnector):
    """A TCP connector that notes when a new connection starts and is ready."""

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
        phases = CURRENT.get()
        if phases is None:
            return await super()._create_connection(req, traces, timeout)
        if phases.connect_start is None:
            phases.connect_start = time.perf_counter()
        protocol = await super()._create_connection(req, traces, timeout)
        phases.connect_end = time.perf_counter()
        return protocol


def socket_factory(check: AddressCheck) -> Any:
    """An aiohappyeyeballs socket factory that refuses the addresses ``check`` refuses."""

    def make(addr_info: Any) -> socket.socket:
        family, kind, proto, _, address = addr_info
        reason = check(str(address[0]))
        if reason is not None:
            phases = CURRENT.get()
            if phases is not None:
                phases.refused = reason
            raise AddressRefused(reason)
        return socket.socket(family, kind, proto)

    return make


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return f" ({text})" if text else ""


def translate(exc: BaseException, phases: Phases) -> WireError:
    """The seam's error for an exception from aiohttp (or the socket under it)."""
    if phases.refused is not None:
        return refusal(phases.refused)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        why = "the buyer's server did not accept a connection in time"
        return WireError("transport", f"{why}{_detail(exc)}; nothing was sent")
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return WireError("transport", f"the proxy failed{_detail(exc)}; nothing was sent")
    if isinstance(exc, aiohttp.ClientConnectorError):
        why = "could not connect to the buyer's server"
        return WireError("transport", f"{why}{_detail(exc)}; nothing was sent")
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError | ValueError):
        why = "the buyer's address cannot be used"
        return WireError("invalid", f"{why}{_detail(exc)}; fix the url in the buyer file")
    if isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return WireError("unknown", "the buyer did not answer in time after the lead was sent")
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError | aiohttp.ClientPayloadError,
    ):
        why = "the buyer's server broke off or sent something that is not HTTP"
        return WireError("unknown", f"{why} after the lead was sent{_detail(exc)}")
    why = "the connection failed after the lead was sent"
    return WireError("unknown", f"{why}{_detail(exc)}")


class AiohttpWire:
    """Sends through one aiohttp session (opened at first use, inside the event loop)."""

    def __init__(
        self,
        *,
        limit: int,
        limit_per_host: int,
        ttl_dns_cache: float,
        keepalive: float,
        ssl: Any,
        user_agent: str,
        proxy: str | None = None,
        source_address: str | None = None,
        check: AddressCheck | None = None,
    ) -> None:
        self._options: dict[str, Any] = {
            "limit": limit,
            "limit_per_host": limit_per_host,
            "ttl_dns_cache": int(ttl_dns_cache),
            "keepalive_timeout": keepalive,
            "ssl": ssl,
            "local_addr": (source_address, 0) if source_address else None,
        }
        self._check = check
        self._user_agent = user_agent
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float, float], aiohttp.ClientTimeout] = {}
        self._urls: dict[str, URL] = {}

    def _open(self) -> aiohttp.ClientSession:
        connector = _Connector(
            resolver=_TimedResolver(),
            socket_factory=socket_factory(self._check) if self._check else None,
            **self._options,
        )
        # No cookie jar: a buyer's Set-Cookie must never ride along with another lead.
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": self._user_agent},
            raise_for_status=False,
        )
        return self._session

    def _timeout(self, connect: float, read: float) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get((connect, read))
        if timeout is None:  # connect covers waiting for a pooled connection too
            timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read)
            self._timeouts[(connect, read)] = timeout
        return timeout

    def _url(self, text: str) -> URL:
        url = self._urls.get(text)
        if url is None:
            url = URL(text, encoded=True) if _ENCODED.fullmatch(text) else URL(text)
            if not url.raw_query_string:
                if len(self._urls) >= _MAX_URLS:
                    self._urls.clear()
                self._urls[text] = url
        return url

    async def send(self, request: WireRequest, phases: Phases) -> WireAnswer:
        session = self._session or self._open()
        token = CURRENT.set(phases)
        try:
            url = self._url(request.url)
            phases.sent = time.perf_counter()
            async with session.request(
                request.method,
                url,
                headers=request.headers,
                data=request.body or None,
                allow_redirects=False,
                timeout=self._timeout(request.connect, request.read),
                proxy=self._proxy,
            ) as response:
                phases.head = time.perf_counter()
                body = await response.read()
                phases.done = time.perf_counter()
                return WireAnswer(response.status, tuple(response.headers.items()), body)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise translate(exc, phases) from exc
        finally:
            CURRENT.reset(token)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

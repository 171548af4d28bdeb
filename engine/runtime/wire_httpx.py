"""The httpx wire: HTTP/2 buyers (via h2), the OAuth token endpoint, and injected clients.

httpx earns its cost where aiohttp cannot go (HTTP/2) and where a request is rare (token
requests); an injected ``httpx.AsyncClient`` (for example over ``httpx.MockTransport``) makes a
wire for tests at the seam. httpx's exceptions are translated by
:func:`~engine.runtime.classify.classify_exception`, which tells "never sent" from "the buyer may
have it".

:class:`CheckedBackend` is the httpcore network backend of every client leadpost makes: it
resolves the host itself, applies the address check to each address it is about to dial, and
notes when a new connection starts and is ready (TLS is set up by httpcore afterwards, so
``connect`` here is TCP only).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from typing import Any, cast

import anyio
import httpcore
import httpx

from engine.runtime.classify import classify_exception
from engine.runtime.timing import CURRENT, Phases
from engine.runtime.wire import AddressCheck, WireAnswer, WireError, WireKind, WireRequest, refusal

#: Longest time spent closing a response whose reading was cut short.
_CLOSE_GRACE = 1.0


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, dialling only addresses the check allows (after DNS)."""

    def __init__(self, check: AddressCheck | None) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._check = check

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        if _is_ip(host):
            return [host]
        phases = CURRENT.get()
        if phases is not None:
            phases.dns_start = time.perf_counter()
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no address for {host} in time") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} could not be resolved: {exc}") from exc
        finally:
            if phases is not None:
                phases.dns_end = time.perf_counter()
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        phases = CURRENT.get()
        if phases is not None and phases.connect_start is None:
            phases.connect_start = time.perf_counter()
        targets = [host] if self._check is None else await self._addresses(host, port, timeout)
        refused: str | None = None
        for address in targets:
            reason = self._check(address) if self._check is not None else None
            if reason is not None:
                refused = reason
                continue
            stream = await self._inner.connect_tcp(
                address, port, timeout, local_address, socket_options
            )
            if phases is not None:
                phases.connect_end = time.perf_counter()
            return stream
        if phases is not None:
            phases.refused = refused
        raise httpcore.ConnectError(f"the address was refused: {refused}")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("leadpost does not connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def use_backend(transport: httpx.AsyncHTTPTransport, backend: CheckedBackend) -> None:
    """Make ``transport``'s connection pool dial through ``backend``. httpx passes no backend
    to the httpcore pool it builds, so the pool's attribute is set (httpcore's own name)."""
    pool = transport._pool
    pool._network_backend = backend


class HttpxWire:
    """Sends through an httpx client (owned: closed by :meth:`aclose`; injected: left open)."""

    def __init__(self, client: httpx.AsyncClient, *, owned: bool = True) -> None:
        self.client = client
        self._owned = owned

    async def send(self, request: WireRequest, phases: Phases) -> WireAnswer:
        token = CURRENT.set(phases)
        try:
            try:
                built = self.client.build_request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=request.body,
                    extensions={
                        "timeout": {
                            "connect": request.connect,
                            "pool": request.connect,
                            "read": request.read,
                            "write": request.read,
                        }
                    },
                )
            except (httpx.InvalidURL, ValueError) as exc:
                raise WireError("invalid", f"the request cannot be sent as built: {exc}") from exc
            phases.sent = time.perf_counter()
            response = await self.client.send(built, stream=True)
            phases.head = time.perf_counter()
            try:
                body = await response.aread()
                phases.done = time.perf_counter()
            finally:
                if not response.is_closed:  # reading was cut short; a complete read closes it
                    with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_GRACE):
                        await response.aclose()
        except (httpx.HTTPError, OSError) as exc:
            if phases.refused is not None:
                raise refusal(phases.refused) from exc
            verdict = classify_exception(exc)
            raise WireError(cast(WireKind, verdict.kind), verdict.reason or str(exc)) from exc
        finally:
            CURRENT.reset(token)
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
        return WireAnswer(response.status_code, headers, body)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()

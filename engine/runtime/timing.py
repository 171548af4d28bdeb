"""Where one request's time went, read from aiohttp's trace hooks: DNS, connect, send.

httpx-aiohttp does not pass a per-request trace context to aiohttp, but aiohttp calls its trace
hooks inside the task that sends the request, so a context variable set around each attempt
collects them. With another transport (httpx's own, for HTTP/2) the phases stay unknown.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(slots=True)
class Phases:
    """Moments (``time.perf_counter``) the transport reported for one request."""

    dns_start: float | None = None
    dns_end: float | None = None
    connect_start: float | None = None
    connect_end: float | None = None
    reused: bool = False
    headers_sent: float | None = None

    @property
    def dns(self) -> float | None:
        """Seconds resolving the host name (0 when answered from the DNS cache)."""
        if self.dns_start is not None and self.dns_end is not None:
            return self.dns_end - self.dns_start
        return 0.0 if self.reused else None

    @property
    def connect(self) -> float | None:
        """Seconds opening the connection (TCP and TLS, DNS excluded); 0 for a pooled one."""
        if self.reused:
            return 0.0
        if self.connect_start is None or self.connect_end is None:
            return None
        return max(self.connect_end - self.connect_start - (self.dns or 0.0), 0.0)


#: The phases of the request the current task is sending, when an attempt is collecting them.
CURRENT: ContextVar[Phases | None] = ContextVar("leadpost_phases", default=None)


def _hook(setter: str) -> Any:
    async def hook(session: aiohttp.ClientSession, context: Any, params: Any) -> None:
        phases = CURRENT.get()
        if phases is None:
            return
        if setter == "reused":
            phases.reused = True
        elif getattr(phases, setter) is None:  # the first moment counts (a retried connect)
            setattr(phases, setter, time.perf_counter())

    return hook


def trace_config() -> aiohttp.TraceConfig:
    """The hooks that fill :data:`CURRENT` (one config per aiohttp session)."""
    config = aiohttp.TraceConfig()
    config.on_dns_resolvehost_start.append(_hook("dns_start"))
    config.on_dns_resolvehost_end.append(_hook("dns_end"))
    config.on_connection_create_start.append(_hook("connect_start"))
    config.on_connection_create_end.append(_hook("connect_end"))
    config.on_connection_reuseconn.append(_hook("reused"))
    config.on_request_headers_sent.append(_hook("headers_sent"))
    return config

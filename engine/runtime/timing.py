"""Where one request's time went: moments noted by the wires, read back as the guide's phases.

The moments are taken where they are cheap: around the call (handed over, head received, body
read) and inside the two places only a *new* connection passes through — the DNS lookup and the
connect — so a request on a pooled connection pays for three ``perf_counter`` calls and one
context variable, not for per-request trace hooks (aiohttp's cost 24 µs a request). The connect
and DNS hooks find the request's :class:`Phases` through :data:`CURRENT`, set by the wire around
each exchange (connections are made in the task that sends the request).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class Phases:
    """Moments (``time.perf_counter``) of one request."""

    sent: float | None = None
    """When the request was handed to the connection pool."""
    dns_start: float | None = None
    dns_end: float | None = None
    connect_start: float | None = None
    connect_end: float | None = None
    head: float | None = None
    """When the answer's status line and headers had arrived."""
    done: float | None = None
    """When the whole answer had been read."""
    refused: str | None = None
    """Why the address check refused an address, when it did."""

    @property
    def reused(self) -> bool:
        """True when the request went out on a pooled connection (no connect was seen)."""
        return self.connect_start is None and self.head is not None

    @property
    def dns(self) -> float | None:
        """Seconds resolving the host name (0 when none was needed: cached, a pooled
        connection, or an IP address)."""
        if self.dns_start is not None and self.dns_end is not None:
            return self.dns_end - self.dns_start
        return 0.0 if self.head is not None or self.connect_end is not None else None

    @property
    def connect(self) -> float | None:
        """Seconds opening the connection (TCP and TLS, DNS excluded); 0 for a pooled one."""
        if self.connect_start is None:
            return 0.0 if self.head is not None else None
        if self.connect_end is None:
            return None
        dns = self.dns_end - self.dns_start if self.dns_end and self.dns_start else 0.0
        return max(self.connect_end - self.connect_start - dns, 0.0)

    @property
    def wait(self) -> float | None:
        """Seconds from the request being on a connection until the answer's head."""
        if self.head is None or self.sent is None:
            return None
        ready = self.connect_end if self.connect_end is not None else self.sent
        return max(self.head - max(ready, self.sent), 0.0)

    @property
    def read(self) -> float | None:
        """Seconds reading the answer's body."""
        if self.done is None or self.head is None:
            return None
        return self.done - self.head


#: The phases of the request the current task is sending (set by the wire around each exchange).
CURRENT: ContextVar[Phases | None] = ContextVar("leadpost_phases", default=None)

"""What one delivery attempt came to: the guide's outcome classes, with timings and evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal
from typing import Any, Literal

from engine.frozen import frozen

OutcomeKind = Literal[
    "accepted",  # the buyer took the lead (a ping: the buyer bids)
    "rejected",  # the buyer said no (application level, or a non-retryable 4xx rule)
    "duplicate",  # the buyer already has it
    "invalid",  # the lead could not be rendered for this buyer: nothing was sent
    "transport",  # failed before the request was sent (DNS, refused, connect timeout, TLS)
    "unknown",  # failed after sending (read timeout, reset): the buyer may have the lead
    "client_error",  # 400, 403, 404 and other 4xx without a rule
    "auth",  # 401 after one refresh, or the token endpoint failed
    "rate_limited",  # 429
    "server_error",  # 5xx
    "bad_response",  # a 2xx we could not read or that matched no rule
    "circuit_open",  # the buyer's breaker is open: nothing was sent
    "late",  # the answer came after the deadline (pings): discarded
]

#: Classes after which the buyer did not keep the lead, so it may go to another buyer. Not here:
#: "unknown" (timed out or reset after sending) and "bad_response" (a 2xx we could not read).
NOT_DELIVERED: frozenset[str] = frozenset(
    {
        "rejected",
        "duplicate",
        "invalid",
        "transport",
        "client_error",
        "auth",
        "rate_limited",
        "server_error",
        "circuit_open",
        "late",
    }
)


@frozen
class Timings:
    """Seconds, in the guide's phases. Phases are None where the transport does not expose them.

    ``total`` covers the whole attempt (rendering and auth included); ``dns`` resolving the host
    (0 on a pooled connection), ``connect`` opening TCP and TLS (0 on a pooled connection; TCP
    only on the httpx wire), ``send`` until the request was written (not measured by leadpost's
    wires: the request goes to the kernel's buffer at once, and any delay shows in ``wait``),
    ``wait`` until the answer's head arrived (the buyer's processing), ``read`` reading the
    answer's body.
    """

    total: float
    connect: float | None = None
    wait: float | None = None
    read: float | None = None
    dns: float | None = None
    send: float | None = None


@frozen
class Exchange:
    """The request and response as logged: secrets and PII masked, body cut to a size."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    status: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: str = ""


@frozen
class Outcome:
    """One attempt to send one stage of one lead to one buyer."""

    buyer: str
    stage: str
    kind: OutcomeKind
    retryable: bool
    reason: str | None
    attempt: int
    timings: Timings
    status: int | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    """Seconds the buyer asked us to wait (Retry-After), when it said so."""
    exchange: Exchange | None = None

    @property
    def sent(self) -> bool:
        """False when the buyer certainly never got the lead from this attempt."""
        return self.kind not in NOT_DELIVERED

    @property
    def ok(self) -> bool:
        return self.kind == "accepted"

    @property
    def price(self) -> Decimal | None:
        p = self.values.get("price")
        return p if isinstance(p, Decimal) else None

    @property
    def buyer_lead_id(self) -> str | None:
        v = self.values.get("buyer_lead_id")
        return None if v is None else str(v)


@frozen
class Delivery:
    """The result of delivering a stage with retries: the last outcome and every attempt."""

    outcome: Outcome
    attempts: tuple[Outcome, ...]
    scheduled_at: float | None = None
    """When the delivery was handed to the scheduler instead of awaited (clock time), if it was."""
    gave_up: str | None = None
    """Why no further attempt was made although the last outcome was retryable (attempts used
    up, the lead too old, the deadline), in plain English."""

    @property
    def scheduled(self) -> bool:
        return self.scheduled_at is not None

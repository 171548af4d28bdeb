"""The transport seam: a rendered request in, the buyer's answer (or why there is none) out.

Everything above the seam — auth headers, outcome classes, the unknown-after-send rule, the
breaker, retries, masking — is written once in the executor; below it sit two implementations:
:class:`~engine.runtime.wire_aiohttp.AiohttpWire` (the default for HTTP/1.1 buyers: aiohttp's
pool used directly, no per-request wrapper objects) and
:class:`~engine.runtime.wire_httpx.HttpxWire` (HTTP/2 buyers via h2, and any injected
``httpx.AsyncClient``, e.g. one over ``httpx.MockTransport``).

A wire never raises for a buyer's problem: it returns a :class:`WireAnswer` or raises
:class:`WireError`, whose ``kind`` says whether anything may have reached the buyer. Both honour
an :data:`AddressCheck` on every address they actually dial (after DNS), so an address policy is
enforced where the connection is made, not only at lint time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from engine.frozen import frozen
from engine.runtime.timing import Phases

#: Given an IP address about to be dialled, a reason to refuse it, or None to allow it.
AddressCheck = Callable[[str], str | None]

#: What a failed exchange means: "transport" and "invalid" sent nothing; "unknown" and
#: "bad_response" may have reached the buyer.
WireKind = Literal["transport", "unknown", "invalid", "bad_response"]


@frozen
class WireRequest:
    """One request as rendered, with the stage's connect and read timeouts (seconds). The
    attempt's deadline is enforced above the seam, by the executor's one cancel scope."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    connect: float
    """Seconds to get a connection (from the pool or a new one)."""
    read: float
    """Seconds the buyer may stay silent while answering."""


@frozen
class WireAnswer:
    """The buyer's complete answer."""

    status: int
    headers: tuple[tuple[str, str], ...]
    """As received, in order (names as the buyer spelled them)."""
    body: bytes


class WireError(Exception):
    """An exchange that produced no usable answer; ``kind`` says whether the buyer may have
    the request (see :data:`WireKind`), ``reason`` says why in plain English."""

    def __init__(self, kind: WireKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: WireKind = kind
        self.reason = reason

    @property
    def sent(self) -> bool:
        """False when certainly nothing reached the buyer."""
        return self.kind in ("unknown", "bad_response")


class AddressRefused(OSError):
    """Raised below the seam when the address check refuses an address (nothing is sent)."""


class Wire(Protocol):
    """Sends rendered requests; one wire per network setting, shared by every buyer using it."""

    async def send(self, request: WireRequest, phases: Phases) -> WireAnswer:
        """Send ``request`` and read the whole answer, noting moments in ``phases``
        (``phases.sent`` when the request is handed to the connection pool). Raises
        :class:`WireError` (never another exception for a network or buyer problem)."""
        ...

    async def aclose(self) -> None:
        """Close the connections this wire owns."""
        ...


def refusal(reason: str) -> WireError:
    """The error of a refused address: nothing was sent."""
    return WireError("transport", f"the address was refused: {reason}; nothing was sent")

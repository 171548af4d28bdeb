"""Failures a client asks the sandbox for: the ``X-Sandbox-Force`` header (or ``sandbox_force``).

A buyer's test environment often offers a way to make it fail on purpose, so that the seller
can check its error handling before going live (``leadpost preflight``). The sandbox offers one:
a request carrying ``X-Sandbox-Force: <what>`` (or the query parameter ``sandbox_force=<what>``)
is answered that way instead of by the dice:

==============  ============================================================================
what            the answer
==============  ============================================================================
``500`` …       that HTTP status (any 400–599) in the buyer's error format; 429 adds
                ``Retry-After``
``timeout``     no answer until the client gives up (or the sandbox stops)
``reset``       the head and half the body, then the connection is reset
``malformed``   the buyer's normal answer, cut short
``reject``      the buyer's own rejection (a ping: no bid)
``duplicate``   the buyer's own "already have this lead"
==============  ============================================================================

Token requests (OAuth) are never forced.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.sandbox.dice import Fault, Roll

FORCE_HEADER = "X-Sandbox-Force"
FORCE_QUERY = "sandbox_force"
#: How long a forced timeout hangs at least (the sandbox stopping releases it sooner).
FORCED_HANG = 300.0
#: The words the header accepts besides an HTTP status.
WORDS: tuple[str, ...] = ("timeout", "reset", "malformed", "reject", "duplicate")
_FAULTS: dict[str | None, Fault] = {
    "timeout": "timeout",
    "reset": "reset",
    "malformed": "malformed",
}


@dataclass(frozen=True, slots=True)
class Forced:
    """What a request asked for: an HTTP status, or one of :data:`WORDS`."""

    status: int | None = None
    word: str | None = None

    def apply(self, roll: Roll) -> Roll:
        """The request's dice changed to give the asked-for answer (a status is answered by
        the server before the dice matter)."""
        if self.word in _FAULTS:
            return dataclasses.replace(roll, fault=_FAULTS[self.word])
        if self.word == "reject":
            return dataclasses.replace(roll, fault=None, bids=False, verdict="rejected")
        if self.word == "duplicate":
            return dataclasses.replace(roll, fault=None, verdict="duplicate")
        return roll


def parse_force(value: str | None) -> Forced | str | None:
    """The failure asked for by a header or query value: None when nothing was asked, a
    :class:`Forced`, or a message saying why the value cannot be used."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text.isascii() and text.isdigit():
        status = int(text)
        if 400 <= status <= 599:
            return Forced(status=status)
        return f"{FORCE_HEADER}: {value} is not an error status; use 400 to 599"
    if text in WORDS:
        return Forced(word=text)
    choices = ", ".join(WORDS)
    return f"{FORCE_HEADER}: unknown value '{value}'; use an HTTP status (400-599) or {choices}"

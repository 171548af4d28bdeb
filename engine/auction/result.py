"""What routing one lead came to: the disposition, the buyer and price, and the trace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal
from typing import Any, Literal

from engine.frozen import frozen

Disposition = Literal["sold", "unsold", "rejected", "unknown", "scheduled", "expired"]
"""sold: a buyer accepted the lead. unsold: nobody bought it. rejected: it failed a critical
pre-sale check, so no buyer saw it. unknown: a post's result is unknown (the buyer may have it),
so it is not offered to anyone else. scheduled: its delivery waits in the retry queue.
expired: nobody bought it and it got too old (a buyer's ``give_up_after``) to be tried again."""

DISPOSITIONS: tuple[Disposition, ...] = (
    "sold", "unsold", "rejected", "unknown", "scheduled", "expired",
)  # fmt: skip

Step = Literal["check", "eligibility", "ping", "post", "fallback"]


@frozen
class TraceEntry:
    """One thing that happened while routing a lead."""

    at: float
    """Milliseconds since routing started (on the router's clock) when it was recorded."""
    buyer: str | None
    """The buyer (or verification service); None for the built-in pre-sale checks."""
    step: Step
    outcome: str
    """An outcome class (accepted, rejected, late, …) for sends; passed / failed / warning for
    checks; eligible / excluded for eligibility."""
    bid: Decimal | None = None
    latency: float | None = None
    """Milliseconds the send took, for sends."""
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 3),
            "buyer": self.buyer,
            "step": self.step,
            "outcome": self.outcome,
            "bid": None if self.bid is None else str(self.bid),
            "latency": None if self.latency is None else round(self.latency, 3),
            "reason": self.reason,
        }


@frozen
class RouteResult:
    """The end of routing one lead through one campaign (saved with ``store.save_result``)."""

    lead_id: str
    campaign: str
    disposition: Disposition
    reason: str
    """Why it ended this way, in plain English (always set)."""
    buyer: str | None = None
    """Who bought it (sold), or whose post is unknown or waiting for a retry."""
    price: Decimal | None = None
    buyer_lead_id: str | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)
    """For every buyer of the campaign, what happened with it: excluded, no bid, outbid, …"""
    trace: tuple[TraceEntry, ...] = ()
    elapsed: float = 0.0
    """Milliseconds routing took (on the router's clock)."""
    pinged: float | None = None
    """Milliseconds from the start until the last ping phase ended and its bids were known (None
    when nobody was pinged). Pings are recorded as their answers come, so the trace's last
    on-time ping can be earlier: this one includes any wait for the event loop after it
    (admission control reads it); pings cut at the deadline are recorded after it, while the
    lead is posted. Not part of ``to_dict``."""

    @property
    def sold(self) -> bool:
        return self.disposition == "sold"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only: prices are text (exact), the trace a list of mappings."""
        return {
            "lead_id": self.lead_id,
            "campaign": self.campaign,
            "disposition": self.disposition,
            "reason": self.reason,
            "buyer": self.buyer,
            "price": None if self.price is None else str(self.price),
            "buyer_lead_id": self.buyer_lead_id,
            "reasons": dict(self.reasons),
            "trace": [entry.to_dict() for entry in self.trace],
            "elapsed": round(self.elapsed, 3),
        }

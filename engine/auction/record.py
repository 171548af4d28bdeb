"""The record of one lead being routed: its trace, what happened with each buyer, its attempts."""

from __future__ import annotations

from decimal import Decimal

from engine.auction.result import Disposition, RouteResult, Step, TraceEntry
from engine.clock import Clock
from engine.runtime.outcome import Outcome
from engine.store.base import Store

#: Outcome classes that mean the buyer answered a post (counted for acceptance rates).
ANSWERED = frozenset({"accepted", "rejected", "duplicate"})


def money(amount: Decimal | None) -> str:
    return "no price" if amount is None else f"${amount:.2f}"


def said(outcome: Outcome) -> str:
    """``rejected: no demand in TX``, or just the class when there is no reason."""
    return f"{outcome.kind}: {outcome.reason}" if outcome.reason else outcome.kind


def post_failed(last: Outcome) -> str:
    """What a post that sold nothing means for its buyer."""
    if last.kind in ("rejected", "duplicate"):
        return f"turned the post down ({said(last)})"
    if not last.sent:
        return f"the post did not reach it ({said(last)})"
    return f"may have the lead: the post ended {said(last)}"


class Recorder:
    """Collects the trace and the per-buyer reasons, and saves every attempt to the store."""

    def __init__(
        self, store: Store, clock: Clock, lead_id: str, campaign: str, *, journaled: bool = False
    ) -> None:
        self.store = store
        self.journaled = journaled
        """True when the runtime journals posts itself (their attempts are not saved twice)."""
        self.clock = clock
        self.lead_id = lead_id
        self.campaign = campaign
        self.start = clock.now()
        self.trace: list[TraceEntry] = []
        self.reasons: dict[str, str] = {}
        self.pinged: float | None = None
        """Milliseconds since the start when the last ping phase ended (see RouteResult)."""

    def ms(self) -> float:
        """Milliseconds since routing started."""
        return (self.clock.now() - self.start) * 1000.0

    def note(
        self,
        step: Step,
        buyer: str | None,
        outcome: str,
        *,
        bid: Decimal | None = None,
        latency: float | None = None,
        reason: str | None = None,
    ) -> None:
        self.trace.append(TraceEntry(self.ms(), buyer, step, outcome, bid, latency, reason))

    def attempt(self, step: Step, outcome: Outcome, *, bid: Decimal | None = None) -> None:
        """Save one attempt (unless the runtime's journal did) and add it to the trace."""
        if not (self.journaled and outcome.stage != "ping"):
            self.store.save_attempt(self.lead_id, outcome)
        latency = outcome.timings.total * 1000.0
        reason = outcome.reason
        if outcome.attempt > 1:
            reason = f"attempt {outcome.attempt}" + (f": {reason}" if reason else "")
        self.note(step, outcome.buyer, outcome.kind, bid=bid, latency=latency, reason=reason)

    def post_answered(self, outcome: Outcome) -> None:
        """Count a post the buyer answered (accepted or not) for its acceptance rate."""
        if outcome.kind in ANSWERED:
            self.store.record_post(outcome.buyer, outcome.ok, self.clock.wall())

    def why(self, buyer: str, reason: str, *, replace: bool = True) -> None:
        """What happened with ``buyer`` (kept for the result's ``reasons``)."""
        if replace or buyer not in self.reasons:
            self.reasons[buyer] = reason

    def result(
        self,
        disposition: Disposition,
        reason: str,
        *,
        buyer: str | None = None,
        price: Decimal | None = None,
        buyer_lead_id: str | None = None,
    ) -> RouteResult:
        return RouteResult(
            lead_id=self.lead_id,
            campaign=self.campaign,
            disposition=disposition,
            reason=reason,
            buyer=buyer,
            price=price,
            buyer_lead_id=buyer_lead_id,
            reasons=dict(self.reasons),
            trace=tuple(self.trace),
            elapsed=self.ms(),
            pinged=self.pinged,
        )

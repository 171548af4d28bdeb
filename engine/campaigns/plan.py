"""Compiled campaigns: which buyers, how the lead is sold, which checks run first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from engine.plan import IntegrationPlan

Mode = Literal["direct", "waterfall", "auction"]
Level = Literal["critical", "warn"]


@dataclass(frozen=True, slots=True)
class CampaignBuyer:
    integration: IntegrationPlan
    priority: int
    """1 is first. Waterfall order (mode order: priority) and the auction's last tie-break."""
    price: Decimal | None
    """Fixed price in this campaign (campaign override, else the buyer file's price)."""
    require_valid: tuple[str, ...] = ()
    """Phone and email fields this campaign requires valid for this buyer (its own and the
    campaign-wide ``require_valid``); the buyer file's filters may require more."""
    requirement: Callable[[Mapping[str, Any]], str | None] | None = None
    """None when ``require_valid`` is met by the lead, else the reason the buyer is excluded."""
    buyer: str = field(init=False)
    """The buyer's id (its file's), kept as a field: an auction reads it a dozen times a buyer."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "buyer", self.integration.buyer)


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """One check run on every lead before any buyer sees it."""

    name: str
    """phone, email, disposable_email, consent, suppression, or service:<buyer id>."""
    level: Level
    check: Callable[[Mapping[str, Any]], str | None] | None
    """Pure check over the normalized lead: None passes, else the reason it fails."""
    service: IntegrationPlan | None = None
    """An external verification service: sent with the runtime; accepted passes."""
    in_store: bool = False
    """The store's suppression list: the router looks the lead's phone and email up there."""


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    campaign: str
    name: str
    file: str
    mode: Mode
    buyers: tuple[CampaignBuyer, ...]
    """In the order that applies: priority (or price) order for waterfall; as written otherwise."""
    ping_deadline: float
    total_deadline: float
    floor: Decimal | None
    max_post_attempts: int
    fallback: tuple[CampaignBuyer, ...]
    checks: tuple[CheckPlan, ...]
    when_overloaded: Literal["refuse", "queue"] = "refuse"
    """``leadpost serve`` under overload: refuse the lead (503), or queue it for a waterfall."""


def describe_checks(checks: tuple[CheckPlan, ...]) -> str:
    """The checks a campaign runs before any buyer sees a lead, in words: ``phone (critical),
    consent (warn)``; ``none`` when it names none (a check runs only when named)."""
    if not checks:
        return "none (the campaign names no validation check)"
    return ", ".join(f"{c.name} ({c.level})" for c in checks)


def without(plan: CampaignPlan, paused: frozenset[str]) -> CampaignPlan:
    """``plan`` offering nothing to the paused buyers (an operator's pause, read from the store:
    new leads, leads recovered after a restart, and the rest of a sale after a retry)."""
    if not paused:
        return plan
    return replace(
        plan,
        buyers=tuple(b for b in plan.buyers if b.buyer not in paused),
        fallback=tuple(b for b in plan.fallback if b.buyer not in paused),
    )

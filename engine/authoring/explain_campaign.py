"""``leadpost explain CAMPAIGN [--lead LEAD.json]``: a campaign file in plain English.

The summary lists how the lead is sold, the checks that run (only those named), each buyer with
what keeps it from a lead (its filters, the campaign's ``require_valid``), and the fallback.
Given a lead, it also says what each pure check and each buyer's filters make of it; schedules,
caps, circuit breakers, suppression kept in the store and outside services depend on the moment
of the sale, so ``leadpost route`` shows those.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.campaigns.plan import CampaignBuyer, CampaignPlan, describe_checks
from engine.lead.validity import describe as describe_validity


def _seconds(value: float) -> str:
    return f"{value * 1000:g}ms" if value < 1 else f"{value:g}s"


def _buyer_line(b: CampaignBuyer) -> str:
    plan = b.integration
    notes = [f"priority {b.priority}"]
    if b.price is not None:
        notes.append(f"price {b.price}")
    if plan.filters is not None and plan.filters.description:
        notes.append("its filters: " + "; ".join(plan.filters.description))
    if b.require_valid:
        notes.append("this campaign: " + describe_validity(b.require_valid))
    return f"  {b.buyer} ({', '.join(notes)})"


def _buyer_verdict(b: CampaignBuyer, lead: Mapping[str, Any]) -> str:
    plan = b.integration
    reason = plan.filters.check(lead) if plan.filters is not None else None
    if reason is None and b.requirement is not None:
        reason = b.requirement(lead)
    if reason is not None:
        return f"  {b.buyer}: excluded: {reason}"
    return f"  {b.buyer}: may be offered the lead (schedule, caps and breaker decide at the sale)"


def explain_campaign(plan: CampaignPlan, lead: Mapping[str, Any] | None = None) -> str:
    """The campaign in plain English; with a normalized ``lead``, what its checks and the
    buyers' filters make of it."""
    out = [f"{plan.name} (campaign '{plan.campaign}') — {plan.file}", f"mode: {plan.mode}"]
    deadlines = f"total {_seconds(plan.total_deadline)}"
    if plan.mode == "auction":
        deadlines = f"pings {_seconds(plan.ping_deadline)}, {deadlines}"
        floor = f", floor {plan.floor}" if plan.floor is not None else ""
        out.append(f"posts: at most {plan.max_post_attempts} bidders{floor}")
    out.append(f"deadlines: {deadlines}")
    if plan.when_overloaded == "queue":
        out.append("under overload (leadpost serve): leads are queued and sold by waterfall later")
    out.append(f"checks before any buyer sees the lead: {describe_checks(plan.checks)}")
    out.append("buyers:")
    out += [_buyer_line(b) for b in plan.buyers]
    out.append("fallback:" + ("" if plan.fallback else " none"))
    out += [_buyer_line(b) for b in plan.fallback]
    if lead is None:
        return "\n".join(out)
    out.append("\nthis lead:")
    rejected = False
    for check in plan.checks:
        if check.check is None:
            out.append(f"  {check.name}: decided when the lead is sold")
            continue
        why = check.check(lead)
        verdict = "passes" if why is None else f"fails ({check.level}): {why}"
        out.append(f"  {check.name} check: {verdict}")
        rejected = rejected or (why is not None and check.level == "critical")
    if rejected:
        out.append("  so the lead is rejected: no buyer sees it; were it not, the buyers say:")
    out += [_buyer_verdict(b, lead) for b in (*plan.buyers, *plan.fallback)]
    return "\n".join(out)

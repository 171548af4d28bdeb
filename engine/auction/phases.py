"""The phases before a lead is posted: pre-sale checks, eligibility, and the parallel pings."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import anyio

from engine.auction.record import Recorder
from engine.auction.result import Step
from engine.campaigns.checks import stored_suppression
from engine.campaigns.plan import CampaignBuyer, CheckPlan
from engine.clock import Clock
from engine.plan import IntegrationPlan, RenderContext
from engine.runtime.breaker import CircuitBreaker
from engine.runtime.eligibility import eligibility
from engine.runtime.outcome import Delivery, Outcome, Timings
from engine.store.base import Store

#: Seconds a phase may overrun its deadline before it is cut from outside (the runtime itself
#: returns at the deadline; this only guards against a stuck send).
GRACE = 0.05


class Sender(Protocol):
    """What the router needs of the runtime (:class:`engine.runtime.executor.Runtime`)."""

    async def send(
        self,
        plan: IntegrationPlan,
        stage: str,
        ctx: RenderContext,
        *,
        env: str,
        lead_id: str,
        attempt: int = 1,
        deadline: float | None = None,
    ) -> Outcome: ...

    async def deliver(
        self,
        plan: IntegrationPlan,
        stage: str,
        ctx: RenderContext,
        *,
        env: str,
        lead_id: str,
        deadline: float | None = None,
        realtime: bool = True,
    ) -> Delivery: ...

    def breaker_for(self, plan: IntegrationPlan, env: str) -> CircuitBreaker: ...


def late(buyer: str, stage: str, reason: str) -> Outcome:
    """The outcome recorded for a send that had no answer when its phase ended."""
    return Outcome(buyer, stage, "late", False, reason, 1, Timings(0.0))


async def run_checks(
    sender: Sender,
    checks: Sequence[CheckPlan],
    lead: Mapping[str, Any],
    ctx: RenderContext,
    rec: Recorder,
    *,
    env: str,
    deadline: float,
) -> str | None:
    """Run every check (services in parallel, by ``deadline``); the first failed critical
    check's reason, or None when the lead may be offered to buyers."""
    if not checks:
        return None
    found: dict[str, str | None] = {}

    async def service(check: CheckPlan, plan: IntegrationPlan) -> None:
        outcome = await sender.send(
            plan, "post", ctx, env=env, lead_id=rec.lead_id, deadline=deadline
        )
        if not rec.journaled:
            rec.store.save_attempt(rec.lead_id, outcome)
        found[check.name] = None if outcome.ok else f"{outcome.kind}: {outcome.reason or ''}"

    for check in checks:  # the checks of this process first, without a task or a scope
        if check.service is None and check.in_store:
            found[check.name] = stored_suppression(lead, rec.store.suppressed)
        elif check.service is None and check.check is not None:
            found[check.name] = check.check(lead)
    services = [c for c in checks if c.service is not None]
    if services:
        with anyio.move_on_after(max(deadline - rec.clock.now(), 0.0) + GRACE):
            async with anyio.create_task_group() as tg:
                for check in services:
                    assert check.service is not None
                    tg.start_soon(service, check, check.service)
    failed: str | None = None
    for check in checks:
        if check.name not in found:
            why: str | None = "the verification service did not answer in time"
        else:
            why = found[check.name]
        buyer = check.service.buyer if check.service is not None else None
        if why is None:
            rec.note("check", buyer, "passed", reason=f"{check.name} check passed")
            continue
        outcome = "failed" if check.level == "critical" else "warning"
        rec.note("check", buyer, outcome, reason=f"{check.name} check: {why}")
        if check.level == "critical" and failed is None:
            failed = f"the lead failed the {check.name} check: {why}"
    return failed


def breaker_open(sender: Sender, plan: IntegrationPlan, env: str, clock: Clock) -> bool:
    """True while the buyer's breaker keeps every request away (open, or probing)."""
    breaker = sender.breaker_for(plan, env)
    return breaker.state != "closed" and (breaker.retry_at or 0.0) > clock.now()


def eligible(
    buyers: Sequence[CampaignBuyer],
    lead: Mapping[str, Any],
    sender: Sender,
    store: Store,
    rec: Recorder,
    *,
    env: str,
    step: Step = "eligibility",
) -> list[CampaignBuyer]:
    """The buyers that may be offered the lead now; each excluded one's reason is recorded."""
    out = []
    for b in buyers:
        is_open = breaker_open(sender, b.integration, env, rec.clock)
        why = eligibility(b, lead, store=store, clock=rec.clock, breaker_open=is_open)
        if why is None:
            rec.note(step, b.buyer, "eligible")
            out.append(b)
        else:
            rec.note(step, b.buyer, "excluded", reason=why)
            rec.why(b.buyer, f"excluded: {why}")
    return out


async def ping_all(
    sender: Sender,
    buyers: Sequence[CampaignBuyer],
    ctx: RenderContext,
    rec: Recorder,
    *,
    env: str,
    deadline: float,
    each: Callable[[CampaignBuyer, Outcome], None] | None = None,
) -> dict[str, Outcome]:
    """Ping every buyer at once; the phase ends at ``deadline``. Exactly one outcome per buyer:
    an answer that comes later is discarded and recorded as ``late``. ``each`` is called with
    every buyer's final outcome as it comes (so recording the early answers is done before the
    deadline, not after it, when the bids are awaited)."""
    got: dict[str, Outcome] = {}
    failed: list[Exception] = []
    clock = rec.clock

    async def one(b: CampaignBuyer) -> None:
        outcome = await sender.send(
            b.integration, "ping", ctx, env=env, lead_id=rec.lead_id, deadline=deadline
        )
        if clock.now() > deadline and outcome.kind != "late":
            why = "answered after the ping deadline; the answer is discarded"
            outcome = dataclasses.replace(outcome, kind="late", retryable=False, reason=why)
        got[b.buyer] = outcome
        if each is not None and not failed:  # after a failure, as the loop it replaced: stop
            try:
                each(b, outcome)
            except Exception as exc:  # raised as it was before: by ping_all, not a task group
                failed.append(exc)

    # One asyncio task per ping under asyncio's own TaskGroup and timeout: anyio's task group
    # gives every task a cancel scope and an event of its own, which cost about 6% of an
    # auction's CPU at 50 buyers (scripts/bench/auction.py); the router runs on asyncio only.
    phase = asyncio.timeout(max(deadline - clock.now(), 0.0) + GRACE)
    try:
        async with phase, asyncio.TaskGroup() as tg:
            for b in buyers:
                tg.create_task(one(b))
    except TimeoutError:
        if not phase.expired():
            raise
    for b in buyers:
        if b.buyer not in got:
            got[b.buyer] = late(b.buyer, "ping", "no answer by the ping deadline; discarded")
            if each is not None and not failed:
                each(b, got[b.buyer])
    if failed:
        raise failed[0]
    rec.pinged = rec.ms()
    return {b.buyer: got[b.buyer] for b in buyers}

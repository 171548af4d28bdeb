"""The phases before a lead is posted: pre-sale checks, eligibility, and the parallel pings."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
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

log = logging.getLogger("leadpost.route")

#: What a ping still out is recorded as when the sale ends by an exception or is cancelled.
_CUT_OFF = "cut off: the sale ended before the answer came; discarded"
#: How early the ping phase's timer may fire and still end the phase. asyncio's timers fire
#: on time; uvloop's (uvicorn's default loop) keep whole milliseconds and may fire up to one
#: early, which took on-time bids as late: the phase waits out the rest then.
_EARLY = 50e-6

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


class PingRound:
    """One ping phase: every buyer pinged at once, each answer read (``each``) as it comes.

    ``await round.bids()`` returns as soon as every buyer has answered or at the deadline,
    whichever comes first, with the outcomes of the buyers that answered in time: the sale goes
    on with its bids at once. A buyer still pending then is late whatever it does. Its send
    ends at the same deadline (the runtime's own timer cuts it short), and its outcome is
    recorded as ``late`` and passed to ``each`` when it ends, while the sale goes on. Before,
    the sale waited for every late ping's bookkeeping: about 3 ms past a 100 ms deadline with
    15 late buyers of 50 (scripts/bench/auction.py, scenario 2). Leaving the ``async with``
    waits for those sends, at most ``GRACE`` past the deadline (a stuck send is then cut from
    outside and recorded late); leaving it by an exception cancels them.

    Plain tasks, not a TaskGroup: the sale runs inside the ``async with``, and a TaskGroup
    would wrap its exceptions (a lost claim, say) in an ExceptionGroup.
    """

    def __init__(
        self,
        sender: Sender,
        buyers: Sequence[CampaignBuyer],
        ctx: RenderContext,
        rec: Recorder,
        *,
        env: str,
        deadline: float,
        each: Callable[[CampaignBuyer, Outcome], None] | None = None,
    ) -> None:
        self.sender, self.buyers, self.ctx, self.rec = sender, buyers, ctx, rec
        self.env, self.deadline, self.each = env, deadline, each
        self.got: dict[str, Outcome] = {}
        """Every final outcome so far, by buyer."""
        self.closed = False
        """True once the bids were taken: an outcome that comes later is late."""
        self._failure: Exception | None = None
        """What the phase raises: the first failure before the bids were taken."""
        self._broken = False
        """True after a failure: nothing more is passed to ``each``."""
        self._tasks: list[asyncio.Task[None]] = []
        self._left = len(buyers)
        self._over: asyncio.Future[None] | None = None
        self._due = 0.0
        self._timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> PingRound:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._one(b)) for b in self.buyers]
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            await self._settle(cancel=kind is not None)
        except BaseException:  # cancelled while waiting: so are the sends, before going on
            await self._cancel()
            self._fill(_CUT_OFF, strict=False)
            raise
        if kind is not None:  # the sale failed: its exception goes on, not a recording's
            self._fill(_CUT_OFF, strict=False)
            return
        if self._failure is not None:
            raise self._failure
        self._fill("no answer by the ping deadline; discarded", strict=True)

    async def bids(self) -> dict[str, Outcome]:
        """The outcomes of the buyers that answered by the deadline (all of them, when every
        buyer answered earlier); the phase ends here (``Recorder.pinged``)."""
        if self._left and self._failure is None:
            loop = asyncio.get_running_loop()
            self._over = loop.create_future()
            # A microsecond ahead of the sends' own timers for the same deadline: both fire in
            # one turn of the loop, and this way the sale goes on first, the late sends'
            # bookkeeping after it (in the other order it waited for all of them).
            left = max(self.deadline - self.rec.clock.now(), 0.0)
            self._due = time.monotonic() + left
            self._timer = loop.call_at(loop.time() + left - 1e-6, self._tick)
            try:
                await self._over
            finally:
                self._timer.cancel()
        self.closed = True
        if self._failure is not None:  # raised as itself: by the phase, not a task's exception
            raise self._failure
        self.rec.pinged = self.rec.ms()
        return dict(self.got)

    def outcomes(self) -> dict[str, Outcome]:
        """Every buyer's outcome in the campaign's order (once the ``async with`` is left)."""
        return {b.buyer: self.got[b.buyer] for b in self.buyers}

    def _tick(self) -> None:
        early = self._due - time.monotonic()
        if early > _EARLY:  # a timer of whole milliseconds (uvloop's) fired early: not yet
            self._timer = asyncio.get_running_loop().call_later(early, self._tick)
            return
        self._end()

    def _end(self) -> None:
        if self._over is not None and not self._over.done():
            self._over.set_result(None)

    async def _one(self, b: CampaignBuyer) -> None:
        try:
            try:
                outcome = await self.sender.send(
                    b.integration, "ping", self.ctx, env=self.env, lead_id=self.rec.lead_id,
                    deadline=self.deadline,
                )  # fmt: skip
            except Exception as exc:
                if not self.closed:  # the phase ends now, with this exception
                    self._fail(exc)
                    return
                # The sale went on without this buyer: its failure must not fail the sale.
                log.exception("lead %s: the late ping to %s failed", self.rec.lead_id, b.buyer)
                why = f"the ping failed after the bids were taken ({type(exc).__name__})"
                outcome = late(b.buyer, "ping", why)
            if (self.closed or self.rec.clock.now() > self.deadline) and outcome.kind != "late":
                why = "answered after the ping deadline; the answer is discarded"
                outcome = dataclasses.replace(outcome, kind="late", retryable=False, reason=why)
            self.got[b.buyer] = outcome
            if self.each is not None and not self._broken:  # after a failure: stop
                try:
                    self.each(b, outcome)
                except Exception as exc:
                    if not self.closed:
                        self._fail(exc)
                        return
                    self._broken = True
                    log.exception("lead %s: recording the ping to %s failed", self.rec.lead_id,
                                  b.buyer)  # fmt: skip
        finally:
            self._left -= 1
            if not self._left:
                self._end()

    def _fail(self, exc: Exception) -> None:
        if self._failure is None:
            self._failure = exc
        self._broken = True
        self._end()

    def _fill(self, why: str, *, strict: bool) -> None:
        """Record ``late`` for every buyer without an outcome. Not ``strict``: a failure to
        record is logged, not raised (another exception is on its way, or the sale went on)."""
        for b in self.buyers:
            if b.buyer in self.got:
                continue
            self.got[b.buyer] = outcome = late(b.buyer, "ping", why)
            if self.each is None or self._broken:
                continue
            if strict:
                self.each(b, outcome)
                continue
            try:
                self.each(b, outcome)
            except Exception:
                log.exception("lead %s: recording the ping to %s failed", self.rec.lead_id, b.buyer)
                self._broken = True

    async def _settle(self, *, cancel: bool) -> None:
        """Wait for the pings still out (at most ``GRACE`` past the deadline); cancel them
        when ``cancel``, or when they are stuck past that."""
        pending = {t for t in self._tasks if not t.done()}
        if pending and not cancel:
            wait = max(self.deadline + GRACE - self.rec.clock.now(), 0.0)
            _, pending = await asyncio.wait(pending, timeout=wait)
        if pending:
            await self._cancel()

    async def _cancel(self) -> None:
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


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
    """Ping every buyer at once and wait for every outcome (see :class:`PingRound`): exactly
    one outcome per buyer, ``late`` for an answer after the deadline; ``each`` is called with
    every buyer's final outcome as it comes."""
    async with PingRound(sender, buyers, ctx, rec, env=env, deadline=deadline, each=each) as r:
        await r.bids()
    return r.outcomes()

"""Work that outlives a process: due retry jobs, and leads left behind by a node that died.

:class:`Worker` claims, through the store, the retry jobs that are due and the leads without a
disposition whose node's lease ran out, and finishes each from where the journal says it
stopped:

- a post left ``sending`` (the process died while it was on its way) becomes ``unknown`` with the
  buyer's ``on_timeout`` applied: ``reject`` lets the lead go to the next buyer; otherwise a buyer
  with ``delivery: at_least_once`` (or ``on_timeout: retry``) gets it again with the same
  idempotency key, and an ``at_most_once`` buyer's post is parked as ``unknown`` for an operator
  (``leadpost redeliver``) — never resent, never sold to another buyer;
- an accepted post (the sale was committed with its outcome) ends the lead ``sold``;
- a lead older than its buyers' ``give_up_after`` ends ``expired``;
- otherwise the sale resumes: the buyers the journal shows were posted to are skipped.

An operator's pause (``POST /v1/buyers/{buyer}/pause``, kept in the store for every node) holds
here too; each round that has work reads the paused buyers from the store:

- a due retry job for a paused buyer is not sent: it stays a job, due again
  :data:`PAUSED_RECHECK` seconds later and claimable by any node then, and the lead keeps its
  ``scheduled`` disposition (logged at INFO each time). Once the buyer is resumed the job runs
  at its next due time. A lead that got older than the buyer's ``give_up_after`` while it
  waited still ends ``expired``;
- a recovered lead, and the rest of a sale after a retry that did not deliver, are offered to
  the campaign's buyers without the paused ones (as a new lead is).

Several workers (processes, machines) may run at once: the store hands each job and lead to one
of them. ``run()`` loops forever (a service starts it in its task group); ``run_once()`` does one
round and says how much it did.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import anyio

from engine.auction.record import money, said
from engine.auction.result import RouteResult
from engine.auction.run import Router, lead_time
from engine.campaigns.plan import CampaignBuyer, CampaignPlan, without
from engine.plan import RenderContext
from engine.runtime.outcome import NOT_DELIVERED
from engine.runtime.retry import STALE, decide
from engine.store.journal import AttemptRow, ClaimLost, Job, LeadState
from engine.store.ops import JobSpec
from engine.store.sources import paused_buyers

log = logging.getLogger("leadpost.worker")

STOPPED = "the process sending it stopped before the answer was recorded"
#: Seconds a paused buyer's due retry waits before a worker looks at it again.
PAUSED_RECHECK = 30.0


def _result(state: LeadState, disposition: str, reason: str, **more: Any) -> dict[str, Any]:
    return {
        "lead_id": state.lead_id, "campaign": state.campaign, "disposition": disposition,
        "reason": reason, "buyer": more.get("buyer"), "price": more.get("price"),
        "buyer_lead_id": None, "reasons": {}, "trace": [], "elapsed": 0.0, "recovered": True,
    }  # fmt: skip


class Worker:
    """Claims and finishes jobs and orphaned leads for the campaigns it knows."""

    def __init__(
        self,
        router: Router,
        campaigns: Mapping[str, CampaignPlan],
        *,
        batch: int = 20,
        idle: float = 0.5,
    ) -> None:
        self.router = router
        self.store = router.store
        self.campaigns = dict(campaigns)
        self.batch = batch
        self.idle = idle
        self.done = 0
        """Jobs and leads handled so far."""
        self.paused: frozenset[str] = frozenset()
        """Buyers an operator paused, read from the store at the start of each round with work."""

    async def run(self) -> None:
        """Rounds forever; sleeps ``idle`` seconds (on the router's clock) when idle."""
        while True:
            if not await self.run_once():
                await self.router.clock.sleep(self.idle)

    async def run_once(self) -> int:
        """Recover orphaned leads and run due jobs (concurrently); how many were handled."""
        # Read before claiming: a failed read must not leave claimed work behind (the list
        # from the last round stands, and the store's writer retries the claims themselves).
        try:
            self.paused = await anyio.to_thread.run_sync(paused_buyers, self.store)
        except Exception as exc:
            log.warning("could not read the paused buyers (%s); using the last list", exc)
        orphans = await self.store.claim_orphans(self.batch)
        jobs = await self.store.claim_jobs(self.batch)
        async with anyio.create_task_group() as tg:
            for lead_id in orphans:
                tg.start_soon(self._guard, self.recover, lead_id)
            for job in jobs:
                tg.start_soon(self._guard, self.run_job, job)
        self.done += len(orphans) + len(jobs)
        return len(orphans) + len(jobs)

    async def _guard(self, handle: Any, item: Any) -> None:
        try:
            await handle(item)
        except ClaimLost as lost:  # the node that took it over finishes it
            log.warning("%s; this node stops working on it", lost)
        except Exception:
            log.exception("recovering %s failed; it stays claimed until this node stops", item)

    # -- one lead ----------------------------------------------------------------------------

    def _buyers(self, campaign: CampaignPlan) -> dict[str, CampaignBuyer]:
        return {b.buyer: b for b in (*campaign.buyers, *campaign.fallback)}

    async def _settle_dangling(
        self, state: LeadState, buyers: Mapping[str, CampaignBuyer]
    ) -> list[tuple[AttemptRow, str]]:
        """Each ``sending`` row becomes its outcome: ``rejected`` under ``on_timeout: reject``,
        else ``unknown``. Returns (row, kind) of the posts to campaign buyers."""
        out = []
        for row in state.attempts:
            if row.state != "sending":
                continue
            b = buyers.get(row.buyer)
            reject = b is not None and b.integration.retry.on_timeout == "reject"
            kind = "rejected" if reject else "unknown"
            why = f"timed out (treated as rejected): {STOPPED}" if reject else STOPPED
            await self.store.settle_dangling(state.lead_id, row, kind, why)
            if b is not None and row.stage == "post":
                out.append((row, kind))
        return out

    async def recover(self, lead_id: str) -> None:
        """Finish a lead whose node died before it had a disposition."""
        state = self.store.lead_state(lead_id)
        found = self.store.get_lead(lead_id)
        if state is None or found is None or state.campaign not in self.campaigns:
            return
        await self._resume(state, self.campaigns[state.campaign], found[1])

    async def _resume(
        self, state: LeadState, campaign: CampaignPlan, lead: Mapping[str, Any]
    ) -> None:
        """Finish a lead from what the journal shows a dead node did with it."""
        lead_id = state.lead_id
        buyers = self._buyers(campaign)
        dangling = await self._settle_dangling(state, buyers)
        if await self._sold(state):
            return
        for row, kind in dangling:
            if kind == "unknown":
                await self._unknown(state, buyers[row.buyer], row.attempt, lead)
                return
        if self._too_old(campaign, lead):
            self.store.release(lead_id)
            why = "nobody bought the lead before it got too old to be offered again after a restart"
            await self.store.finish(lead_id, _result(state, "expired", why))
            return
        self.store.release(lead_id)
        skip = frozenset(state.posted())
        await self.router.route(without(campaign, self.paused), lead, lead_id=lead_id, resume=skip)

    async def _sold(self, state: LeadState) -> bool:
        for buyer, hold, price in state.holds:
            if hold == "sold":
                why = f"sold to {buyer} for {money(None if price is None else Decimal(price))}"
                result = _result(state, "sold", why, buyer=buyer, price=price)
                await self.store.finish(state.lead_id, result)
                return True
        return False

    async def _unknown(
        self, state: LeadState, b: CampaignBuyer, attempt: int, lead: Mapping[str, Any]
    ) -> None:
        plan = b.integration
        if plan.delivery == "at_least_once" or plan.retry.on_timeout == "retry":
            how = "at least once" if plan.delivery == "at_least_once" else "on_timeout: retry"
            why = f"resend after a restart ({how}), with the same idempotency key"
            now = self.router.clock.epoch()
            job = JobSpec(b.buyer, "post", attempt + 1, now, why)
            text = f"the post to {b.buyer} waits to be sent again: {STOPPED}"
            await self.store.finish(
                state.lead_id, _result(state, "scheduled", text, buyer=b.buyer), job
            )
            return
        why = (
            f"the post to {b.buyer} was on its way when the process stopped: it may have the"
            " lead, so it is parked for an operator (leadpost redeliver) and offered to nobody"
            " else"
        )
        await self.store.finish(state.lead_id, _result(state, "unknown", why, buyer=b.buyer))

    def _too_old(self, campaign: CampaignPlan, lead: Mapping[str, Any]) -> bool:
        clock = self.router.clock
        age = (clock.wall() - lead_time(lead, clock)).total_seconds()
        limit = max((b.integration.retry.give_up_after for b in self._buyers(campaign).values()),
                    default=0.0)  # fmt: skip
        return age >= limit

    # -- one job -----------------------------------------------------------------------------

    async def run_job(self, job: Job) -> None:
        """One due retry: send the next attempt and commit what it means."""
        state = self.store.lead_state(job.lead_id)
        found = self.store.get_lead(job.lead_id)
        if state is None or found is None or state.campaign not in self.campaigns:
            if state is not None:  # looked at again later (by a node that knows the campaign)
                why = f"campaign {state.campaign} is not loaded on {self.store.node}"
                await self._postpone(job, why)
            return
        campaign = self.campaigns[state.campaign]
        buyers = self._buyers(campaign)
        b = buyers.get(job.buyer)
        if b is None:
            why = f"{job.buyer} is no longer in campaign {campaign.campaign}: parked"
            await self.store.finish(job.lead_id, _result(state, "unknown", why, buyer=job.buyer))
            return
        lead = found[1]
        if job.taken_over and any(
            row.buyer == job.buyer and row.stage == job.stage and row.attempt >= job.attempt
            for row in state.attempts
        ):
            # The dead node made this attempt, and maybe went on to other buyers: sending it
            # again would post twice (and perhaps sell twice). Finish from the journal instead.
            await self._resume(state, campaign, lead)
            return
        if job.taken_over:
            for row, kind in await self._settle_dangling(state, buyers):
                if kind == "unknown" and row.buyer == job.buyer:
                    await self._unknown(state, b, row.attempt, lead)
                    return
        await self._attempt(state, campaign, b, job, lead)

    async def _attempt(
        self,
        state: LeadState,
        campaign: CampaignPlan,
        b: CampaignBuyer,
        job: Job,
        lead: Mapping[str, Any],
    ) -> None:
        r = self.router
        plan = b.integration
        now = lead_time(lead, r.clock)
        age = (r.clock.wall() - now).total_seconds()
        if age >= plan.retry.give_up_after:
            why = (
                f"nobody bought the lead before it got too old: {b.buyer} gives up"
                f" {plan.retry.give_up_after:g} seconds after the lead's time"
            )
            if b.buyer in self.paused:
                why += f" (its retry waited while an operator had {b.buyer} paused)"
            await self.store.finish(state.lead_id, _result(state, "expired", why))
            return
        if b.buyer in self.paused:
            await self._postpone(
                job, f"{b.buyer} is paused by an operator: the retry waits until it is resumed"
            )
            return
        ctx = RenderContext(lead, now, dict(job.prior))
        outcome = await r.runtime.send(
            plan, job.stage, ctx, env=r.env, lead_id=state.lead_id, attempt=job.attempt
        )
        if outcome.kind in ("accepted", "rejected", "duplicate"):
            r.store.record_post(b.buyer, outcome.ok, r.clock.wall())
        price = next((p for buyer, _, p in state.holds if buyer == b.buyer), None)
        if outcome.ok:
            paid = Decimal(price) if price is not None else outcome.price
            why = f"sold to {b.buyer} for {money(paid)} after retries"
            result = _result(
                state, "sold", why, buyer=b.buyer, price=None if paid is None else str(paid)
            )
            await self.store.finish(state.lead_id, result)
            return
        if outcome.retryable:
            rand = getattr(r.runtime, "rand", random.random)
            decision = decide(
                plan.retry, outcome.kind, job.attempt, age, rand(), outcome.retry_after
            )
            if decision.retry and decision.delay is not None:
                due = r.clock.epoch() + decision.delay.seconds
                spec = JobSpec(b.buyer, job.stage, job.attempt + 1, due, decision.reason, "{}")
                text = f"the post to {b.buyer} failed ({outcome.kind}) and waits in the retry queue"
                await self.store.finish(
                    state.lead_id, _result(state, "scheduled", text, buyer=b.buyer), spec
                )
                return
            if decision.reason.startswith(STALE):
                self.store.release(state.lead_id)
                why = f"nobody bought the lead before it got too old ({b.buyer}: {decision.reason})"
                await self.store.finish(state.lead_id, _result(state, "expired", why))
                return
        if outcome.kind in NOT_DELIVERED:
            self.store.release(state.lead_id, b.buyer)
            skip = frozenset([*state.posted(), b.buyer])
            await r.route(without(campaign, self.paused), lead, lead_id=state.lead_id, resume=skip)
            return
        why = f"the retried post to {b.buyer} ended {said(outcome)}: it may have the lead"
        await self.store.finish(state.lead_id, _result(state, "unknown", why, buyer=b.buyer))

    async def _postpone(self, job: Job, why: str) -> None:
        """The job is not sent now (``why``, shown in the history): it waits, unsent, and is
        looked at again :data:`PAUSED_RECHECK` seconds later."""
        await self.store.postpone(
            job.lead_id, job.buyer, self.router.clock.epoch() + PAUSED_RECHECK, why
        )
        log.info("lead %s: the %s attempt %d to %s is not sent (%s); looked at again in %g s",
                 job.lead_id, job.stage, job.attempt, job.buyer, why, PAUSED_RECHECK)  # fmt: skip


class Refused(Exception):
    """A redelivery that must not happen (the lead was sold, or is not known)."""


async def redeliver(
    router: Router, campaigns: Mapping[str, CampaignPlan], lead_id: str, buyer: str | None
) -> RouteResult:
    """Offer a parked, unsold or expired lead again: to ``buyer`` only, or through its whole
    campaign. Refuses a lead that was sold (a lead is sold once) or is still being sold."""
    store = router.store
    state = store.lead_state(lead_id)
    if state is None:
        raise Refused(f"there is no lead {lead_id} in the store")
    sold = next((h for h in state.holds if h[1] == "sold"), None)
    if sold is not None:
        raise Refused(
            f"lead {lead_id} was sold to {sold[0]}: a lead is sold once; if the buyer returned"
            " it, record that with `leadpost return`"
        )
    if state.disposition in (None, "scheduled"):
        what = "is still being sold" if state.disposition is None else "waits for a retry"
        raise Refused(f"lead {lead_id} {what}; let the worker finish it first")
    found = store.get_lead(lead_id)
    if found is None:
        raise Refused(f"lead {lead_id}'s document was purged: it cannot be sent again")
    campaign = campaigns.get(state.campaign)
    if campaign is None:
        raise Refused(f"campaign {state.campaign} is not among the campaign files given")
    if buyer is not None:
        chosen = [b for b in (*campaign.buyers, *campaign.fallback) if b.buyer == buyer]
        if not chosen:
            raise Refused(f"{buyer} is not a buyer of campaign {campaign.campaign}")
        campaign = dataclasses.replace(campaign, mode="direct", buyers=tuple(chosen), fallback=())
    store.release(lead_id)
    return await router.route(campaign, found[1], lead_id=lead_id)

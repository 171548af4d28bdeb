"""The router: one lead through one campaign — checks, eligibility, auction or waterfall, posts.

``Router.route`` seals and commits the lead before anything is sent, runs the pre-sale checks,
offers the lead to the eligible buyers by the campaign's mode, falls back to the fallback
waterfall when nobody bought it, and commits the :class:`RouteResult` before returning it. Before
each post the store reserves the buyer's hold on the lead (its caps are decided there, for every
process at once); a post whose result is unknown keeps its hold, so the lead is never offered to
a second buyer. With a journaled runtime a post that must wait for a retry becomes a job in the
store (for ``leadpost worker``), committed with the lead's ``scheduled`` disposition. The caller
never waits past the campaign's deadlines and no task outlives ``route``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.auction.phases import GRACE, PingRound, Sender, eligible, ping_all, run_checks
from engine.auction.record import Recorder, money, post_failed, said
from engine.auction.result import RouteResult, Step
from engine.auction.select import Bid, PostStep, Turns, post_step, rank, read_bid, take_turns
from engine.campaigns.plan import CampaignBuyer, CampaignPlan
from engine.clock import Clock
from engine.errors import LeadError
from engine.lead import lead_timestamp
from engine.plan import RenderContext
from engine.runtime.eligibility import cap_limits
from engine.runtime.outcome import Delivery, Outcome
from engine.runtime.retry import STALE
from engine.runtime.scheduler import Job
from engine.store.base import to_json
from engine.store.journal import ClaimLost, DurableStore
from engine.store.ops import JobSpec

#: How far back a buyer's acceptance rate is counted for the auction's tie-break.
ACCEPTANCE_WINDOW = 24 * 3600.0


def new_lead_id() -> str:
    """``ld-`` and 80 random bits as hex (one read of the system's random source; uuid4's
    object cost more than the rest of an auction's bookkeeping)."""
    return "ld-" + secrets.token_hex(10)


def lead_time(lead: Mapping[str, Any], clock: Clock) -> datetime:
    """The lead's timestamp (the "as of" time of its fields), or now when it has none."""
    try:
        return lead_timestamp(lead)
    except LeadError:
        return clock.wall()


log = logging.getLogger("leadpost.route")


class Router:
    """Sells leads through campaigns with one runtime and one store."""

    def __init__(self, runtime: Sender, store: DurableStore, clock: Clock, *, env: str) -> None:
        self.runtime = runtime
        self.store = store
        self.clock = clock
        self.env = env
        self.journaled = getattr(runtime, "journal", None) is not None
        """True when the runtime commits each post's intent (then retries become store jobs)."""
        self._waiting: dict[tuple[str, str], tuple[Decimal | None, int]] = {}
        scheduler = getattr(runtime, "scheduler", None)
        if scheduler is not None and scheduler.on_result is None:
            scheduler.on_result = self.settle

    async def route(
        self,
        campaign: CampaignPlan,
        lead: Mapping[str, Any],
        *,
        lead_id: str | None = None,
        resume: frozenset[str] | None = None,
    ) -> RouteResult:
        """Route one normalized lead through ``campaign``; the result is committed before it is
        returned. ``resume``: the lead is already stored (recovery); skip these buyers, which
        the journal shows were posted to already."""
        lead_id = lead_id or new_lead_id()
        rec = Recorder(self.store, self.clock, lead_id, campaign.campaign, journaled=self.journaled)
        if resume is None:
            # Queued: the first post's intent, awaited before any byte is sent, commits it too
            # (one wait on the disk instead of two); finish commits it when nothing is posted.
            await self.store.open_lead(lead_id, campaign.campaign, lead, wait=False)
        sale = _Sale(self, campaign, lead, rec, skip=resume or frozenset())
        try:
            result = await sale.run()
            await self.store.finish(lead_id, result.to_dict(), sale.job)
        except ClaimLost as lost:
            return _taken_over(campaign, lead_id, lost)
        except BaseExceptionGroup as group:  # a check run in a task group found it out
            lost_group, rest = group.split(ClaimLost)
            if lost_group is None or rest is not None:
                raise
            return _taken_over(campaign, lead_id, lost_group.exceptions[0])
        return result

    async def settle(self, job: Job, delivery: Delivery) -> None:
        """Record how a post handed to the in-memory retry queue ended (the scheduler's
        ``on_result``; a journaled runtime's retries are store jobs instead)."""
        waiting = self._waiting.pop((job.lead_id, job.buyer), None)
        if waiting is None or job.stage != "post":
            return
        price, saved = waiting
        for outcome in delivery.attempts[saved:]:
            self.store.save_attempt(job.lead_id, outcome)
        last = delivery.outcome
        if last.kind in ("accepted", "rejected", "duplicate"):
            self.store.record_post(job.buyer, last.ok, self.clock.wall())
        before = dict(self.store.get_result(job.lead_id) or {"lead_id": job.lead_id})
        if last.ok:
            price = price if price is not None else last.price
            update = {"disposition": "sold", "price": None if price is None else str(price)}
            update["buyer_lead_id"] = last.buyer_lead_id
            update["reason"] = f"sold to {job.buyer} for {money(price)} after retries"
        elif last.sent:
            why = f"the retried post to {job.buyer} ended {said(last)}: it may have the lead"
            update = {"disposition": "unknown", "reason": why}
        else:
            why = f"nobody bought the lead: the retried post to {job.buyer} ended {said(last)}"
            update = {"disposition": "unsold", "reason": why}
        update["buyer"] = job.buyer
        await self.store.settle(job.lead_id, {**before, **update})


def _taken_over(campaign: CampaignPlan, lead_id: str, lost: BaseException) -> RouteResult:
    """What this node can say of a lead another node took over (it writes no result)."""
    log.warning("%s; this node stops working on it", lost)
    why = (
        "another leadpost process took this lead over while this one was routing it (this one"
        " had stalled for longer than LEADPOST_LEASE seconds) and finishes it; nothing more was"
        f" sent from here. See what became of it with `leadpost history {lead_id}`"
    )
    return RouteResult(lead_id, campaign.campaign, "unknown", why)


def _untried(turns: Turns[Any], sold: str) -> str:
    """Why a candidate was never posted to."""
    if turns.end == "sold":
        return sold
    if turns.end is not None:
        return "not posted to: an earlier buyer may already have the lead"
    return f"not posted to: {turns.stopped or 'the sale ended'}"


class _Sale:
    """The state of selling one lead (internal to :meth:`Router.route`)."""

    def __init__(
        self,
        router: Router,
        campaign: CampaignPlan,
        lead: Mapping[str, Any],
        rec: Recorder,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        self.r = router
        self.skip = skip
        self.job: JobSpec | None = None
        """The retry job to commit with the result (journaled runtime, post scheduled)."""
        self.stale: str | None = None
        """Why a buyer's retries stopped because the lead got too old, if one did."""
        self.campaign = campaign
        self.lead = lead
        self.rec = rec
        self.now = lead_time(lead, router.clock)
        start = rec.start
        self.ping_deadline = start + campaign.ping_deadline
        self.deadline = start + campaign.total_deadline
        self.posting: str | None = None
        self.posted: list[str] = []
        self.sale: tuple[str, Decimal | None, str | None] | None = None
        self.pending: Outcome | None = None
        self.turns: Turns[Any] | None = None
        """The auction's turns, kept before its late pings are waited for: a total deadline
        that passes while they are still out must not lose a sale already made."""

    def ctx(self, prior: Mapping[str, Mapping[str, Any]] | None = None) -> RenderContext:
        """The lead's context, with the runtime's environment (so no send copies it per ping)."""
        environ = getattr(self.r.runtime, "environ", None) or {}
        return RenderContext(self.lead, self.now, dict(prior or {}), environ=environ)

    def expired(self) -> bool:
        return self.r.clock.now() >= self.deadline

    async def run(self) -> RouteResult:
        c, rec = self.campaign, self.rec
        failed = await run_checks(
            self.r.runtime, c.checks, self.lead, self.ctx(), rec, env=self.r.env,
            deadline=self.deadline,
        )  # fmt: skip
        if failed is not None:
            for b in (*c.buyers, *c.fallback):
                rec.why(b.buyer, "not offered: the lead failed a pre-sale check")
            return rec.result("rejected", failed)
        turns: Turns[Any] | None = None
        # asyncio's own timeout, as in ping_all (the router runs on asyncio only): an anyio
        # scope here cost more than the rest of an auction's bookkeeping.
        limit = asyncio.timeout(max(self.deadline - self.r.clock.now(), 0.0) + GRACE)
        try:
            async with limit:
                turns = await (self.auction() if c.mode == "auction" else self.waterfall(c.buyers))
                if turns.end is None and c.fallback:
                    turns = await self.waterfall(c.fallback, step="fallback")
        except TimeoutError:
            if not limit.expired():
                raise
            if self.sale is None:
                return self.cut_short()
        return self.finish(turns if turns is not None else self.turns)

    # -- modes --------------------------------------------------------------------------------

    async def auction(self) -> Turns[Bid]:
        c, rec, env = self.campaign, self.rec, self.r.env
        offer = self.offered(c.buyers)
        buyers = eligible(offer, self.lead, self.r.runtime, self.r.store, rec, env=env)
        by_id = {b.buyer: b for b in buyers}
        read: dict[str, tuple[Decimal | None, str | None]] = {}

        def each(b: CampaignBuyer, outcome: Outcome) -> None:
            """Read and record one ping's answer as it comes (in the order they came)."""
            price = outcome.price if outcome.price is not None else b.price
            amount, why = read_bid(price, c.floor) if outcome.ok else (None, None)
            shown = amount if amount is not None else price if outcome.ok else None
            rec.attempt("ping", outcome, bid=shown)
            read[b.buyer] = amount, why

        # The bids are taken at the deadline (or once everybody answered); a ping still out
        # then is recorded late when its send ends, while the lead is posted (see PingRound).
        async with PingRound(
            self.r.runtime, buyers, self.ctx(), rec, env=env, deadline=self.ping_deadline,
            each=each,
        ) as pings:  # fmt: skip
            answered = await pings.bids()
            bids: list[Bid] = []
            for b in buyers:  # in the campaign's order, whatever order the answers came in
                if b.buyer not in answered:  # the final reason comes with its outcome, below
                    rec.why(b.buyer, "no bid (late: no answer by the ping deadline)")
                    continue
                amount, why = read[b.buyer]
                if amount is None:
                    rec.why(b.buyer, why or f"no bid ({said(answered[b.buyer])})")
                    continue
                bids.append(Bid(b.buyer, amount, None, b.priority))
                rec.why(b.buyer, f"bid {money(amount)}")
            bids = self.tie_break(bids)

            async def post(bid: Bid) -> PostStep:
                ping = answered[bid.buyer]
                return await self.post(by_id[bid.buyer], "post", bid.amount, {"ping": ping.values})

            ranked = rank(bids)
            turns = await take_turns(ranked, post, limit=c.max_post_attempts, expired=self.expired)
            self.turns = turns
            for bid in turns.untried:
                rec.why(bid.buyer, f"{_untried(turns, 'outbid')} (bid {money(bid.amount)})")
        for buyer, outcome in pings.outcomes().items():
            if buyer not in answered:
                rec.why(buyer, f"no bid ({said(outcome)})")
        return turns

    def tie_break(self, bids: list[Bid]) -> list[Bid]:
        """The bids, with the recent acceptance rate of each buyer whose amount another buyer
        bid too (the rate orders only equal bids, so the others need not look it up)."""
        seen: dict[Decimal, int] = {}
        for bid in bids:
            seen[bid.amount] = seen.get(bid.amount, 0) + 1
        if all(n == 1 for n in seen.values()):
            return bids
        since = self.r.clock.wall() - timedelta(seconds=ACCEPTANCE_WINDOW)
        rate = self.r.store.acceptance_rate
        return [
            dataclasses.replace(bid, acceptance=rate(bid.buyer, since))
            if seen[bid.amount] > 1
            else bid
            for bid in bids
        ]

    async def waterfall(
        self, buyers: Sequence[CampaignBuyer], step: Step = "post"
    ) -> Turns[CampaignBuyer]:
        rec = self.rec
        offer = self.offered(buyers)
        offered = eligible(offer, self.lead, self.r.runtime, self.r.store, rec, env=self.r.env)

        async def post(b: CampaignBuyer) -> PostStep:
            prior: dict[str, Mapping[str, Any]] = {}
            if b.integration.is_ping_post:
                deadline = min(self.r.clock.now() + self.campaign.ping_deadline, self.deadline)
                ping = (
                    await ping_all(
                        self.r.runtime, [b], self.ctx(), rec, env=self.r.env, deadline=deadline
                    )
                )[b.buyer]
                rec.attempt("ping", ping, bid=ping.price)
                if not ping.ok:
                    rec.why(b.buyer, f"ping not accepted ({said(ping)})")
                    return "next"
                prior["ping"] = ping.values
            return await self.post(b, step, b.price, prior)

        turns = await take_turns(offered, post, expired=self.expired)
        for b in turns.untried:
            rec.why(b.buyer, _untried(turns, "not needed: an earlier buyer bought the lead"))
        return turns

    def offered(self, buyers: Sequence[CampaignBuyer]) -> list[CampaignBuyer]:
        """The buyers not skipped (when resuming: the journal shows a post to them already)."""
        for b in buyers:
            if b.buyer in self.skip:
                self.rec.why(b.buyer, "posted to before the restart: not offered again")
        return [b for b in buyers if b.buyer not in self.skip]

    # -- one post -----------------------------------------------------------------------------

    async def post(
        self,
        b: CampaignBuyer,
        step: Step,
        price: Decimal | None,
        prior: Mapping[str, Mapping[str, Any]],
    ) -> PostStep:
        """Deliver the full lead to ``b`` (with retries per its file) by the total deadline."""
        rec, r = self.rec, self.r
        limits = cap_limits(b.integration.caps, r.clock.wall())
        refused = await r.store.reserve(rec.lead_id, b.buyer, price, limits)
        if refused is not None:
            rec.note(step, b.buyer, "excluded", reason=refused)
            rec.why(b.buyer, f"excluded: {refused}")
            return "next"
        self.posting = b.buyer
        self.posted.append(b.buyer)
        delivery = await r.runtime.deliver(
            b.integration, "post", self.ctx(prior), env=r.env, lead_id=rec.lead_id,
            deadline=self.deadline,
        )  # fmt: skip
        self.posting = None
        for attempt in delivery.attempts:
            rec.attempt(step, attempt, bid=price)
        last = delivery.outcome
        rec.post_answered(last)
        result = post_step(last.kind, scheduled=delivery.scheduled)
        if result == "sold":
            paid = price if price is not None else last.price
            self.sale = (b.buyer, paid, last.buyer_lead_id)
            rec.why(b.buyer, f"sold for {money(paid)}")
        elif result == "scheduled":
            self.pending = last
            rec.why(b.buyer, f"post waits for a retry ({said(last)})")
            if r.journaled:
                self.job = self.persist(b, delivery, prior)
            else:
                r._waiting[(rec.lead_id, b.buyer)] = (price, len(delivery.attempts))
        else:
            self.pending = last
            stale = delivery.gave_up is not None and delivery.gave_up.startswith(STALE)
            why = post_failed(last)
            rec.why(b.buyer, f"{why}; no retry: {delivery.gave_up}" if stale else why)
            if result == "next":
                r.store.release(rec.lead_id, b.buyer)
            if stale:
                self.stale = f"{b.buyer}: {delivery.gave_up}"
        return result

    def persist(
        self, b: CampaignBuyer, delivery: Delivery, prior: Mapping[str, Mapping[str, Any]]
    ) -> JobSpec:
        """The store job replacing the runtime's in-memory retry of ``b`` (same due time)."""
        r = self.r
        scheduler = getattr(r.runtime, "scheduler", None)
        if scheduler is not None:
            scheduler.cancel(self.rec.lead_id, b.buyer)
        wait = max((delivery.scheduled_at or r.clock.now()) - r.clock.now(), 0.0)
        due = r.clock.epoch() + wait
        last = delivery.outcome
        reason = f"retry after {said(last)}"
        return JobSpec(b.buyer, "post", last.attempt + 1, due, reason, to_json(prior))

    # -- the end ------------------------------------------------------------------------------

    def cut_short(self) -> RouteResult:
        """The result when the total deadline cut the sale short from outside."""
        rec, buyer = self.rec, self.posting
        for b in (*self.campaign.buyers, *self.campaign.fallback):
            rec.why(b.buyer, "not reached before the total deadline", replace=False)
        if buyer is None:
            return rec.result("unsold", "nobody bought the lead before the total deadline")
        rec.why(buyer, "post cut short by the total deadline: the buyer may have the lead")
        why = (
            f"the total deadline passed while the post to {buyer} was on its way: it may have"
            " the lead, so it is not offered to another buyer"
        )
        return rec.result("unknown", why, buyer=buyer)

    def finish(self, turns: Turns[Any] | None) -> RouteResult:
        rec = self.rec
        unreached = "not needed: the lead was sold" if self.sale is not None else "not reached"
        for b in (*self.campaign.buyers, *self.campaign.fallback):
            rec.why(b.buyer, unreached, replace=False)
        if turns is not None and turns.end == "sold" and self.sale is not None:
            buyer, price, blid = self.sale
            why = f"sold to {buyer} for {money(price)}"
            return rec.result("sold", why, buyer=buyer, price=price, buyer_lead_id=blid)
        last = self.pending
        if turns is not None and turns.end in ("unknown", "scheduled") and last is not None:
            if turns.end == "unknown":
                why = (
                    f"the post to {last.buyer} ended {said(last)}: it may have the lead,"
                    " so it is not offered to another buyer"
                )
                return rec.result("unknown", why, buyer=last.buyer)
            why = f"the post to {last.buyer} failed ({last.kind}) and waits in the retry queue"
            return rec.result("scheduled", why, buyer=last.buyer)
        if self.stale is not None:
            return rec.result(
                "expired", f"nobody bought the lead before it got too old ({self.stale})"
            )
        return rec.result("unsold", self.unsold_reason(turns))

    def unsold_reason(self, turns: Turns[Any] | None) -> str:
        if not any(e.outcome == "eligible" for e in self.rec.trace):
            return "nobody bought the lead: no buyer was eligible"
        if turns is not None and turns.stopped:
            return f"nobody bought the lead: {turns.stopped}"
        posted = self.posted
        if not posted and self.campaign.mode == "auction":
            floor = self.campaign.floor
            above = f" at or above the floor of {money(floor)}" if floor is not None else ""
            return f"nobody bought the lead: no bid{above}"
        if not posted:
            return "nobody bought the lead: no buyer accepted the ping"
        turned = sum(1 for b in posted if self.rec.reasons.get(b, "").startswith("turned"))
        if turned == len(posted):
            return "nobody bought the lead: every buyer it was posted to turned it down"
        if turned == 0:
            return f"nobody bought the lead: the post reached none of the {len(posted)} buyers"
        return (
            f"nobody bought the lead: {turned} of the {len(posted)} buyers it was posted to"
            " turned it down; the post did not reach the others"
        )

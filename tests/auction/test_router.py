"""The router over real loopback buyers: bids, deadlines, fall-through, exclusions, PII, store."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from engine.auction import Router, RouteResult, phases
from engine.auction import run as run_module
from engine.auction.phases import PingRound, ping_all
from engine.auction.record import Recorder
from engine.campaigns.plan import CampaignBuyer, CampaignPlan, CheckPlan
from engine.clock import FakeClock
from engine.plan import (
    CapsPlan,
    FilterPlan,
    IntegrationPlan,
    RenderContext,
    RetryPlan,
    SchedulePlan,
)
from engine.runtime.executor import Runtime
from engine.runtime.outcome import Outcome
from engine.service.app import late_by
from engine.store import MemoryStore
from tests.auction_kit import (
    ENVIRON,
    PII_VALUES,
    WALL,
    FakeRuntime,
    accept,
    bid,
    campaign,
    fake_clock,
    plan,
    refuse,
    sample_lead,
)
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio


async def route(
    camp: CampaignPlan,
    store: MemoryStore | None = None,
    clock: FakeClock | None = None,
    lead_id: str = "lead-1",
) -> RouteResult:
    clock = clock or fake_clock()
    async with Runtime(environ=ENVIRON, clock=clock) as runtime:
        router = Router(runtime, store or MemoryStore(), clock, env="test")
        return await router.route(camp, sample_lead(), lead_id=lead_id)


def paths(server: BuyerServer, suffix: str) -> list[str]:
    return [r.path for r in server.received() if r.path.endswith(suffix)]


async def test_twenty_buyers_sell_at_the_highest_bid_whose_post_succeeds(
    buyer_server: BuyerServer,
) -> None:
    """Twenty bidders with bids, no-bids, zero and low bids, late and failing pings: the two
    highest bidders' posts fail (rejected, then a 500), so the lead goes to the third-highest
    bid; lower bidders are never posted to; each bidder has exactly one recorded ping."""
    s = buyer_server
    names = [f"b{i:02d}" for i in range(20)]
    bids = {
        "b00": "30.00", "b01": "55.00", "b02": "12.00", "b03": None, "b04": "0.00",
        "b05": "3.00", "b06": "48.00", "b07": "41.00", "b08": "41.00", "b09": None,
        "b10": "22.50", "b11": "19.99", "b12": "35.10", "b13": "7.25", "b14": "60.00",
        "b15": "9.00", "b16": "44.00", "b17": "28.00", "b18": "15.00", "b19": "50.00",
    }  # fmt: skip
    for name in names:
        bid(s, name, bids[name])
        accept(s, name)
    bid(s, "b14", "99.00", delay=2.0)  # the best bid comes too late
    s.default("/b09/ping", Reply(500, b"down"))
    refuse(s, "b01", "too many leads today")
    s.default("/b19/post", Reply(500, b"oops"))
    store = MemoryStore()
    buyers = [plan("bidder", n, s.url) for n in names]
    result = await route(campaign(buyers, ping=0.5, floor="5.00", max_posts=3), store)
    assert result.disposition == "sold"
    assert (result.buyer, result.price, result.buyer_lead_id) == ("b06", Decimal("48.00"), "b06-L1")
    assert paths(s, "/post") == ["/b01/post", "/b19/post", "/b06/post"]
    pings = Counter(a["buyer"] for a in store.attempts("lead-1") if a["stage"] == "ping")
    assert pings == Counter(names)
    assert result.reasons["b14"].startswith("no bid (late")
    assert result.reasons["b04"] == "a bid of 0 means no bid"
    assert result.reasons["b05"] == "the bid of $3.00 is below the floor of $5.00"
    assert result.reasons["b16"] == "outbid (bid $44.00)"


async def test_a_sleeping_buyer_does_not_hold_the_auction(buyer_server: BuyerServer) -> None:
    """A bidder that answers after 60 s is cut at the 2 s ping deadline: the lead is sold to
    the other bidder well before the sleeper would have answered. (A deadline long enough for
    the quick bidder on a loaded machine; the bound only shows the sleeper was not awaited.)"""
    bid(buyer_server, "sleepy", "80.00", delay=60.0)
    bid(buyer_server, "quick", "20.00")
    accept(buyer_server, "quick")
    accept(buyer_server, "sleepy")
    buyers = [plan("bidder", "sleepy", buyer_server.url), plan("bidder", "quick", buyer_server.url)]
    started = time.monotonic()
    result = await route(campaign(buyers, ping=2.0, total=10.0))
    elapsed = time.monotonic() - started
    assert result.buyer == "quick"
    assert elapsed < 30.0, elapsed  # the ping deadline is 2 s, the sleeper 60 s
    late = [e for e in result.trace if e.buyer == "sleepy" and e.step == "ping"]
    assert [e.outcome for e in late] == ["late"]


async def test_ping_answers_are_recorded_as_they_come(buyer_server: BuyerServer) -> None:
    """An answer is read and recorded when it comes, not after the ping deadline: the quick
    bidder's ping is in the trace before the sleeper's, though the sleeper is first in the
    campaign; the reasons keep the campaign's order."""
    bid(buyer_server, "sleepy", "80.00", delay=60.0)
    bid(buyer_server, "quick", "20.00")
    accept(buyer_server, "quick")
    buyers = [plan("bidder", "sleepy", buyer_server.url), plan("bidder", "quick", buyer_server.url)]
    result = await route(campaign(buyers, ping=2.0, total=10.0))
    pings = [(e.buyer, e.outcome) for e in result.trace if e.step == "ping"]
    assert pings == [("quick", "accepted"), ("sleepy", "late")]
    assert list(result.reasons) == ["sleepy", "quick"]


async def test_the_ping_phase_ends_when_the_sale_has_its_bids() -> None:
    """Each ping is recorded when its answer comes, but the phase ends when the sale goes on
    with the bids: a busy event loop in between (200 ms of other auctions' work on the fake
    clock) is in ``pinged``, which admission control reads, and makes the phase late."""

    class Busy(FakeRuntime):
        async def send(self, plan: IntegrationPlan, stage: str, *args: Any, **kw: Any) -> Outcome:
            await self.clock.sleep(0.095 if plan.buyer == "c" else 0.09)
            if plan.buyer == "c":  # the last answer, then other work queued on the loop
                asyncio.get_running_loop().call_soon(self.clock.advance, 0.2)
            return await super().send(plan, stage, *args, **kw)

    runtime = Busy({n: ("accepted", Decimal("5")) for n in "abc"}, dict.fromkeys("abc", "accepted"))
    camp = campaign([plan("bidder", n, "http://127.0.0.1:9") for n in "abc"], ping=0.1, total=3.0)
    router = Router(runtime, MemoryStore(), runtime.clock, env="test")
    result = await router.route(camp, sample_lead())
    pings = [e.at for e in result.trace if e.step == "ping"]
    assert max(pings) <= 95.0 + 1e-6  # recorded as they came, before the deadline
    assert result.pinged is not None and result.pinged >= 295.0 - 1e-6
    entry = SimpleNamespace(plan=camp)
    assert late_by(result, entry) > 0.19  # type: ignore[arg-type]


async def test_a_failure_recording_a_ping_is_raised_as_itself() -> None:
    """A failure while recording an answer ends the ping phase with that exception (not an
    ExceptionGroup of the phase's tasks), as when the answers were recorded after it."""
    runtime = FakeRuntime({"a": ("accepted", Decimal("5")), "b": ("accepted", None)}, {})
    camp = campaign([plan("bidder", n, "http://127.0.0.1:9") for n in "ab"], ping=1.0)
    rec = Recorder(MemoryStore(), runtime.clock, "lead-1", camp.name)

    def each(b: CampaignBuyer, outcome: Outcome) -> None:
        raise LookupError(f"cannot record {b.buyer}")

    ctx = RenderContext(sample_lead(), WALL, {})
    with pytest.raises(LookupError, match="cannot record a"):
        await ping_all(runtime, camp.buyers, ctx, rec, env="test", deadline=1.0, each=each)


class HeldPing(FakeRuntime):
    """Buyer ``held``'s ping answers only once a post was sent (a real buyer slower than the
    deadline, whose send the runtime has not cut short yet); its bid would be the best."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.posted = asyncio.Event()

    async def send(self, plan: IntegrationPlan, stage: str, *args: Any, **kw: Any) -> Outcome:
        if plan.buyer == "held" and stage == "ping":
            await self.posted.wait()
        return await super().send(plan, stage, *args, **kw)

    async def deliver(self, plan: IntegrationPlan, stage: str, *args: Any, **kw: Any) -> Any:
        self.posted.set()
        return await super().deliver(plan, stage, *args, **kw)


async def test_the_sale_goes_on_at_the_deadline_while_a_late_ping_is_still_out() -> None:
    """At the ping deadline the bids are taken and the lead is posted at once: the ping still
    out is not awaited first. Its answer, which comes after the post, is discarded and recorded
    once, as late, before the route returns; its reason keeps the campaign's order."""
    runtime = HeldPing(
        {"held": ("accepted", Decimal("90")), "quick": ("accepted", Decimal("20"))},
        {"held": "accepted", "quick": "accepted"},
    )
    names = ("held", "quick")
    camp = campaign([plan("bidder", n, "http://127.0.0.1:9") for n in names], ping=0.05)
    store = MemoryStore()
    result = await Router(runtime, store, runtime.clock, env="test").route(
        camp, sample_lead(), lead_id="lead-1"
    )
    assert (result.buyer, result.price) == ("quick", Decimal("20"))
    steps = [(e.step, e.buyer, e.outcome) for e in result.trace if e.step in ("ping", "post")]
    assert steps == [
        ("ping", "quick", "accepted"),
        ("post", "quick", "accepted"),
        ("ping", "held", "late"),
    ]
    assert list(result.reasons) == ["held", "quick"]
    assert result.reasons["held"] == (
        "no bid (late: answered after the ping deadline; the answer is discarded)"
    )
    pings = [a for a in store.attempts("lead-1") if a["stage"] == "ping"]
    assert sorted((a["buyer"], a["kind"]) for a in pings) == [
        ("held", "late"),
        ("quick", "accepted"),
    ]


async def test_leaving_the_ping_phase_by_an_exception_cancels_the_pings_still_out() -> None:
    """The sale fails while a ping is out (here before the deadline, an hour away): the ping's
    task is cancelled and awaited, not waited for, and recorded once as cut off; the failure
    comes out as itself (not an ExceptionGroup)."""
    runtime = HeldPing({"held": ("accepted", None), "quick": ("accepted", None)}, {})
    camp = campaign([plan("bidder", n, "http://127.0.0.1:9") for n in ("held", "quick")])
    rec = Recorder(MemoryStore(), runtime.clock, "lead-1", camp.name)
    seen: list[tuple[str, str]] = []
    ctx = RenderContext(sample_lead(), WALL, {})
    before = asyncio.all_tasks()
    with pytest.raises(LookupError, match="the sale failed"):
        async with asyncio.timeout(60):  # a hang is a failure, not a slow pass
            async with PingRound(
                runtime, camp.buyers, ctx, rec, env="test", deadline=3600.0,
                each=lambda b, o: seen.append((b.buyer, o.kind)),
            ):  # fmt: skip
                while not seen:  # quick's answer, then the sale fails
                    await asyncio.sleep(0)
                raise LookupError("the sale failed")
    assert seen == [("quick", "accepted"), ("held", "late")]
    assert asyncio.all_tasks() == before


class LatePingBreaks(HeldPing):
    """Like HeldPing, but the held ping fails (a bug in the runtime) once the post was sent."""

    async def send(self, plan: IntegrationPlan, stage: str, *a: Any, **kw: Any) -> Outcome:
        if plan.buyer == "held" and stage == "ping":
            await self.posted.wait()
            raise RuntimeError("the late ping broke")
        return await super().send(plan, stage, *a, **kw)


async def test_a_late_ping_that_fails_after_the_sale_does_not_undo_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The bids were taken and the lead sold; then the late ping's send fails. The sale
    stands, the failure is logged, and the buyer is recorded late with what happened."""
    runtime = LatePingBreaks(
        {"held": ("accepted", Decimal("90")), "quick": ("accepted", Decimal("20"))},
        {"held": "accepted", "quick": "accepted"},
    )
    camp = campaign([plan("bidder", n, "http://127.0.0.1:9") for n in ("held", "quick")], ping=0.05)
    store = MemoryStore()
    result = await Router(runtime, store, runtime.clock, env="test").route(
        camp, sample_lead(), lead_id="lead-1"
    )
    assert (result.disposition, result.buyer) == ("sold", "quick")
    assert result.reasons["held"] == (
        "no bid (late: the ping failed after the bids were taken (RuntimeError))"
    )
    pings = sorted(
        (a["buyer"], a["kind"]) for a in store.attempts("lead-1") if a["stage"] == "ping"
    )
    assert pings == [("held", "late"), ("quick", "accepted")]
    assert "the late ping to held failed" in caplog.text


class StuckPing(HeldPing):
    """Buyer ``held``'s ping never ends by itself (a send the runtime failed to cut short)."""

    async def send(self, plan: IntegrationPlan, stage: str, *a: Any, **kw: Any) -> Outcome:
        if plan.buyer == "held" and stage == "ping":
            await asyncio.Event().wait()
        return await super().send(plan, stage, *a, **kw)


async def test_a_sale_made_stands_when_the_total_deadline_passes_waiting_for_a_stuck_ping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lead was sold while a stuck ping was still out; the total deadline passes while the
    auction waits for that ping: the result is the sale (not "unsold"), and the stuck ping is
    recorded as cut off. GRACE is 1 s here so the order of events does not hang on speed: the
    sale after 0.05 s, the total deadline at 1.04 s, the wait for the ping until 1.05 s."""
    monkeypatch.setattr(phases, "GRACE", 1.0)
    monkeypatch.setattr(run_module, "GRACE", 1.0)
    runtime = StuckPing(
        {"held": ("accepted", Decimal("90")), "quick": ("accepted", Decimal("20"))},
        {"held": "accepted", "quick": "accepted"},
    )
    names = ("held", "quick")
    camp = campaign([plan("bidder", n, "http://127.0.0.1:9") for n in names], ping=0.05)
    camp = dataclasses.replace(camp, total_deadline=0.04)
    store = MemoryStore()
    result = await Router(runtime, store, runtime.clock, env="test").route(
        camp, sample_lead(), lead_id="lead-1"
    )
    assert (result.disposition, result.buyer) == ("sold", "quick")
    held = [e for e in result.trace if e.buyer == "held" and e.step == "ping"]
    assert [(e.outcome, e.reason) for e in held] == [("late", phases._CUT_OFF)]


def test_a_phase_timer_that_fires_early_waits_out_the_rest() -> None:
    """uvloop's timers keep whole milliseconds and may fire up to one early: the phase does
    not end then (on-time answers would count as late), it waits out the rest."""

    async def main() -> None:
        rec = Recorder(MemoryStore(), fake_clock(), "lead-1", "c")
        ctx = RenderContext(sample_lead(), WALL, {})
        pings = PingRound(FakeRuntime({}, {}), [], ctx, rec, env="test", deadline=1.0)
        pings._over = asyncio.get_running_loop().create_future()
        pings._due = time.monotonic() + 3600.0
        pings._tick()
        assert not pings._over.done() and pings._timer is not None
        pings._timer.cancel()
        pings._due = time.monotonic() - 0.001
        pings._tick()
        assert pings._over.done()

    asyncio.run(main())


async def test_a_send_that_fails_ends_the_ping_phase_at_once_with_its_exception() -> None:
    """A failure of the runtime itself (not an outcome) is raised by the phase as itself,
    without waiting for the deadline or for the pings still out (which are cancelled)."""

    class Broken(HeldPing):
        async def send(self, plan: IntegrationPlan, stage: str, *a: Any, **kw: Any) -> Outcome:
            if plan.buyer == "quick":
                raise RuntimeError("the runtime broke")
            return await super().send(plan, stage, *a, **kw)

    runtime = Broken({"held": ("accepted", None), "quick": ("accepted", None)}, {})
    camp = campaign([plan("bidder", n, "http://127.0.0.1:9") for n in ("held", "quick")])
    rec = Recorder(MemoryStore(), runtime.clock, "lead-1", camp.name)
    ctx = RenderContext(sample_lead(), WALL, {})
    before = asyncio.all_tasks()
    with pytest.raises(RuntimeError, match="the runtime broke"):  # deadline 3600 s: not awaited
        async with asyncio.timeout(60):  # a hang is a failure, not a slow pass
            await ping_all(runtime, camp.buyers, ctx, rec, env="test", deadline=3600.0)
    assert asyncio.all_tasks() == before


async def test_post_rejection_falls_through_to_the_next_bidder(buyer_server: BuyerServer) -> None:
    """The highest bidder rejects the post; the lead is posted to the next and sold at its bid."""
    for name, amount in (("first", "40.00"), ("second", "30.00"), ("third", "20.00")):
        bid(buyer_server, name, amount)
        accept(buyer_server, name)
    refuse(buyer_server, "first", "outside our area")
    buyers = [plan("bidder", n, buyer_server.url) for n in ("third", "first", "second")]
    result = await route(campaign(buyers))
    assert (result.disposition, result.buyer, result.price) == ("sold", "second", Decimal("30"))
    assert paths(buyer_server, "/post") == ["/first/post", "/second/post"]
    assert "outside our area" in result.reasons["first"]


async def test_caps_filters_and_schedules_exclude_before_anything_is_sent(
    buyer_server: BuyerServer,
) -> None:
    """Filtered, capped and closed buyers are never pinged; their reasons are in the trace."""
    url = buyer_server.url
    for name in ("open", "filtered", "capped", "closed"):
        bid(buyer_server, name, "25.00")
        accept(buyer_server, name)
    buyers = [
        plan("bidder", "open", url),
        plan("bidder", "filtered", url, filters=FilterPlan(lambda lead: "only leads from NY")),
        plan("bidder", "capped", url, caps=CapsPlan(per_day=0)),
        plan("bidder", "closed", url, schedule=SchedulePlan("UTC", frozenset({6}), ((0, 60),))),
    ]
    result = await route(campaign(buyers))
    assert result.buyer == "open"
    assert {r.path.split("/")[1] for r in buyer_server.received()} == {"open"}
    excluded = {e.buyer: e.reason for e in result.trace if e.outcome == "excluded"}
    assert excluded["filtered"] == "only leads from NY"
    assert excluded["capped"] == "daily cap reached: 0 of 0 leads sold today (UTC)"
    assert str(excluded["closed"]).startswith("outside the buyer's schedule")


async def test_a_reached_cap_excludes_the_buyer_from_the_next_lead(
    buyer_server: BuyerServer,
) -> None:
    """Each sale is counted in the store, so a buyer with a cap of one lead an hour gets the
    first lead and is not pinged for the second."""
    for name, amount in (("capped", "50.00"), ("other", "10.00")):
        bid(buyer_server, name, amount)
        accept(buyer_server, name)
    buyers = [plan("bidder", "capped", buyer_server.url, caps=CapsPlan(per_hour=1))]
    buyers.append(plan("bidder", "other", buyer_server.url))
    store, clock = MemoryStore(), fake_clock()
    first = await route(campaign(buyers), store, clock)
    second = await route(campaign(buyers), store, clock, "lead-2")
    assert (first.buyer, second.buyer) == ("capped", "other")
    assert paths(buyer_server, "/ping").count("/capped/ping") == 1
    assert store.sales("capped", clock.wall().replace(minute=0)) == (1, Decimal("50.00"))


async def test_no_ping_carries_personal_data(buyer_server: BuyerServer) -> None:
    """Pings hold only the area and profile; the winner's post holds the personal data."""
    for i in range(5):
        bid(buyer_server, f"p{i}", f"{10 + i}.00")
        accept(buyer_server, f"p{i}")
    result = await route(campaign([plan("bidder", f"p{i}", buyer_server.url) for i in range(5)]))
    assert result.sold
    pings = [r for r in buyer_server.received() if r.path.endswith("/ping")]
    assert len(pings) == 5
    for ping in pings:
        assert set(ping.json()) == {"state", "zip", "credit"}
        assert not any(value.encode() in ping.body for value in PII_VALUES)
    (post,) = [r for r in buyer_server.received() if r.path.endswith("/post")]
    assert post.json()["email"] == "john.smith@gmail.com"
    assert post.json()["ping_id"] == "p4-p"


async def test_an_unknown_post_is_never_sold_to_a_second_buyer(buyer_server: BuyerServer) -> None:
    """The winner's post gets no answer before the total deadline: the lead may be with it, so
    the next bidder is not posted to and the result is unknown."""
    for name, amount in (("hangs", "40.00"), ("next", "30.00")):
        bid(buyer_server, name, amount)
        accept(buyer_server, name)
    buyer_server.default("/hangs/post", Reply(hang=True))
    buyers = [plan("bidder", "hangs", buyer_server.url), plan("bidder", "next", buyer_server.url)]
    result = await route(campaign(buyers, ping=0.3, total=1.0))
    assert (result.disposition, result.buyer) == ("unknown", "hangs")
    assert "/next/post" not in paths(buyer_server, "/post")
    assert "not offered to another buyer" in result.reason


async def test_a_failed_critical_check_rejects_the_lead_before_any_ping(
    buyer_server: BuyerServer,
) -> None:
    """A failed critical check ends the lead as rejected and nobody is contacted; a failed
    warn-level check is only noted in the trace."""
    bid(buyer_server, "b", "25.00")
    accept(buyer_server, "b")
    warn = CheckPlan("email", "warn", lambda lead: "looks odd")
    critical = CheckPlan("phone", "critical", lambda lead: "the phone number is not valid")
    buyers = [plan("bidder", "b", buyer_server.url)]
    rejected = await route(campaign(buyers, checks=[warn, critical]))
    assert rejected.disposition == "rejected"
    assert rejected.reason == "the lead failed the phone check: the phone number is not valid"
    assert buyer_server.received() == []
    sold = await route(campaign(buyers, checks=[warn]))
    assert sold.sold
    assert (sold.trace[0].step, sold.trace[0].outcome) == ("check", "warning")


async def test_no_bid_goes_down_the_fallback_waterfall(buyer_server: BuyerServer) -> None:
    """Nobody bids at or above the floor: the fallback buyers get direct posts in order, the
    first rejects, the second buys at its fixed price."""
    bid(buyer_server, "cheap", "2.00")
    for name in ("fb1", "fb2", "fb3"):
        accept(buyer_server, name)
    refuse(buyer_server, "fb1")
    back = [plan("poster", n, buyer_server.url) for n in ("fb1", "fb2", "fb3")]
    camp = campaign([plan("bidder", "cheap", buyer_server.url)], fallback=back, floor="5.00")
    result = await route(camp)
    assert (result.buyer, result.price) == ("fb2", Decimal("20.00"))
    assert paths(buyer_server, "/post") == ["/fb1/post", "/fb2/post"]
    assert [e.step for e in result.trace if e.buyer == "fb2"][-1] == "fallback"


async def test_waterfall_and_direct_modes(buyer_server: BuyerServer) -> None:
    """A waterfall posts in order and moves on when a buyer rejects; direct posts to its one
    buyer and reports unsold when it rejects."""
    for name in ("w1", "w2", "w3"):
        accept(buyer_server, name)
    refuse(buyer_server, "w1")
    posters = [plan("poster", n, buyer_server.url) for n in ("w1", "w2", "w3")]
    sold = await route(campaign(posters, mode="waterfall"))
    assert (sold.disposition, sold.buyer) == ("sold", "w2")
    unsold = await route(campaign(posters[:1], mode="direct"))
    assert unsold.disposition == "unsold"
    assert unsold.reason == "nobody bought the lead: every buyer it was posted to turned it down"


async def test_the_result_is_saved_after_the_lead(buyer_server: BuyerServer) -> None:
    """The lead is saved before the first attempt; the result is saved as JSON afterwards."""
    calls: list[str] = []

    class Watching(MemoryStore):
        async def open_lead(self, *args: Any, **kw: Any) -> None:
            calls.append("lead")
            await super().open_lead(*args, **kw)

        def save_attempt(self, *args: object) -> None:
            calls.append("attempt")
            super().save_attempt(*args)  # type: ignore[arg-type]

    bid(buyer_server, "b", "25.00")
    accept(buyer_server, "b")
    store = Watching()
    result = await route(campaign([plan("bidder", "b", buyer_server.url)]), store)
    assert calls[0] == "lead" and calls.count("attempt") == 2
    saved = store.get_result("lead-1")
    assert saved == json.loads(json.dumps(result.to_dict()))
    assert saved is not None and saved["price"] == "25.00" and saved["disposition"] == "sold"
    assert store.acceptance_rate("b", fake_clock().wall().replace(hour=0)) == 1.0


async def test_a_post_waiting_for_a_retry_is_scheduled_then_settled(
    buyer_server: BuyerServer,
) -> None:
    """A 503 with Retry-After: 30 hands the post to the retry queue (the lead is not offered
    to anyone else); when the retry is accepted the saved result becomes sold."""
    for name, amount in (("busy", "40.00"), ("next", "30.00")):
        bid(buyer_server, name, amount)
        accept(buyer_server, name)
    buyer_server.script("/busy/post", Reply(503, b"busy", {"Retry-After": "30"}))
    retry = RetryPlan(max_attempts=3, interval=1.0, max_delay=60.0, max_wait=5.0)
    busy = dataclasses.replace(plan("bidder", "busy", buyer_server.url), retry=retry)
    store, clock = MemoryStore(), fake_clock()
    camp = campaign([busy, plan("bidder", "next", buyer_server.url)])
    async with Runtime(environ=ENVIRON, clock=clock) as runtime:
        router = Router(runtime, store, clock, env="test")
        result = await router.route(camp, sample_lead(), lead_id="lead-1")
        assert (result.disposition, result.buyer) == ("scheduled", "busy")
        await runtime.scheduler.drain()
    assert paths(buyer_server, "/post") == ["/busy/post", "/busy/post"]
    saved = store.get_result("lead-1")
    assert saved is not None
    assert (saved["disposition"], saved["price"]) == ("sold", "40.00")


async def test_retries_skipped_for_an_old_lead_are_explained(buyer_server: BuyerServer) -> None:
    """Issue 13: a lead whose timestamp is older than give_up_after gets one attempt, and the
    result says in plain words that no retry was made and why (not a bare 503 and UNSOLD)."""
    buyer_server.script("/old/post", Reply(503, b"busy"))
    retry = RetryPlan(max_attempts=3, interval=1.0, max_delay=60.0, max_wait=5.0)
    poster = plan("poster", "old", buyer_server.url, retry=retry)
    clock = FakeClock(wall_start=datetime(2024, 12, 17, 15, 0, tzinfo=UTC))  # 2 days later
    result = await route(campaign([poster], mode="direct"), clock=clock)
    assert paths(buyer_server, "/post") == ["/old/post"]
    assert result.disposition == "expired", (result.reason, result.reasons)
    assert result.reasons["old"] == (
        "the post did not reach it (server_error: HTTP 503 Service Unavailable); no retry: the"
        " lead would be"
        " older than 3600 seconds by the next attempt, so it was not tried again (give_up_after"
        " counts from the lead's timestamp; the lead is 2 days old)"
    )
    assert result.reason.startswith("nobody bought the lead before it got too old (old: ")

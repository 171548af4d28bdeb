"""An operator's pause holds for the worker too, on SQLite and PostgreSQL: a paused buyer's due
retry waits in the store unsent, and a recovered lead is not offered to a paused buyer. Real HTTP
on 127.0.0.1, a fake clock for due times and leases."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from engine.auction import Router
from engine.auction.worker import PAUSED_RECHECK, Worker
from engine.campaigns.plan import CampaignPlan
from engine.clock import FakeClock
from engine.plan import RetryPlan
from engine.runtime.executor import Runtime
from engine.store import DurableStore
from engine.store.crypto import DataKey, Keyring
from engine.store.ops import JobSpec
from engine.store.sources import set_paused
from tests.auction_kit import ENVIRON, accept, campaign, fake_clock, plan, refuse, sample_lead
from tests.buyer_server import BuyerServer, Reply
from tests.store.kit import Made

pytestmark = pytest.mark.anyio


def posts(server: BuyerServer) -> list[str]:
    return [r.path for r in server.received() if r.path.endswith("/post")]


def busy_once(server: BuyerServer, *, give_up_after: float = 86400.0) -> CampaignPlan:
    """A direct campaign whose buyer w1 answers its first post 503 (Retry-After: 30), then
    accepts."""
    server.script("/w1/post", Reply(503, b"busy", {"Retry-After": "30"}))
    accept(server, "w1")
    retry = RetryPlan(max_attempts=3, interval=1.0, max_delay=60.0, max_wait=5.0,
                      give_up_after=give_up_after)  # fmt: skip
    w1 = dataclasses.replace(plan("poster", "w1", server.url), retry=retry)
    return campaign([w1], mode="direct")


async def scheduled(store: DurableStore, clock: FakeClock, camp: CampaignPlan) -> None:
    """Route lead-1: w1's first post fails and its retry waits in the store, due in 30 s."""
    async with Runtime(environ=ENVIRON, clock=clock, journal=store) as runtime:
        result = await Router(runtime, store, clock, env="test").route(
            camp, sample_lead(), lead_id="lead-1"
        )
    assert (result.disposition, result.buyer) == ("scheduled", "w1")


async def rounds(store: DurableStore, clock: FakeClock, camp: CampaignPlan, n: int = 1) -> int:
    """``n`` worker rounds on ``store``; how many jobs and leads they handled."""
    async with Runtime(environ=ENVIRON, clock=clock, journal=store) as runtime:
        worker = Worker(Router(runtime, store, clock, env="test"), {camp.campaign: camp})
        return sum([await worker.run_once() for _ in range(n)])


def job(store: DurableStore) -> list[tuple[object, ...]]:
    store.writer.flush()
    return store.backend.read("SELECT buyer, attempt, due_at, owner FROM jobs")


async def test_a_paused_buyers_retry_waits_unsent_and_is_sent_after_resume(
    shared: Made, buyer_server: BuyerServer, caplog: pytest.LogCaptureFixture
) -> None:
    """w1 is paused while its retry waits: when due, the retry is not posted but postponed
    (PAUSED_RECHECK later, claim released) and the lead stays scheduled; once w1 is resumed the
    retry is sent at its next due time and the lead is sold."""
    clock = fake_clock()
    store = shared.store(clock, node="n1", lease=10)
    camp = busy_once(buyer_server)
    await scheduled(store, clock, camp)
    assert posts(buyer_server) == ["/w1/post"]
    set_paused(store, "ops", "w1", True)
    clock.advance(30)
    store.beat()
    caplog.set_level(logging.INFO, logger="leadpost.worker")
    assert await rounds(store, clock, camp) == 1
    assert posts(buyer_server) == ["/w1/post"]
    now = clock.wall().timestamp()
    assert job(store) == [("w1", 2, now + PAUSED_RECHECK, None)]
    result = store.get_result("lead-1")
    assert result is not None and result["disposition"] == "scheduled"
    said = [r.getMessage() for r in caplog.records if r.name == "leadpost.worker"]
    assert said == [
        "lead lead-1: the post attempt 2 to w1 is not sent (w1 is paused by an operator: the"
        f" retry waits until it is resumed); looked at again in {PAUSED_RECHECK:g} s"
    ]
    assert await rounds(store, clock, camp) == 0  # not due again yet
    set_paused(store, "ops", "w1", False)
    clock.advance(PAUSED_RECHECK)
    store.beat()
    assert await rounds(store, clock, camp) == 1
    assert posts(buyer_server) == ["/w1/post", "/w1/post"]
    done = store.get_result("lead-1")
    assert done is not None and (done["disposition"], done["buyer"]) == ("sold", "w1")
    assert job(store) == []


async def test_a_retry_waiting_on_a_paused_buyer_still_expires(
    shared: Made, buyer_server: BuyerServer
) -> None:
    """Paused, the retry is postponed; once the lead is older than w1's give_up_after the next
    look ends it expired (the age check comes before the pause), and nothing more is posted."""
    clock = fake_clock()
    store = shared.store(clock, node="n1", lease=10)
    camp = busy_once(buyer_server, give_up_after=600.0)
    await scheduled(store, clock, camp)
    set_paused(store, "ops", "w1", True)
    clock.advance(30)
    store.beat()
    assert await rounds(store, clock, camp) == 1
    result = store.get_result("lead-1")
    assert result is not None and result["disposition"] == "scheduled"
    clock.advance(600)
    store.beat()
    assert await rounds(store, clock, camp) == 1
    assert posts(buyer_server) == ["/w1/post"]
    done = store.get_result("lead-1")
    assert done is not None and done["disposition"] == "expired"
    assert "gives up 600 seconds after the lead's time" in done["reason"]
    assert job(store) == []


async def test_a_recovered_lead_is_not_offered_to_a_paused_buyer(
    shared: Made, buyer_server: BuyerServer
) -> None:
    """A node died with lead-1 before any post; w1 (first in the waterfall) is paused: the node
    that takes the lead over offers it to w2 only."""
    accept(buyer_server, "w1")
    accept(buyer_server, "w2")
    camp = campaign([plan("poster", n, buyer_server.url) for n in ("w1", "w2")], mode="waterfall")
    clock = fake_clock()
    keys = Keyring([DataKey.generate()])
    dead = shared.store(clock, keys, node="dead", lease=10)
    await dead.open_lead("lead-1", camp.campaign, sample_lead())
    live = shared.store(clock, keys, node="live", lease=10)
    set_paused(live, "ops", "w1", True)
    clock.advance(11)  # the dead node's lease runs out
    live.beat()
    assert await rounds(live, clock, camp) == 1
    assert posts(buyer_server) == ["/w2/post"]
    done = live.get_result("lead-1")
    assert done is not None and (done["disposition"], done["buyer"]) == ("sold", "w2")


async def test_after_a_turned_down_retry_the_sale_skips_paused_buyers(
    shared: Made, buyer_server: BuyerServer
) -> None:
    """w1 turns its retry down, so the sale goes on down the waterfall: past w2, paused, to
    w3."""
    refuse(buyer_server, "w1")
    accept(buyer_server, "w2")
    accept(buyer_server, "w3")
    names = ("w1", "w2", "w3")
    camp = campaign([plan("poster", n, buyer_server.url) for n in names], mode="waterfall")
    clock = fake_clock()
    store = shared.store(clock, node="n1", lease=10)
    await store.open_lead("lead-1", camp.campaign, sample_lead())
    await store.finish("lead-1", {"disposition": "scheduled", "buyer": "w1"},
                       JobSpec("w1", "post", 2, clock.wall().timestamp(), "503"))  # fmt: skip
    set_paused(store, "ops", "w2", True)
    assert await rounds(store, clock, camp) == 1
    assert posts(buyer_server) == ["/w1/post", "/w3/post"]
    done = store.get_result("lead-1")
    assert done is not None and (done["disposition"], done["buyer"]) == ("sold", "w3")


async def test_a_job_of_a_campaign_this_node_lacks_waits_instead_of_coming_back_at_once(
    shared: Made, buyer_server: BuyerServer
) -> None:
    """A worker that does not know the lead's campaign gives the due job back for later (not
    claimable again in the same moment, which kept the worker from ever going idle); a worker
    that knows it sends the retry when it is due again."""
    clock = fake_clock()
    store = shared.store(clock, node="n1", lease=10)
    camp = busy_once(buyer_server)
    await scheduled(store, clock, camp)
    clock.advance(30)
    store.beat()
    other = dataclasses.replace(camp, campaign="another")
    assert await rounds(store, clock, other, n=3) == 1  # claimed once, then it waits
    assert [(b, a, o) for b, a, _, o in job(store)] == [("w1", 2, None)]
    assert posts(buyer_server) == ["/w1/post"]
    clock.advance(PAUSED_RECHECK)
    store.beat()
    assert await rounds(store, clock, camp) == 1
    assert posts(buyer_server) == ["/w1/post", "/w1/post"]
    assert store.get_result("lead-1")["disposition"] == "sold"  # type: ignore[index]
    store.close()

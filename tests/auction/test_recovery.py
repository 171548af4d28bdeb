"""Work that outlives a process: store jobs for retries, recovery of a dead node's leads, the
delivery guarantee, freshness, redelivery. Real HTTP on 127.0.0.1, a fake clock for leases."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.auction import Router
from engine.auction.worker import Refused, Worker, redeliver
from engine.campaigns.plan import CampaignPlan
from engine.clock import FakeClock
from engine.plan import IntegrationPlan, RetryPlan
from engine.runtime.executor import Runtime
from engine.runtime.outcome import Outcome, Timings
from engine.store import SqliteStore
from engine.store.crypto import DataKey, Keyring
from engine.store.ops import JobSpec
from tests.auction_kit import ENVIRON, accept, campaign, fake_clock, plan, refuse, sample_lead
from tests.buyer_server import BuyerServer, Reply

pytestmark = pytest.mark.anyio


@pytest.fixture
def keys() -> Keyring:
    return Keyring([DataKey.generate()])


class Nodes:
    """Stores on one SQLite file, as separate processes would have (one shared clock)."""

    def __init__(self, path: Path, keys: Keyring, clock: FakeClock) -> None:
        self.path, self.keys, self.clock = path, keys, clock
        self.made: list[SqliteStore] = []

    def node(self, name: str) -> SqliteStore:
        store = SqliteStore(self.path, keyring=self.keys, clock=self.clock, node=name, lease=10,
                            heartbeat=False)  # fmt: skip
        self.made.append(store)
        return store


@pytest.fixture
def nodes(tmp_path: Path, keys: Keyring) -> Iterator[Nodes]:
    n = Nodes(tmp_path / "s.db", keys, fake_clock())
    yield n
    for s in n.made:
        s.close()


def posts(server: BuyerServer) -> list[tuple[str, str | None]]:
    return [(r.path, r.headers.get("idempotency-key")) for r in server.received()
            if r.path.endswith("/post")]  # fmt: skip


async def crashed_while_posting(nodes: Nodes, camp: CampaignPlan, buyer: str) -> None:
    """What a process that died with a post to ``buyer`` on the wire leaves behind."""
    dead = nodes.node("dead")
    await dead.open_lead("lead-1", camp.campaign, sample_lead())
    assert await dead.reserve("lead-1", buyer, None, []) is None
    await dead.sending("lead-1", buyer, "post", 1, f"lead-1:{buyer}:post")
    nodes.clock.advance(11)  # its lease runs out


async def work(nodes: Nodes, camp: CampaignPlan, rounds: int = 1) -> SqliteStore:
    live = nodes.node("live")
    async with Runtime(environ=ENVIRON, clock=nodes.clock, journal=live) as runtime:
        worker = Worker(Router(runtime, live, nodes.clock, env="test"), {camp.campaign: camp})
        for _ in range(rounds):
            await worker.run_once()
    return live


def with_plan(p: IntegrationPlan, **changes: object) -> IntegrationPlan:
    return dataclasses.replace(p, **changes)  # type: ignore[arg-type]


async def test_a_post_left_sending_is_parked_as_unknown_at_most_once(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """at_most_once (the default): the dangling post becomes unknown and the lead is parked —
    nothing is sent, not to the same buyer and not to the next one."""
    accept(buyer_server, "w1")
    accept(buyer_server, "w2")
    camp = campaign([plan("poster", n, buyer_server.url) for n in ("w1", "w2")], mode="waterfall")
    await crashed_while_posting(nodes, camp, "w1")
    live = await work(nodes, camp)
    assert posts(buyer_server) == []
    result = live.get_result("lead-1")
    assert result is not None and result["disposition"] == "unknown"
    assert "parked for an operator" in result["reason"]
    state = live.lead_state("lead-1")
    assert state is not None and [a.kind for a in state.attempts] == ["unknown"]
    assert state.holds == (("w1", "held", None),)


async def test_at_least_once_resends_with_the_same_idempotency_key(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """at_least_once: the dangling post is sent again to the same buyer, same key; sold."""
    accept(buyer_server, "w1")
    w1 = with_plan(plan("poster", "w1", buyer_server.url), delivery="at_least_once")
    camp = campaign([w1], mode="direct")
    await crashed_while_posting(nodes, camp, "w1")
    live = await work(nodes, camp, rounds=2)
    assert posts(buyer_server) == [("/w1/post", "lead-1:w1:post")]
    result = live.get_result("lead-1")
    assert result is not None and (result["disposition"], result["buyer"]) == ("sold", "w1")


async def test_on_timeout_reject_moves_the_lead_to_the_next_buyer(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """on_timeout: reject treats the lost answer as a rejection: the waterfall resumes at the
    next buyer, never posting to w1 again."""
    accept(buyer_server, "w2")
    w1 = plan("poster", "w1", buyer_server.url)
    w1 = with_plan(w1, retry=dataclasses.replace(w1.retry, on_timeout="reject"))
    camp = campaign([w1, plan("poster", "w2", buyer_server.url)], mode="waterfall")
    await crashed_while_posting(nodes, camp, "w1")
    live = await work(nodes, camp)
    assert [p for p, _ in posts(buyer_server)] == ["/w2/post"]
    result = live.get_result("lead-1")
    assert result is not None and (result["disposition"], result["buyer"]) == ("sold", "w2")
    assert result["reasons"]["w1"] == "posted to before the restart: not offered again"


async def test_a_lead_dead_before_any_post_is_sold_by_the_survivor(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """A lead saved but never posted (the process died in the auction) is routed again."""
    accept(buyer_server, "w1")
    camp = campaign([plan("poster", "w1", buyer_server.url)], mode="direct")
    dead = nodes.node("dead")
    await dead.open_lead("lead-1", camp.campaign, sample_lead())
    nodes.clock.advance(11)
    live = await work(nodes, camp)
    result = live.get_result("lead-1")
    assert result is not None and result["disposition"] == "sold"


async def test_a_retry_waits_in_the_store_and_the_worker_sells_it(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """503 with Retry-After: 30: the lead is committed as scheduled with its job (nothing kept
    in memory); 30 s later a worker makes attempt 2 and the lead is sold."""
    buyer_server.script("/w1/post", Reply(503, b"busy", {"Retry-After": "30"}))
    accept(buyer_server, "w1")
    retry = RetryPlan(max_attempts=3, interval=1.0, max_delay=60.0, max_wait=5.0)
    camp = campaign([with_plan(plan("poster", "w1", buyer_server.url), retry=retry)],
                    mode="direct")  # fmt: skip
    store = nodes.node("router")
    async with Runtime(environ=ENVIRON, clock=nodes.clock, journal=store) as runtime:
        result = await Router(runtime, store, nodes.clock, env="test").route(
            camp, sample_lead(), lead_id="lead-1"
        )
        assert runtime.scheduler.pending == ()
    assert (result.disposition, result.buyer) == ("scheduled", "w1")
    state = store.lead_state("lead-1")
    assert state is not None and state.job == ("w1", 2)
    nodes.clock.advance(30)
    store.beat()
    live = await work(nodes, camp)
    saved = live.get_result("lead-1")
    assert saved is not None and (saved["disposition"], saved["buyer"]) == ("sold", "w1")
    assert len(posts(buyer_server)) == 2


async def test_a_retry_past_give_up_after_ends_expired(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """A job due after the buyer's give_up_after ends the lead expired, with the reason."""
    buyer_server.script("/w1/post", Reply(503, b"busy", {"Retry-After": "30"}))
    retry = RetryPlan(max_attempts=3, interval=1.0, max_delay=60.0, max_wait=5.0,
                      give_up_after=600.0)  # fmt: skip
    camp = campaign([with_plan(plan("poster", "w1", buyer_server.url), retry=retry)],
                    mode="direct")  # fmt: skip
    store = nodes.node("router")
    async with Runtime(environ=ENVIRON, clock=nodes.clock, journal=store) as runtime:
        result = await Router(runtime, store, nodes.clock, env="test").route(
            camp, sample_lead(), lead_id="lead-1"
        )
    assert result.disposition == "scheduled"
    nodes.clock.advance(3600)
    store.beat()
    live = await work(nodes, camp)
    saved = live.get_result("lead-1")
    assert saved is not None and saved["disposition"] == "expired"
    assert "gives up 600 seconds after the lead's time" in saved["reason"]
    assert len(posts(buyer_server)) == 1


async def test_redeliver_refuses_a_sold_lead_and_resends_a_parked_one(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """A parked lead goes to the buyer named; a sold lead is refused with the reason."""
    accept(buyer_server, "w2")
    refuse(buyer_server, "w1")
    camp = campaign([plan("poster", n, buyer_server.url) for n in ("w1", "w2")], mode="waterfall")
    await crashed_while_posting(nodes, camp, "w1")
    live = await work(nodes, camp)
    async with Runtime(environ=ENVIRON, clock=nodes.clock, journal=live) as runtime:
        router = Router(runtime, live, nodes.clock, env="test")
        result = await redeliver(router, {camp.campaign: camp}, "lead-1", "w2")
        assert (result.disposition, result.buyer) == ("sold", "w2")
        with pytest.raises(Refused, match="was sold to w2: a lead is sold once"):
            await redeliver(router, {camp.campaign: camp}, "lead-1", None)


class TakenOverAfter(Runtime):
    """A runtime whose node stalls after posting to ``buyer``: meanwhile its lease runs out and
    node ``live`` claims its lead (what a paused VM or a stalled disk does to a node)."""

    def __init__(self, nodes: Nodes, live: SqliteStore, buyer: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.nodes, self.live, self.buyer = nodes, live, buyer

    async def send(self, plan: IntegrationPlan, stage: str, *a: Any, **kw: Any) -> Outcome:
        outcome = await super().send(plan, stage, *a, **kw)
        if plan.buyer == self.buyer:
            self.nodes.clock.advance(11)
            self.live.beat()
            assert await self.live.claim_orphans() == ["lead-1"]
        return outcome


async def test_a_slow_node_that_lost_its_lead_sends_nothing_more(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """The slow node learns it lost the lead at its next post's intent: w2 never gets that
    post, the slow node answers unknown ("taken over") and writes no result; the node that
    claimed the lead resumes the waterfall after w1 and sells it to w2, once."""
    refuse(buyer_server, "w1")
    accept(buyer_server, "w2")
    camp = campaign([plan("poster", n, buyer_server.url) for n in ("w1", "w2")], mode="waterfall")
    slow, live = nodes.node("slow"), nodes.node("live")
    runtime = TakenOverAfter(nodes, live, "w1", environ=ENVIRON, clock=nodes.clock, journal=slow)
    async with runtime:
        result = await Router(runtime, slow, nodes.clock, env="test").route(
            camp, sample_lead(), lead_id="lead-1"
        )
    assert (result.disposition, result.sold) == ("unknown", False)
    assert "another leadpost process took this lead over" in result.reason
    assert "leadpost history lead-1" in result.reason
    assert posts(buyer_server) == [("/w1/post", "lead-1:w1:post")]
    assert live.get_result("lead-1") is None
    async with Runtime(environ=ENVIRON, clock=nodes.clock, journal=live) as recovering:
        worker = Worker(Router(recovering, live, nodes.clock, env="test"), {camp.campaign: camp})
        await worker.recover("lead-1")
    assert [p for p, _ in posts(buyer_server)] == ["/w1/post", "/w2/post"]
    done = live.get_result("lead-1")
    assert done is not None and (done["disposition"], done["buyer"]) == ("sold", "w2")


async def test_a_taken_over_job_the_dead_node_had_made_is_not_sent_again(
    nodes: Nodes, buyer_server: BuyerServer
) -> None:
    """The dead node ran w1's retry (attempt 2, turned down), went on to w2 and died with that
    post on the wire. The node taking the job over must not send w1's attempt 2 again (w1
    could accept it while w2 has the lead): it finishes from the journal — w2's post is
    unknown, so the lead is parked and nothing is sent."""
    accept(buyer_server, "w1")
    accept(buyer_server, "w2")
    camp = campaign([plan("poster", n, buyer_server.url) for n in ("w1", "w2")], mode="waterfall")
    dead = nodes.node("dead")
    await dead.open_lead("lead-1", camp.campaign, sample_lead())
    due = nodes.clock.wall().timestamp()
    await dead.finish("lead-1", {"disposition": "scheduled", "buyer": "w1"},
                      JobSpec("w1", "post", 2, due, "503"))  # fmt: skip
    assert [j.buyer for j in await dead.claim_jobs()] == ["w1"]
    await dead.sending("lead-1", "w1", "post", 2, "lead-1:w1:post")
    dead.answered("lead-1", Outcome("w1", "post", "rejected", False, "no", 2, Timings(0.01)))
    await dead.sending("lead-1", "w2", "post", 1, "lead-1:w2:post")
    nodes.clock.advance(11)
    live = await work(nodes, camp, rounds=2)
    assert posts(buyer_server) == []
    result = live.get_result("lead-1")
    assert result is not None and (result["disposition"], result["buyer"]) == ("unknown", "w2")
    assert live.backend.read("SELECT COUNT(*) FROM jobs") == [(0,)]

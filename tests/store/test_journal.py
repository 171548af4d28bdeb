"""The journal's rules on every backend: intents, holds and caps, jobs, leases, recovery claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.clock import FakeClock
from engine.plan import CapsPlan
from engine.runtime.eligibility import cap_limits
from engine.runtime.outcome import Outcome, Timings
from engine.store.journal import ClaimLost
from engine.store.ops import JobSpec
from tests.store.kit import Made

pytestmark = pytest.mark.anyio
WALL = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def clock() -> FakeClock:
    return FakeClock(wall_start=WALL)


def post(buyer: str, kind: str = "accepted", attempt: int = 1, price: str | None = None) -> Outcome:
    values = {"price": Decimal(price)} if price else {}
    return Outcome(buyer, "post", kind, False, None, attempt, Timings(0.01), 200, values)  # type: ignore[arg-type]


def rows(made: Made, sql: str) -> list[tuple[object, ...]]:
    store = made.stores[0] if made.stores else made.memory
    assert store is not None
    store.writer.flush()
    return store.backend.read(sql)


async def test_an_intent_is_committed_then_becomes_its_outcome(made: Made) -> None:
    """sending() writes a `sending` row before returning; answered() turns the same row into
    its outcome (one row per attempt, the idempotency key kept)."""
    store = made.store(clock())
    await store.open_lead("L1", "c", {"source_id": "web"})
    await store.sending("L1", "b", "post", 1, "L1:b:post")
    assert rows(made, "SELECT state, idem_key FROM attempts") == [("sending", "L1:b:post")]
    store.answered("L1", post("b", "rejected"))
    assert rows(made, "SELECT state, kind, attempt FROM attempts") == [("done", "rejected", 1)]


async def test_an_accepted_post_is_a_sale_in_the_same_write(made: Made) -> None:
    """The accepted outcome turns the buyer's hold into a sale, at the hold's price."""
    store = made.store(clock())
    await store.open_lead("L1", "c", {})
    assert await store.reserve("L1", "b", Decimal("12.50"), []) is None
    await store.sending("L1", "b", "post", 1, None)
    store.answered("L1", post("b", price="99.00"))
    assert rows(made, "SELECT buyer, state, price FROM holds") == [("b", "sold", "12.50")]


async def test_a_lead_is_held_by_one_buyer_at_a_time(made: Made) -> None:
    """A second buyer cannot hold a held lead; once released, it can. (A buyer with caps is
    answered at once; without caps the hold is queued and committed with the next write.)"""
    c = clock()
    store = made.store(c)
    caps = cap_limits(CapsPlan(per_day=100), c.wall())
    await store.open_lead("L1", "c", {})
    assert await store.reserve("L1", "a", None, []) is None
    assert await store.reserve("L1", "a", None, caps) is None  # the same buyer: idempotent
    assert await store.reserve("L1", "b", None, caps) == "the lead is already held by a"
    store.release("L1", "a")
    assert await store.reserve("L1", "b", None, caps) is None
    assert rows(made, "SELECT buyer, state FROM holds ORDER BY id") == [
        ("a", "released"), ("b", "held"),
    ]  # fmt: skip


async def test_caps_count_holds_in_flight_and_sales(made: Made) -> None:
    """A daily cap of 2 refuses the third hold of the day, whether the others sold or not;
    a released hold frees its place."""
    c = clock()
    store = made.store(c)
    limits = cap_limits(CapsPlan(per_day=2), c.wall())
    for lead in ("L1", "L2", "L3"):
        await store.open_lead(lead, "c", {})
    assert await store.reserve("L1", "b", None, limits) is None
    assert await store.reserve("L2", "b", None, limits) is None
    why = await store.reserve("L3", "b", None, limits)
    assert why == "daily cap reached: 2 of 2 leads sold or on their way today (UTC)"
    store.release("L2", "b")
    assert await store.reserve("L3", "b", None, limits) is None


async def test_a_spend_cap_counts_money_exactly(made: Made) -> None:
    """$10.00 a day: 3.33 + 3.33 + 3.34 fits, one more cent does not."""
    c = clock()
    store = made.store(c)
    limits = cap_limits(CapsPlan(spend_per_day=Decimal("10.00")), c.wall())
    for i, price in enumerate(("3.33", "3.33", "3.34", "0.01")):
        await store.open_lead(f"L{i}", "c", {})
        why = await store.reserve(f"L{i}", "b", Decimal(price), limits)
        assert (why is None) == (i < 3)


async def test_finish_releases_or_keeps_holds_by_disposition(made: Made) -> None:
    """unsold releases every hold; unknown keeps the buyer's (it may have the lead)."""
    store = made.store(clock())
    for lead in ("L1", "L2"):
        await store.open_lead(lead, "c", {})
        await store.reserve(lead, "b", None, [])
    await store.finish("L1", {"disposition": "unsold", "reason": "x"})
    await store.finish("L2", {"disposition": "unknown", "reason": "x", "buyer": "b"})
    got = rows(made, "SELECT lead_id, state FROM holds ORDER BY lead_id")
    assert got == [("L1", "released"), ("L2", "held")]
    assert store.get_result("L2") == {"disposition": "unknown", "reason": "x", "buyer": "b"}


async def test_a_job_is_claimed_when_due_by_one_node_only(shared: Made) -> None:
    """A scheduled lead's job is claimed once it is due, by one node; a second node gets
    nothing while the first is alive."""
    c = clock()
    a, b = shared.store(c, node="a"), shared.store(c, node="b")
    await a.open_lead("L1", "c", {})
    due = c.wall().timestamp() + 30
    await a.finish("L1", {"disposition": "scheduled", "buyer": "x"},
                   JobSpec("x", "post", 2, due, "503"))  # fmt: skip
    assert await a.claim_jobs() == []
    c.advance(30)
    a.beat()
    b.beat()
    jobs = await a.claim_jobs()
    assert [(j.lead_id, j.buyer, j.attempt, j.taken_over) for j in jobs] == [("L1", "x", 2, False)]
    assert await b.claim_jobs() == []


async def test_a_dead_nodes_claims_and_leads_go_to_the_living(shared: Made) -> None:
    """When node a's lease runs out, b claims a's job (taken over) and a's unfinished lead."""
    c = clock()
    a, b = shared.store(c, node="a", lease=10), shared.store(c, node="b", lease=10)
    await a.open_lead("L1", "c", {})
    await a.open_lead("L2", "c", {})
    await a.finish("L1", {"disposition": "scheduled", "buyer": "x"},
                   JobSpec("x", "post", 2, c.wall().timestamp(), "503"))  # fmt: skip
    assert len(await a.claim_jobs()) == 1
    assert await b.claim_orphans() == []
    c.advance(11)
    b.beat()
    assert await b.claim_orphans() == ["L2"]
    jobs = await b.claim_jobs()
    assert [(j.lead_id, j.taken_over) for j in jobs] == [("L1", True)]
    assert await b.claim_orphans() == []  # b owns it now, and b is alive


async def test_group_commit_writes_many_callers_in_few_transactions(made: Made) -> None:
    """200 concurrent intents commit in far fewer transactions than 200."""
    store = made.store(clock())
    await store.open_lead("L1", "c", {})
    before = store.writer.commits
    await asyncio.gather(*(store.sending("L1", "b", "post", i, None) for i in range(1, 201)))
    assert rows(made, "SELECT COUNT(*) FROM attempts") == [(200,)]
    assert store.writer.commits - before < 100


async def test_the_lead_document_is_sealed_and_reads_back(made: Made) -> None:
    """The document column holds no clear text; get_lead opens it."""
    store = made.store(clock())
    await store.open_lead("L1", "c", {"contact": {"email": "planted.person@example.org"}})
    raw = rows(made, "SELECT document, key_id FROM leads")[0]
    assert b"planted.person" not in bytes(raw[0])  # type: ignore[call-overload]
    assert raw[1] == store.keyring.current
    assert store.get_lead("L1") == ("c", {"contact": {"email": "planted.person@example.org"}})


async def test_a_node_that_lost_its_lead_can_neither_send_nor_finish_it(shared: Made) -> None:
    """Node a was slow, not dead: its lease ran out and b took its lead over. a's next intent
    and a's result are refused (ClaimLost) and write nothing; b's work stands."""
    c = clock()
    a, b = shared.store(c, node="a", lease=10), shared.store(c, node="b", lease=10)
    await a.open_lead("L1", "c", {})
    await a.sending("L1", "w1", "post", 1, "L1:w1:post")  # a owns it: written
    c.advance(11)
    b.beat()
    assert await b.claim_orphans() == ["L1"]
    with pytest.raises(ClaimLost, match="L1"):
        await a.sending("L1", "w2", "post", 1, "L1:w2:post")
    with pytest.raises(ClaimLost):
        await a.finish("L1", {"disposition": "unsold", "reason": "a thinks nobody bought it"})
    assert rows(shared, "SELECT buyer FROM attempts") == [("w1",)]
    await b.finish("L1", {"disposition": "unknown", "reason": "parked by b", "buyer": "w1"})
    with pytest.raises(ClaimLost):  # nor after b finished it (owner cleared)
        await a.finish("L1", {"disposition": "sold", "buyer": "w2", "reason": "late"})
    assert rows(shared, "SELECT disposition, reason FROM leads") == [("unknown", "parked by b")]


async def test_a_node_never_takes_over_its_own_work(shared: Made) -> None:
    """A stall that lets a's own lease lapse does not make a's routing and job orphans to a
    itself (it would send them twice, in two tasks): only another node takes them over."""
    c = clock()
    a, b = shared.store(c, node="a", lease=10), shared.store(c, node="b", lease=10)
    await a.open_lead("L1", "c", {})
    await a.open_lead("L2", "c", {})
    await a.finish("L2", {"disposition": "scheduled", "buyer": "x"},
                   JobSpec("x", "post", 2, c.wall().timestamp(), "503"))  # fmt: skip
    assert [j.lead_id for j in await a.claim_jobs()] == ["L2"]
    c.advance(11)  # a stalls past its lease, then carries on
    assert (await a.claim_orphans(), await a.claim_jobs()) == ([], [])
    b.beat()
    assert await b.claim_orphans() == ["L1"]
    assert [(j.lead_id, j.taken_over) for j in await b.claim_jobs()] == [("L2", True)]


async def test_a_postponed_job_waits_unsent_then_goes_to_any_node(shared: Made) -> None:
    """Node a gives its claimed job back unsent (its buyer is paused): it is due later, its
    claim and the lead's owner are released, the lead stays scheduled, and when it is due again
    b may claim it (not taken over: nothing was sent). Only the node holding a job moves it."""
    c = clock()
    a, b = shared.store(c, node="a", lease=10), shared.store(c, node="b", lease=10)
    await a.open_lead("L1", "c", {})
    await a.finish("L1", {"disposition": "scheduled", "buyer": "x"},
                   JobSpec("x", "post", 2, c.wall().timestamp(), "503"))  # fmt: skip
    assert len(await a.claim_jobs()) == 1
    with pytest.raises(ClaimLost, match="L1"):
        await b.postpone("L1", "x", c.wall().timestamp() + 5, "b does not hold it")
    due = c.wall().timestamp() + 30
    await a.postpone("L1", "x", due, "x is paused")
    assert rows(shared, "SELECT attempt, due_at, reason, owner, lease_until FROM jobs") == [
        (2, due, "x is paused", None, None)
    ]
    assert rows(shared, "SELECT disposition, owner FROM leads") == [("scheduled", None)]
    assert (await a.claim_jobs(), await b.claim_jobs()) == ([], [])
    c.advance(30)
    a.beat()
    b.beat()
    assert [(j.lead_id, j.attempt, j.taken_over) for j in await b.claim_jobs()] == [
        ("L1", 2, False)
    ]
    with pytest.raises(ClaimLost):  # a gave it back: b holds it now
        await a.postpone("L1", "x", due + 30, "x is paused")


async def test_a_lead_waits_on_one_buyers_retry_at_a_time(made: Made) -> None:
    """A result with w2's retry job ends w1's job (the sale moved on from w1)."""
    c = clock()
    store = made.store(c)
    await store.open_lead("L1", "c", {})
    due = c.wall().timestamp()
    await store.finish("L1", {"disposition": "scheduled", "buyer": "w1"},
                       JobSpec("w1", "post", 2, due, "503"))  # fmt: skip
    assert [j.buyer for j in await store.claim_jobs()] == ["w1"]
    await store.finish("L1", {"disposition": "scheduled", "buyer": "w2"},
                       JobSpec("w2", "post", 2, due, "429"))  # fmt: skip
    assert rows(made, "SELECT buyer, attempt FROM jobs") == [("w2", 2)]


async def test_an_accepted_answer_after_the_lead_was_parked_makes_it_sold(shared: Made) -> None:
    """The slow node's post was dangling when b took the lead over and parked it as unknown;
    then the slow node's answer arrives: accepted. The sale and the lead's disposition agree."""
    c = clock()
    a, b = shared.store(c, node="a", lease=10), shared.store(c, node="b", lease=10)
    await a.open_lead("L1", "c", {})
    assert await a.reserve("L1", "w1", Decimal("20.00"), []) is None
    await a.sending("L1", "w1", "post", 1, "L1:w1:post")
    c.advance(11)
    b.beat()
    assert await b.claim_orphans() == ["L1"]
    await b.finish("L1", {"disposition": "unknown", "reason": "parked", "buyer": "w1"})
    a.answered("L1", post("w1"))
    assert rows(shared, "SELECT disposition, price FROM leads") == [("sold", "20.00")]
    assert rows(shared, "SELECT state FROM holds") == [("sold",)]
    result = b.get_result("L1")
    assert result is not None and result["disposition"] == "sold"
    assert "after the lead was parked" in result["reason"]


async def test_attempts_have_no_index_that_no_query_reads(made: Made) -> None:
    """Schema version 4 drops the (state, kind) index, which no query needs, on every backend;
    a buyer's posts and pings are still found by buyer (the buyer index), and the archive's old
    rows by time (it went through the (state, kind) index on SQLite, for nearly every row)."""
    store = made.store(clock=clock())
    await store.open_lead("L1", "c", {"x": 1})
    ping = Outcome("b1", "ping", "accepted", False, None, 1, Timings(0.01), 200)
    for outcome in (ping, post("b1", "rejected")):
        store.answered("L1", outcome)
    store.writer.flush()
    if made.kind == "postgres":
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'attempts'"
        sql += " AND schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'attempts'"
    names = {str(r[0]) for r in store.backend.read(sql)}
    assert {"attempts_time", "attempts_buyer"} <= names
    assert "attempts_status" not in names
    posts = "SELECT kind FROM attempts WHERE buyer = ? AND stage = 'post' AND state <> 'sending'"
    assert store.backend.read(posts, ("b1",)) == [("rejected",)]
    pings = "SELECT kind FROM attempts WHERE buyer = ? AND stage = 'ping'"
    assert store.backend.read(pings, ("b1",)) == [("accepted",)]
    if made.kind != "postgres":  # the planner's choice (PostgreSQL's depends on statistics)
        plan = store.backend.read("EXPLAIN QUERY PLAN " + posts, ("b1",))
        assert "attempts_buyer" in str(plan)
        old = "SELECT MIN(started_at) FROM attempts WHERE started_at < ? AND state = 'done'"
        plan = store.backend.read("EXPLAIN QUERY PLAN " + old, (0.0,))
        assert "attempts_time" in str(plan)  # the archive reads the old rows only

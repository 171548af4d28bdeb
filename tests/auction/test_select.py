"""Winner selection: which bids count, the winners' order, and posting to candidates in turn."""

from __future__ import annotations

import itertools
from decimal import Decimal

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.auction.select import Bid, PostStep, post_step, rank, read_bid, take_turns
from engine.runtime.outcome import NOT_DELIVERED

D = Decimal


@pytest.mark.parametrize(
    "price,floor,counts",
    [
        (D("12.50"), None, True),
        (D("5.00"), D("5.00"), True),
        (D("4.99"), D("5.00"), False),
        (D("0"), None, False),
        (D("0.00"), D("0"), False),
        (D("-1"), None, False),
        (None, None, False),
    ],
    ids=["plain", "at-floor", "below-floor", "zero", "zero-zero-floor", "negative", "missing"],
)
def test_read_bid(price: Decimal | None, floor: Decimal | None, counts: bool) -> None:
    """A bid counts when it is above 0 and at or above the floor; otherwise a reason says why."""
    amount, why = read_bid(price, floor)
    assert (amount is not None) == counts
    assert (why is None) == counts


def test_zero_bid_reason_says_no_bid() -> None:
    """A bid of 0 means "no bid", in those words."""
    assert read_bid(D("0.00"), None)[1] == "a bid of 0 means no bid"


def test_below_floor_reason_names_both_amounts() -> None:
    """The reason for an ignored low bid shows the bid and the floor as money."""
    assert read_bid(D("3"), D("5")) == (None, "the bid of $3.00 is below the floor of $5.00")


def test_rank_breaks_ties_by_acceptance_then_priority() -> None:
    """Highest bid first; equal bids by recent acceptance rate, then by smaller priority."""
    bids = [
        Bid("low", D("10"), 1.0, 1),
        Bid("tie-new", D("20"), None, 1),
        Bid("tie-good", D("20"), 0.9, 5),
        Bid("tie-ok-2", D("20"), 0.5, 2),
        Bid("tie-ok-1", D("20"), 0.5, 1),
        Bid("top", D("30"), 0.0, 9),
    ]
    assert [b.buyer for b in rank(bids)] == [
        "top",
        "tie-good",
        "tie-ok-1",
        "tie-ok-2",
        "tie-new",
        "low",
    ]


@pytest.mark.parametrize(
    "kind,scheduled,step",
    [
        ("accepted", False, "sold"),
        ("rejected", False, "next"),
        ("duplicate", False, "next"),
        ("server_error", False, "next"),
        ("transport", False, "next"),
        ("circuit_open", False, "next"),
        ("unknown", False, "unknown"),
        ("bad_response", False, "unknown"),
        ("server_error", True, "scheduled"),
    ],
)
def test_post_step(kind: str, scheduled: bool, step: PostStep) -> None:
    """Only a post that certainly did not deliver moves on; unknown and unreadable answers stop."""
    assert post_step(kind, scheduled=scheduled) == step


KINDS = st.sampled_from(
    ["accepted", "rejected", "duplicate", "transport", "server_error", "unknown", "bad_response"]
)
AMOUNTS = st.decimals(min_value=0, max_value=100, places=2)
BIDS = st.lists(
    st.builds(
        Bid,
        buyer=st.text("abcdefgh", min_size=1, max_size=4),
        amount=AMOUNTS,
        acceptance=st.none() | st.floats(0, 1),
        priority=st.integers(1, 5),
    ),
    max_size=25,
)


@given(BIDS)
def test_rank_is_always_descending_by_bid(bids: list[Bid]) -> None:
    """Whatever the bids, the winners' order never puts a lower bid before a higher one, and
    equal bids are ordered by acceptance (none counts as 0) then priority."""
    ranked = rank(bids)
    assert sorted(ranked, key=id) == sorted(bids, key=id)
    for a, b in itertools.pairwise(ranked):
        assert a.amount >= b.amount
        if a.amount == b.amount:
            assert (a.acceptance or 0.0) >= (b.acceptance or 0.0)
            if (a.acceptance or 0.0) == (b.acceptance or 0.0):
                assert a.priority <= b.priority


@given(
    st.lists(KINDS, max_size=12),
    st.none() | st.integers(1, 6),
    st.none() | st.integers(0, 12),
)
def test_take_turns_posts_in_order_until_someone_may_have_it(
    kinds: list[str], limit: int | None, expire_after: int | None
) -> None:
    """Candidates are posted to in order; only a post that certainly did not deliver moves on;
    never more than ``limit`` posts, none after the deadline; the end is the last post's step."""
    posted: list[int] = []

    async def post(i: int) -> PostStep:
        posted.append(i)
        return post_step(kinds[i])

    def expired() -> bool:
        return expire_after is not None and len(posted) >= expire_after

    turns = anyio.run(lambda: take_turns(range(len(kinds)), post, limit=limit, expired=expired))
    assert posted == list(range(len(posted)))
    assert [i for i, _ in turns.tried] == posted
    assert list(turns.untried) == list(range(len(posted), len(kinds)))
    assert limit is None or len(posted) <= limit
    for i in posted[:-1]:
        assert kinds[i] in NOT_DELIVERED
    if turns.end is not None:
        assert turns.end == post_step(kinds[posted[-1]]) != "next"
        assert turns.stopped is None
    elif turns.untried:
        assert turns.stopped

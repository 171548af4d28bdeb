"""Choosing who gets a lead: which bids count, the winners' order, and posting to them in turn.

Pure logic, no I/O: the router feeds it bids and a function that posts to one candidate, which
keeps the rules easy to property-test with a fake deliverer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from engine.frozen import frozen
from engine.runtime.outcome import NOT_DELIVERED

T = TypeVar("T")

PostStep = Literal["sold", "next", "unknown", "scheduled"]
"""What one post means for the sale: the buyer took it; it certainly did not reach the buyer
(try the next one); the buyer may have it (stop: never sold twice); it waits for a retry."""

_ZERO = Decimal(0)


@frozen
class Bid:
    """A bid that counts: at or above the floor, more than zero."""

    buyer: str
    amount: Decimal
    acceptance: float | None
    """The buyer's recent share of accepted posts (0–1); None when it has no recent posts."""
    priority: int
    """The campaign's priority: 1 is first."""


def read_bid(price: Decimal | None, floor: Decimal | None) -> tuple[Decimal | None, str | None]:
    """``(amount, None)`` when an accepted ping's price counts as a bid, else ``(None, why)``.

    A bid of 0 (or less) is no bid; a bid below the floor is ignored."""
    if price is None:
        return None, "the buyer accepted the ping but sent no bid"
    if price <= _ZERO:
        return None, "a bid of 0 means no bid"
    if floor is not None and price < floor:
        return None, f"the bid of ${price:.2f} is below the floor of ${floor:.2f}"
    return price, None


def rank(bids: Iterable[Bid]) -> list[Bid]:
    """Winners first: the highest bid; on equal bids the higher recent acceptance rate (no
    recent posts counts as 0), then the smaller priority, then the buyer id (to be stable)."""
    return sorted(bids, key=lambda b: (-b.amount, -(b.acceptance or 0.0), b.priority, b.buyer))


def post_step(kind: str, *, scheduled: bool = False) -> PostStep:
    """The meaning of a post's last outcome class (see :data:`PostStep`)."""
    if scheduled:
        return "scheduled"
    if kind == "accepted":
        return "sold"
    if kind in NOT_DELIVERED:
        return "next"
    return "unknown"


@frozen
class Turns(Generic[T]):
    """How posting to candidates in turn ended."""

    tried: tuple[tuple[T, PostStep], ...]
    """Each candidate posted to, in order, with what its post meant."""
    end: PostStep | None
    """sold, unknown or scheduled (the last one tried); None when nobody took the lead."""
    untried: tuple[T, ...]
    """Candidates never posted to."""
    stopped: str | None = None
    """Why candidates were left untried while nobody had the lead (a limit, the deadline)."""


async def take_turns(
    candidates: Sequence[T],
    post: Callable[[T], Awaitable[PostStep]],
    *,
    limit: int | None = None,
    expired: Callable[[], bool] = lambda: False,
) -> Turns[T]:
    """Post to ``candidates`` one at a time until one takes the lead or may have it; a post
    that certainly did not deliver moves on to the next, at most ``limit`` posts, and none once
    ``expired()`` says the deadline has passed."""
    tried: list[tuple[T, PostStep]] = []
    for i, candidate in enumerate(candidates):
        if limit is not None and len(tried) >= limit:
            why = f"the campaign posts to at most {limit} bidder{'s' if limit != 1 else ''}"
            return Turns(tuple(tried), None, tuple(candidates[i:]), why)
        if expired():
            return Turns(tuple(tried), None, tuple(candidates[i:]), "the total deadline passed")
        step = await post(candidate)
        tried.append((candidate, step))
        if step != "next":
            return Turns(tuple(tried), step, tuple(candidates[i + 1 :]))
    return Turns(tuple(tried), None, ())

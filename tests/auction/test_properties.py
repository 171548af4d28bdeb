"""Properties of the router over random buyers, bids and outcomes (a fake runtime, no HTTP)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
from hypothesis import given
from hypothesis import strategies as st

from engine.auction import DISPOSITIONS, Router
from engine.plan import CapsPlan, FilterPlan, SchedulePlan
from engine.runtime.outcome import NOT_DELIVERED
from engine.store import MemoryStore
from tests.auction_kit import FakeRuntime, campaign, plan, sample_lead

URL = "http://127.0.0.1:9"
LEAD = sample_lead()
STATUS = st.sampled_from(["eligible", "eligible", "eligible", "filtered", "capped", "closed"])
PING_KIND = st.sampled_from(["accepted", "accepted", "accepted", "rejected", "late", "transport"])
POST_KIND = st.sampled_from(
    ["accepted", "rejected", "duplicate", "server_error", "transport", "unknown", "bad_response"]
)
PRICE = st.none() | st.sampled_from([Decimal(0), Decimal("4.99")]) | st.decimals(1, 60, places=2)
BUYER = st.tuples(STATUS, PING_KIND, PRICE, POST_KIND)

EXCLUDE: dict[str, dict[str, Any]] = {
    "eligible": {},
    "filtered": {"filters": FilterPlan(lambda lead: "only leads from New York")},
    "capped": {"caps": CapsPlan(per_day=0)},
    "closed": {"schedule": SchedulePlan("UTC", frozenset(), ((0, 1440),))},
}


def _run(
    mode: str,
    buyers: list[tuple[str, str, Decimal | None, str]],
    fallback: list[tuple[str, str]],
    floor: str | None,
    max_posts: int,
) -> tuple[Any, FakeRuntime, dict[str, Any]]:
    main = [plan("bidder", f"b{i}", URL, **EXCLUDE[b[0]]) for i, b in enumerate(buyers)]
    back = [plan("poster", f"f{i}", URL, **EXCLUDE[f[0]]) for i, f in enumerate(fallback)]
    pings = {f"b{i}": (b[1], b[2]) for i, b in enumerate(buyers)}
    posts = {f"b{i}": b[3] for i, b in enumerate(buyers)}
    posts.update({f"f{i}": f[1] for i, f in enumerate(fallback)})
    runtime = FakeRuntime(pings, posts)  # type: ignore[arg-type]
    camp = campaign(main, mode=mode, fallback=back, floor=floor, max_posts=max_posts)  # type: ignore[arg-type]
    router = Router(runtime, MemoryStore(), runtime.clock, env="test")
    result = anyio.run(lambda: router.route(camp, LEAD))
    info = {f"b{i}": b for i, b in enumerate(buyers)} | {f"f{i}": f for i, f in enumerate(fallback)}
    return result, runtime, info


@given(
    st.lists(BUYER, min_size=1, max_size=8),
    st.lists(st.tuples(STATUS, POST_KIND), max_size=3),
    st.none() | st.just("5.00"),
    st.integers(1, 4),
)
def test_auction_properties(
    buyers: list[tuple[str, str, Decimal | None, str]],
    fallback: list[tuple[str, str]],
    floor: str | None,
    max_posts: int,
) -> None:
    """Excluded buyers are never sent anything; every eligible bidder is pinged once; the
    bidders posted to are the highest qualifying bids, in descending order, at most
    max_post_attempts of them; nothing is posted after a post that may have delivered; the
    disposition is a defined state with a reason; a sale names the buyer whose post was accepted."""
    result, runtime, info = _run("auction", buyers, fallback, floor, max_posts)
    assert result.disposition in DISPOSITIONS and result.reason
    excluded = {name for name, b in info.items() if b[0] != "eligible"}
    assert not excluded & {buyer for buyer, _ in runtime.sent}
    pinged = [buyer for buyer, stage in runtime.sent if stage == "ping"]
    assert sorted(pinged) == sorted(n for n, b in info.items() if n[0] == "b" and n not in excluded)
    qualifying = {
        n: b[2]
        for n, b in info.items()
        if n[0] == "b" and n not in excluded and b[1] == "accepted" and b[2] is not None
        and b[2] > 0 and (floor is None or b[2] >= Decimal(floor))
    }  # fmt: skip
    posted = [buyer for buyer, stage in runtime.sent if stage == "post"]
    main = [b for b in posted if b[0] == "b"]
    amounts = [qualifying[b] for b in main]
    assert amounts == sorted(amounts, reverse=True)
    assert amounts == sorted(qualifying.values(), reverse=True)[: len(amounts)]
    assert len(main) <= max_posts
    for earlier in posted[:-1]:
        assert info[earlier][-1] in NOT_DELIVERED
    if result.disposition == "sold":
        assert posted and posted[-1] == result.buyer and info[result.buyer][-1] == "accepted"
        assert result.price == qualifying.get(result.buyer, Decimal("20.00"))
    if result.disposition in ("unknown", "scheduled"):
        assert posted and result.buyer == posted[-1]
    if result.disposition == "rejected":
        assert not runtime.sent
    assert set(result.reasons) == set(info)


@given(st.lists(BUYER, min_size=1, max_size=6), st.lists(st.tuples(STATUS, POST_KIND), max_size=2))
def test_waterfall_properties(
    buyers: list[tuple[str, str, Decimal | None, str]], fallback: list[tuple[str, str]]
) -> None:
    """A waterfall offers the eligible buyers in order (each pinged before its post, being a
    ping/post buyer), moves on only when the lead certainly did not reach a buyer, and never
    contacts an excluded buyer."""
    result, runtime, info = _run("waterfall", buyers, fallback, None, 3)
    assert result.disposition in DISPOSITIONS and result.reason
    excluded = {name for name, b in info.items() if b[0] != "eligible"}
    assert not excluded & {buyer for buyer, _ in runtime.sent}
    posted = [buyer for buyer, stage in runtime.sent if stage == "post"]
    order = [n for n in info if n not in excluded]
    assert posted == [n for n in order if n in posted]
    for earlier in posted[:-1]:
        assert info[earlier][-1] in NOT_DELIVERED
    for buyer in posted:
        if buyer[0] == "b":
            assert info[buyer][1] == "accepted"
    if result.disposition == "sold":
        assert result.buyer == posted[-1] and info[result.buyer][-1] == "accepted"

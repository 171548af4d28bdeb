"""Helpers for the router tests: compiled test buyers, campaigns, leads and a fake runtime."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from engine.campaigns.plan import CampaignBuyer, CampaignPlan, CheckPlan, Mode
from engine.clock import FakeClock
from engine.lead import validate_lead
from engine.lead.schema import load_lead_schema
from engine.loading import load_integration
from engine.plan import EnvironmentPlan, IntegrationPlan, RenderContext
from engine.runtime.breaker import CircuitBreaker
from engine.runtime.outcome import Delivery, Outcome, OutcomeKind, Timings
from tests.buyer_server import BuyerServer, Reply
from tests.paths import FIXTURES, REPO

AUCTION_FIXTURES = FIXTURES / "auction"
ENVIRON = {"BIDDER_KEY": "test-key"}
#: A minute after the sample lead's timestamp: the lead is fresh for retries.
WALL = datetime(2024, 12, 15, 14, 31, tzinfo=UTC)
PII_VALUES = ("John", "Smith", "john.smith@gmail.com", "5125550142", "123 Main St")


def fake_clock() -> FakeClock:
    return FakeClock(wall_start=WALL)


@cache
def _schema() -> Any:
    return load_lead_schema(REPO / "integrations" / "lead-schema.yaml")


@cache
def _plan(kind: str) -> IntegrationPlan:
    return load_integration(AUCTION_FIXTURES / f"{kind}.yaml", _schema())


def sample_lead() -> dict[str, Any]:
    """integrations/leads/sample.json, normalized (Texas, PII-bearing)."""
    raw = json.loads((REPO / "integrations" / "leads" / "sample.json").read_text())
    return validate_lead(_schema(), raw)


def plan(kind: str, name: str, url: str, **changes: Any) -> IntegrationPlan:
    """The ``bidder`` (ping/post) or ``poster`` fixture as buyer ``name`` at ``url``/``name``."""
    env = EnvironmentPlan("test", f"{url}/{name}")
    return dataclasses.replace(_plan(kind), buyer=name, environments={"test": env}, **changes)


def bid(server: BuyerServer, name: str, amount: str | None, *, delay: float = 0.0) -> None:
    """Make ``name`` answer every ping with a bid of ``amount`` (None: no bid)."""
    if amount is None:
        reply = Reply.json({"status": "no_bid", "reason": "no demand"}, delay=delay)
    else:
        reply = Reply.json({"status": "bid", "bid": amount, "ping_id": f"{name}-p"}, delay=delay)
    server.default(f"/{name}/ping", reply)


def accept(server: BuyerServer, name: str) -> None:
    server.default(f"/{name}/post", Reply.json({"status": "accepted", "lead_id": f"{name}-L1"}))


def refuse(server: BuyerServer, name: str, reason: str = "not interested") -> None:
    server.default(f"/{name}/post", Reply.json({"status": "rejected", "reason": reason}))


def campaign(
    buyers: Sequence[IntegrationPlan],
    *,
    mode: Mode = "auction",
    fallback: Sequence[IntegrationPlan] = (),
    ping: float = 0.5,
    total: float = 3.0,
    floor: str | None = None,
    max_posts: int = 3,
    checks: Sequence[CheckPlan] = (),
    priorities: Mapping[str, int] | None = None,
) -> CampaignPlan:
    def entry(i: int, p: IntegrationPlan) -> CampaignBuyer:
        return CampaignBuyer(p, (priorities or {}).get(p.buyer, i + 1), p.price)

    return CampaignPlan(
        campaign="test-campaign",
        name="Test campaign",
        file="test-campaign.yaml",
        mode=mode,
        buyers=tuple(entry(i, p) for i, p in enumerate(buyers)),
        ping_deadline=ping,
        total_deadline=total,
        floor=None if floor is None else Decimal(floor),
        max_post_attempts=max_posts,
        fallback=tuple(entry(i, p) for i, p in enumerate(fallback)),
        checks=tuple(checks),
    )


class FakeRuntime:
    """Answers sends from tables instead of HTTP: ``pings[buyer] = (kind, price)`` and
    ``posts[buyer] = kind``; records every send in ``sent`` as (buyer, stage)."""

    def __init__(
        self,
        pings: Mapping[str, tuple[OutcomeKind, Decimal | None]],
        posts: Mapping[str, OutcomeKind],
    ) -> None:
        self.pings = pings
        self.posts = posts
        self.sent: list[tuple[str, str]] = []
        self.clock = fake_clock()

    def _outcome(self, buyer: str, stage: str, kind: OutcomeKind, price: Decimal | None) -> Outcome:
        values: dict[str, Any] = {"ping_id": f"{buyer}-p"}
        if price is not None:
            values["price"] = price
        reason = None if kind == "accepted" else f"{kind} by the fake"
        return Outcome(buyer, stage, kind, False, reason, 1, Timings(0.001), values=values)

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
    ) -> Outcome:
        self.sent.append((plan.buyer, stage))
        kind, price = self.pings[plan.buyer]
        return self._outcome(plan.buyer, stage, kind, price)

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
    ) -> Delivery:
        self.sent.append((plan.buyer, stage))
        outcome = self._outcome(plan.buyer, stage, self.posts[plan.buyer], None)
        return Delivery(outcome, (outcome,))

    def breaker_for(self, plan: IntegrationPlan, env: str) -> CircuitBreaker:
        return CircuitBreaker(plan.breaker, self.clock, plan.buyer)

"""The generic ping buyers' integration files against the sandbox's simulated buyers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.auction import Router
from engine.campaigns.plan import CampaignPlan
from engine.clock import SystemClock
from engine.runtime.executor import Runtime
from engine.sandbox import SandboxThread, sandbox_environ
from engine.sandbox.targets import point_campaign
from engine.store import MemoryStore
from tests.auction_kit import campaign, sample_lead
from tests.examples import example_plan, steady_sandbox_config
from tests.paths import REPO

GENERIC = ("apex", "citadel", "dune", "ember", "falcon", "granite", "helix", "ironwood")
CONFIG = steady_sandbox_config()


@pytest.fixture
def sandbox(steady_sandbox: SandboxThread) -> SandboxThread:
    """The repository's sandbox buyers, answering at once and never failing (shared)."""
    return steady_sandbox


def generic_campaign(sandbox: SandboxThread) -> CampaignPlan:
    buyers = [example_plan(f"{b}-ping") for b in GENERIC]
    camp = campaign(buyers, ping=2.0, total=5.0, floor="5.00", max_posts=8)
    return point_campaign(camp, f"http://127.0.0.1:{CONFIG.port}", sandbox.url, "test")


@pytest.mark.anyio
async def test_generic_buyers_bid_and_buy_over_http(sandbox: SandboxThread) -> None:
    """Every generic ping buyer file speaks its sandbox buyer's format: pings pass its checks
    (no personal data), bids are read, the ping id goes back in the post, posts are accepted."""
    camp = generic_campaign(sandbox)
    kinds: Counter[str] = Counter()
    sold = 0
    async with Runtime(environ=sandbox_environ(CONFIG)) as runtime:
        router = Router(runtime, MemoryStore(), SystemClock(), env="test")
        for _ in range(12):
            result = await router.route(camp, sample_lead())
            sold += result.sold
            kinds.update(e.outcome for e in result.trace if e.step in ("ping", "post"))
    assert sold > 0
    assert set(kinds) <= {"accepted", "rejected", "duplicate"}, kinds
    stats = sandbox.all_stats()
    for name in GENERIC:
        assert stats[f"{name}-ping"].bad_requests == 0
        assert stats[f"{name}-ping"].auth_failures == 0
        assert stats[f"{name}-ping"].unknown_pings == 0


def test_every_generic_buyer_is_in_the_sandbox() -> None:
    """Each integration file has a simulated buyer and a credential in integrations/sandbox.yaml."""
    ids = {b.id for b in CONFIG.buyers}
    for name in GENERIC:
        assert f"{name}-ping" in ids
        assert f"{name.upper()}_PING_KEY" in CONFIG.credentials
        assert Path(REPO / f"integrations/buyers/{name}-ping.yaml").is_file()

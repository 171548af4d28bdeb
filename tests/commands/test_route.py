"""``leadpost route``: one lead through a campaign file, shown as a table of every step."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.auction import RouteResult, TraceEntry
from engine.campaigns.compile import load_campaign
from engine.cli import main
from engine.commands.route import format_result, route_command
from engine.plan import OAuth2Auth
from engine.sandbox import SandboxThread, sandbox_environ
from engine.sandbox.targets import point_campaign
from tests.examples import steady_sandbox_config
from tests.paths import REPO

CAMPAIGNS = REPO / "integrations" / "campaigns"
LEAD = REPO / "integrations" / "leads" / "sample.json"
CONFIG = steady_sandbox_config()
ORIGIN = f"http://127.0.0.1:{CONFIG.port}"


@pytest.fixture
def sandbox(steady_sandbox: SandboxThread) -> SandboxThread:
    """The repository's sandbox buyers, answering at once and never failing (shared)."""
    return steady_sandbox


@pytest.mark.anyio
async def test_route_shows_each_buyer_and_the_disposition(sandbox: SandboxThread) -> None:
    """The report names the campaign, shows the checks, each bidder's eligibility and ping,
    what happened with every buyer, and ends with the disposition; exit 0 means sold."""
    text, code = await route_command(
        CAMPAIGNS / "home-auction.yaml",
        LEAD,
        environ=sandbox_environ(CONFIG),
        origins=(ORIGIN, sandbox.url),
    )
    lines = text.splitlines()
    assert lines[0].startswith("campaign home-auction (auction), environment test, lead id ld-")
    assert lines[1].startswith("checks: phone (critical), email (critical)")
    assert "ms" in lines[2] and "latency" in lines[2] and "reason" in lines[2]
    assert any("phone check passed" in line for line in lines)
    for buyer in ("beacon-ping", "lighthouse-xml"):
        assert any(buyer in line and "eligibility" in line for line in lines)
        assert any(buyer in line and " ping " in line for line in lines)
    assert "buyers:" in lines
    last = lines[-1]
    assert last.split(":")[0] in {"SOLD", "UNSOLD", "UNKNOWN", "SCHEDULED"}
    assert code == (0 if last.startswith("SOLD") else 1)


@pytest.mark.anyio
async def test_route_refuses_an_environment_a_buyer_lacks() -> None:
    """An environment some buyer file does not have is a usage mistake (exit 2), sent nowhere."""
    text, code = await route_command(CAMPAIGNS / "home-auction.yaml", LEAD, "staging")
    assert code == 2
    assert text.startswith("these buyers have no environment 'staging': beacon-ping,")


def test_route_command_line_with_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    """``leadpost route CAMPAIGN --lead LEAD --sandbox`` serves the simulated buyers meanwhile
    (on a free port) and prints the report."""
    code = main(
        ["route", str(CAMPAIGNS / "harbor-direct.yaml"), "--lead", str(LEAD), "--sandbox",
         str(REPO / "integrations" / "sandbox.yaml")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "campaign harbor-direct (direct)" in out
    assert "harbor-mutual" in out
    head = out.rstrip().splitlines()[-1].split(":")[0]
    assert head in {"SOLD", "UNSOLD", "UNKNOWN", "SCHEDULED"}
    assert code == (0 if head == "SOLD" else 1)


def test_point_campaign_moves_every_address_of_the_environment() -> None:
    """Moving the sandbox's origin changes buyer URLs and OAuth token URLs of that environment
    only; production addresses stay as written."""
    camp = load_campaign(CAMPAIGNS / "auto-waterfall.yaml")
    moved = point_campaign(camp, ORIGIN, "http://127.0.0.1:5555", "test")
    for before, after in zip(camp.buyers, moved.buyers, strict=True):
        old, new = before.integration, after.integration
        assert new.environments["test"].url == old.environments["test"].url.replace(
            ORIGIN, "http://127.0.0.1:5555"
        )
        assert new.environments["production"] == old.environments["production"]
    summit = next(b.integration for b in moved.buyers if b.buyer == "summit-crm")
    token_url = summit.environments["test"].token_url
    assert token_url is not None and token_url.startswith("http://127.0.0.1:5555/summit-crm/")
    assert isinstance(summit.auth, OAuth2Auth)


def test_format_result_layout() -> None:
    """The table has one row per trace entry with money and milliseconds formatted, then the
    buyers' reasons and the disposition line."""
    camp = load_campaign(CAMPAIGNS / "home-auction.yaml")
    result = RouteResult(
        lead_id="ld-1",
        campaign="home-auction",
        disposition="sold",
        reason="sold to beacon-ping for $12.50",
        buyer="beacon-ping",
        price=Decimal("12.50"),
        buyer_lead_id="BCN-7",
        reasons={"beacon-ping": "sold for $12.50", "lighthouse-xml": "no bid (rejected)"},
        trace=(
            TraceEntry(0.4, None, "check", "passed", reason="phone check passed"),
            TraceEntry(61.2, "beacon-ping", "ping", "accepted", Decimal("12.5"), 60.7),
            TraceEntry(140.0, "beacon-ping", "post", "accepted", Decimal("12.5"), 78.9),
        ),
        elapsed=141.0,
    )
    assert format_result(result, camp, "test", width=100) == EXPECTED


EXPECTED = """\
campaign home-auction (auction), environment test, lead id ld-1
checks: phone (critical), email (critical), disposable_email (critical), consent (critical),
suppression (critical)
 ms ┃ buyer       ┃ step  ┃ outcome  ┃    bid ┃ latency ┃ reason
━━━━╇━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━
  0 │ -           │ check │ passed   │        │         │ phone check passed
 61 │ beacon-ping │ ping  │ accepted │ $12.50 │   61 ms │
140 │ beacon-ping │ post  │ accepted │ $12.50 │   79 ms │

buyers:
  beacon-ping     sold for $12.50
  lighthouse-xml  no bid (rejected)

SOLD: sold to beacon-ping for $12.50 (buyer's lead id BCN-7), in 141 ms
"""

"""``leadpost post``: a real send of one lead, ping then post, shown masked with timings."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.commands.post import post_command
from engine.errors import AuthoringError
from tests.buyer_server import BuyerServer, Reply
from tests.conftest import RUNTIME_FIXTURES
from tests.paths import REPO

pytestmark = pytest.mark.anyio

SAMPLE = REPO / "integrations" / "leads" / "sample.json"
ENV = {"BEACON_KEY": "key-SECRET-456"}


@pytest.fixture
def buyer_file(tmp_path: Path, buyer_server: BuyerServer) -> Path:
    """pingpost.yaml pointed at the test buyer, next to a copy of the lead schema."""
    shutil.copy(REPO / "integrations" / "lead-schema.yaml", tmp_path / "lead-schema.yaml")
    text = (RUNTIME_FIXTURES / "pingpost.yaml").read_text().replace("__URL__", buyer_server.url)
    path = tmp_path / "beacon-test.yaml"
    path.write_text(text)
    return path


async def test_ping_then_post_with_the_pings_values(
    buyer_file: Path, buyer_server: BuyerServer
) -> None:
    """Both stages are sent; the post carries the ping id; output is masked; exit 0."""
    buyer_server.script("/ping", Reply.json({"status": "bid", "bid": "12.50", "ping_id": 98765}))
    buyer_server.script("/post", Reply.json({"result": "sold", "lead_id": "B-1"}))
    text, code = await post_command(buyer_file, SAMPLE, "test", environ=ENV)
    assert code == 0
    assert buyer_server.received("/post")[0].json()["ping_id"] == "98765"
    assert "ping: accepted (HTTP 200 OK)" in text and "post: accepted (HTTP 200 OK)" in text
    assert "price=12.50" in text and "buyer_lead_id=B-1" in text
    assert f"POST {buyer_server.url}/post" in text and '"email":"j***@gmail.com"' in text
    assert "X-Api-Key: ${env:BEACON_KEY}" in text
    assert "key-SECRET-456" not in text and "john.smith@gmail.com" not in text


async def test_a_ping_without_a_bid_stops_before_the_post(
    buyer_file: Path, buyer_server: BuyerServer
) -> None:
    """No bid: the post is not sent and the exit code says not accepted."""
    buyer_server.script("/ping", Reply.json({"status": "no_bid"}))
    text, code = await post_command(buyer_file, SAMPLE, "test", environ=ENV)
    assert code == 1 and "the post was not sent" in text
    assert buyer_server.received("/post") == []


async def test_one_stage_only(buyer_file: Path, buyer_server: BuyerServer) -> None:
    """--stage ping sends only the ping."""
    buyer_server.script("/ping", Reply(503, b"busy"))
    soon = datetime(2024, 12, 15, 14, 31, tzinfo=UTC)  # a minute after the lead's timestamp
    text, code = await post_command(buyer_file, SAMPLE, "test", "ping", environ=ENV, wall=soon)
    assert code == 1 and "ping: server_error (HTTP 503 Service Unavailable)" in text
    assert "a real delivery would retry this" in text and buyer_server.received("/post") == []


async def test_an_old_lead_says_a_delivery_would_not_retry_and_why(
    buyer_file: Path, buyer_server: BuyerServer
) -> None:
    """Issue 13: for a lead older than give_up_after, `post` does not promise a retry."""
    buyer_server.script("/ping", Reply(503, b"busy"))
    later = datetime(2024, 12, 17, 15, 0, tzinfo=UTC)
    text, _ = await post_command(buyer_file, SAMPLE, "test", "ping", environ=ENV, wall=later)
    assert (
        "a real delivery would not retry this: the lead would be older than 3600 seconds by the"
        " next attempt, so it was not tried again (give_up_after counts from the lead's"
        " timestamp; the lead is 2 days old)"
    ) in text


async def test_unknown_environment_or_stage_is_a_usage_error(buyer_file: Path) -> None:
    """Names the choices the file has."""
    text, code = await post_command(buyer_file, SAMPLE, "production", environ=ENV)
    assert code == 2 and "has no environment 'production'; it has: test" in text
    text, code = await post_command(buyer_file, SAMPLE, "test", "bid", environ=ENV)
    assert code == 2 and "it has: ping, post" in text


async def test_a_broken_buyer_file_raises_for_the_cli(tmp_path: Path) -> None:
    """Authoring errors propagate to the CLI, which prints them with positions."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("buyer: x\n")
    with pytest.raises(AuthoringError):
        await post_command(bad, SAMPLE, "test", environ=ENV)

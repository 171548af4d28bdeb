"""``leadpost preflight`` against scripted buyers: failure lines, the saved report, exit codes."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from engine.cli import main
from engine.clock import FakeClock
from engine.commands.preflight import campaign_deadlines, preflight_command
from tests.buyer_server import BuyerServer, Reply
from tests.paths import REPO

pytestmark = pytest.mark.anyio

ENV = {"ACME_TOKEN": "tok-SECRET-123"}
BUYER = """\
buyer: acme-direct
name: Acme Direct
version: "1"
environments:
  test:
    url: __URL__
  production:
    url: https://api.acme-leads.com/v1
auth:
  type: bearer
  token: ${env:ACME_TOKEN}
stages:
  post:
    path: /post
    timeout: {connect: 1s, read: 1s, total: 2s}
    fields:
      first_name: lead.first_name
      email: lead.email
      zip: lead.address.zip
    response:
      rules:
        - {if: "status == 'accepted'", outcome: accepted}
        - {if: "status == 'rejected'", outcome: rejected}
      extract:
        buyer_lead_id: id
        reason: message
tests:
  - name: the sample lead is accepted
    lead: sample.json
    expect_body: '{"first_name":"John","email":"john.smith@gmail.com","zip":"78701"}'
  - name: the sample lead is turned down
    lead: sample.json
    response: {status: 200, body: '{"status": "rejected"}'}
    expect: {outcome: rejected}
"""


def workspace(tmp_path: Path, url: str) -> Path:
    """acme.yaml pointed at ``url``, beside the lead schema and the sample lead."""
    shutil.copy(REPO / "integrations" / "lead-schema.yaml", tmp_path / "lead-schema.yaml")
    shutil.copy(REPO / "integrations" / "leads" / "sample.json", tmp_path / "sample.json")
    path = tmp_path / "acme.yaml"
    path.write_text(BUYER.replace("__URL__", url))
    return path


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def line(text: str, name: str) -> str:
    found = [x for x in text.splitlines() if x[:1] in "✓✗–•" and x[2:].startswith(name)]
    assert found, f"no line for {name!r} in:\n{text}"
    return found[0]


async def test_an_outcome_other_than_expected_fails_with_the_masked_exchange(
    tmp_path: Path, buyer_server: BuyerServer
) -> None:
    """Both cases are sent; the one expecting a rejection got an acceptance: a failure line
    with the request and answer under it, personal data and the token masked."""
    buyer_server.default("/post", Reply.json({"status": "accepted", "id": "A-1"}))
    path = workspace(tmp_path, buyer_server.url)
    out = tmp_path / "r.md"
    text, code = await preflight_command(path, out=out, environ=ENV, clock=FakeClock())
    assert code == 1
    assert line(text, "test lead 'the sample lead is accepted'").startswith("✓")
    bad = line(text, "test lead 'the sample lead is turned down'")
    assert bad.startswith("✗") and "expected rejected, got post accepted" in bad
    assert "Authorization: Bearer ***" in text
    assert "tok-SECRET-123" not in text and "john.smith@gmail.com" not in text
    assert '"email":"j***@gmail.com"' in text
    assert "A-1" in line(text, "buyer confirmation")
    assert len(buyer_server.received("/post")) == 2
    assert "tok-SECRET-123" not in out.read_text()


async def test_an_unreachable_endpoint_fails_and_sends_nothing(tmp_path: Path) -> None:
    """A closed loopback port: the reachability line fails with the reason, leads are not sent,
    the forced failure line says the buyer offers none."""
    path = workspace(tmp_path, f"http://127.0.0.1:{closed_port()}")
    text, code = await preflight_command(path, out=tmp_path / "r.md", environ=ENV)
    assert code == 1
    bad = line(text, "endpoint reachable")
    assert bad.startswith("✗") and "no connection to" in bad
    assert "not sent: the endpoint is not reachable" in line(text, "test lead 'the sample")
    assert "not offered by this buyer" in line(text, "forced failure")
    assert line(text, "timeouts").startswith("– timeouts")


async def test_a_test_environment_on_the_production_host_fails(
    tmp_path: Path, buyer_server: BuyerServer
) -> None:
    """Test and production must differ: the same host is a failure of the environment line."""
    buyer_server.default("/post", Reply.json({"status": "rejected"}))
    path = workspace(tmp_path, buyer_server.url)
    text = path.read_text().replace("https://api.acme-leads.com/v1", buyer_server.url + "/v1")
    path.write_text(text.replace("production:", "prod:"))
    out, code = await preflight_command(path, out=tmp_path / "r.md", environ=ENV)
    assert code == 1
    assert "uses the production host 127.0.0.1" in line(out, "environment")


def test_the_command_line_saves_the_report_and_sets_the_exit_code(
    tmp_path: Path, buyer_server: BuyerServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``leadpost preflight acme.yaml``: report saved as preflight-acme-direct-test.md in the
    working folder, one list line per checklist line; exit 1 when an item failed."""
    buyer_server.default("/post", Reply.json({"status": "accepted", "id": "A-1"}))
    path = workspace(tmp_path, buyer_server.url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACME_TOKEN", ENV["ACME_TOKEN"])
    assert main(["preflight", str(path)]) == 1
    saved = (tmp_path / "preflight-acme-direct-test.md").read_text()
    assert saved.startswith("# Preflight: Acme Direct (`acme-direct`), environment `test`")
    items = [x for x in saved.splitlines() if x.startswith("- ")]
    assert len(items) == 16 and sum(x.startswith("- ✗") for x in items) == 1
    assert "**Summary:** " in saved and "fix the failures before going live" in saved


def test_an_unknown_environment_is_a_usage_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 with a did-you-mean; nothing is saved."""
    path = workspace(tmp_path, "http://127.0.0.1:9")
    assert main(["preflight", str(path), "--env", "tset", "--out", str(tmp_path / "r.md")]) == 2
    assert "no environment 'tset' (did you mean 'test'?); it has: test, production" in (
        capsys.readouterr().out
    )
    assert not (tmp_path / "r.md").exists()


def test_a_missing_argument_is_a_usage_mistake() -> None:
    """No buyer file: argparse's usage error, exit 2."""
    assert main(["preflight"]) == 2


def test_campaign_ping_deadlines_are_found() -> None:
    """apex-ping is pinged by the open-auction campaign with a 150 ms deadline."""
    found = campaign_deadlines(REPO / "integrations" / "buyers" / "apex-ping.yaml", "apex-ping")
    assert ("open-auction", 0.15) in found
    harbor = REPO / "integrations" / "buyers" / "harbor-mutual.yaml"
    assert campaign_deadlines(harbor, "harbor-mutual") == []

"""``leadpost preflight`` against the sandbox: all pass, forced failures, credentials, forcing."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.clock import FakeClock
from engine.commands.preflight import preflight_command
from engine.sandbox import SandboxThread, parse_config, sandbox_environ, start_in_thread
from tests.paths import REPO

pytestmark = pytest.mark.anyio

WRITTEN = "http://127.0.0.1:8701"
CONFIG = parse_config(
    """\
seed: 5
credentials:
  APEX_PING_KEY: apex-SECRET-key
  SUMMIT_CLIENT_ID: summit-client
  SUMMIT_CLIENT_SECRET: summit-SECRET
buyers:
  apex-ping: {dialect: generic-json, bid: {min: 10.00, max: 20.00}}
  summit-crm: {dialect: salesforce}
"""
)
ENV = sandbox_environ(CONFIG)
#: The force_failure block of the repository's apex-ping.yaml, replaced per test.
APEX_FORCE = """\
    force_failure:
      - headers: {X-Sandbox-Force: "500"}
        expect: server_error
      - headers: {X-Sandbox-Force: reject}
        stage: ping
        expect: rejected
"""
#: Lines of the report that are checklist items.
ITEM = re.compile(r"^[✓✗–•] ", re.MULTILINE)


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    """Two simulated buyers that always bid and accept, on a free port."""
    with start_in_thread(CONFIG, port=0) as running:
        yield running


@pytest.fixture
def buyers(tmp_path: Path) -> Path:
    """A copy of integrations/ (lead schema, leads, buyers) to edit buyer files in."""
    root = tmp_path / "integrations"
    root.mkdir()
    shutil.copy(REPO / "integrations" / "lead-schema.yaml", root / "lead-schema.yaml")
    shutil.copytree(REPO / "integrations" / "leads", root / "leads")
    shutil.copytree(REPO / "integrations" / "buyers", root / "buyers")
    return root / "buyers"


#: The ping's timeouts in the repository's apex-ping.yaml, and the ones the tests give it: the
#: timing items compare this machine's latency with them, and a loaded CI machine can take
#: longer than 300 ms to answer a loopback ping.
APEX_TIMEOUT = "timeout: {connect: 200ms, read: 300ms, total: 300ms}"
ROOMY_TIMEOUT = "timeout: {connect: 2s, read: 2s, total: 2s}"


def apex(buyers: Path, force: str = APEX_FORCE) -> Path:
    path = buyers / "apex-ping.yaml"
    text = path.read_text()
    assert APEX_FORCE in text and APEX_TIMEOUT in text
    path.write_text(text.replace(APEX_FORCE, force).replace(APEX_TIMEOUT, ROOMY_TIMEOUT))
    return path


async def run(
    path: Path, sandbox: SandboxThread, tmp_path: Path, environ: dict[str, str] | None = None
) -> tuple[str, int, str]:
    out = tmp_path / "report.md"
    text, code = await preflight_command(
        path,
        "test",
        out=out,
        environ=ENV if environ is None else environ,
        clock=FakeClock(),
        origins=(WRITTEN, sandbox.url),
    )
    return text, code, out.read_text()


def line(text: str, name: str) -> str:
    """The checklist line of the item called ``name``."""
    found = [x for x in text.splitlines() if x[:1] in "✓✗–•" and x[2:].startswith(name)]
    assert found, f"no line for {name!r} in:\n{text}"
    return found[0]


async def test_a_good_ping_post_buyer_passes_everything(
    buyers: Path, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """The example apex-ping file: every item passes or is informational; exit 0; the saved
    report has one list line per item and the same verdicts; the key is never shown."""
    text, code, markdown = await run(apex(buyers), sandbox, tmp_path)
    assert code == 0, text
    assert "✗" not in text
    assert line(text, "test lead 'the post sends").startswith("✓")
    assert "ping accepted" in line(text, "test lead 'the post sends")
    assert "post accepted" in line(text, "test lead 'the post sends")
    assert "as declared" in line(text, "forced failure (X-Sandbox-Force: 500)")
    assert "would retry" in line(text, "forced failure (X-Sandbox-Force: 500)")
    assert "would not retry" in line(text, "forced failure (X-Sandbox-Force: reject)")
    assert line(text, "forced timeout").startswith("– forced timeout")
    assert "not offered by this buyer" in line(text, "forced timeout")
    assert "2024-01-01 00:00:00 UTC" in text  # the injected clock's date
    items = len(ITEM.findall(text))
    assert len(re.findall(r"^- [✓✗–•] \*\*", markdown, re.MULTILINE)) == items
    assert "apex-SECRET-key" not in text + markdown
    assert sandbox.stats("apex-ping").server_errors == 1


async def test_a_forced_failure_classified_otherwise_fails(
    buyers: Path, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """Declared rate_limited, but the buyer's 500 is a server_error: a failure line, exit 1."""
    force = APEX_FORCE.replace("expect: server_error", "expect: rate_limited")
    text, code, _ = await run(apex(buyers, force), sandbox, tmp_path)
    assert code == 1
    bad = line(text, "forced failure (X-Sandbox-Force: 500)")
    assert bad.startswith("✗") and "expected rate_limited, got post server_error" in bad


async def test_a_forced_timeout_follows_on_timeout(
    buyers: Path, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """A ping made to hang is cut at its timeout and classified as declared."""
    entry = "{headers: {X-Sandbox-Force: timeout}, stage: ping, expect: timeout}"
    force = f"    force_failure:\n      - {entry}\n"
    text, code, _ = await run(apex(buyers, force), sandbox, tmp_path)
    assert code == 0, text
    timed = line(text, "forced timeout (X-Sandbox-Force: timeout)")
    assert timed.startswith("✓") and "on_timeout: unknown" in timed
    assert "not offered by this buyer" in line(text, "forced failure")
    assert sandbox.stats("apex-ping").timeouts == 1


async def test_a_missing_variable_fails_and_nothing_is_sent(
    buyers: Path, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """Without APEX_PING_KEY: the credentials line names it, test leads are not sent."""
    text, code, _ = await run(apex(buyers), sandbox, tmp_path, environ={})
    assert code == 1
    assert line(text, "credentials").startswith("✗ credentials")
    assert "not set: APEX_PING_KEY" in line(text, "credentials")
    assert "not sent: credentials are missing" in line(text, "test lead 'the post sends")
    assert sandbox.stats("apex-ping").pings == 0


async def test_a_wrong_oauth_secret_fails_the_credentials(
    buyers: Path, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """Summit's token endpoint refuses the secret: the credentials line says so, no lead is
    sent, and the wrong secret is not printed."""
    environ = {**ENV, "SUMMIT_CLIENT_SECRET": "wrong-SECRET-value"}
    text, code, markdown = await run(buyers / "summit-crm.yaml", sandbox, tmp_path, environ)
    assert code == 1
    bad = line(text, "credentials")
    assert bad.startswith("✗") and "could not get an access token" in bad
    assert "invalid_client" in bad
    assert sandbox.stats("summit-crm").posts == 0
    assert "wrong-SECRET-value" not in text + markdown


async def test_oauth_token_is_obtained_and_the_lead_accepted(
    buyers: Path, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """With the right secret a token is fetched once and reused for the test lead."""
    text, code, _ = await run(buyers / "summit-crm.yaml", sandbox, tmp_path)
    assert code == 0, text
    assert "OAuth 2.0 token obtained from" in line(text, "credentials")
    assert sandbox.stats("summit-crm").tokens_issued == 1
    assert "summit-SECRET" not in text


# -- the sandbox honours X-Sandbox-Force -----------------------------------------------------------


def test_sandbox_answers_a_forced_status(sandbox: SandboxThread) -> None:
    """Any status 400-599 comes back in the buyer's error format; 429 carries Retry-After."""
    url = sandbox.url_for("apex-ping") + "/ping"
    key = {"X-Api-Key": ENV["APEX_PING_KEY"]}
    answer = httpx.post(url, json={}, headers={**key, "X-Sandbox-Force": "503"})
    assert answer.status_code == 503 and answer.json()["status"] == "error"
    limited = httpx.post(url, json={}, params={"sandbox_force": "429"}, headers=key)
    assert limited.status_code == 429 and "retry-after" in limited.headers


def test_sandbox_forced_reject_is_the_buyers_own_no(sandbox: SandboxThread) -> None:
    """``reject`` on a ping is a no-bid in the buyer's format (a 200, not an error)."""
    url = sandbox.url_for("apex-ping") + "/ping"
    headers = {"X-Api-Key": ENV["APEX_PING_KEY"], "X-Sandbox-Force": "reject"}
    answer = httpx.post(url, json={"state": "TX", "zip": "78701"}, headers=headers)
    assert answer.status_code == 200 and answer.json()["status"] == "no_bid"


def test_sandbox_refuses_an_unknown_force(sandbox: SandboxThread) -> None:
    """A value it does not know is a 400 listing the choices."""
    url = sandbox.url_for("apex-ping") + "/ping"
    answer = httpx.post(url, json={}, headers={"X-Sandbox-Force": "explode"})
    assert answer.status_code == 400 and "timeout, reset" in answer.text

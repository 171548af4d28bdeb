"""``leadpost explain``: a buyer file in plain English, and a lead's per-field trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.authoring import explain
from engine.cli import main
from engine.plan import OMIT
from tests.paths import INTEGRATIONS


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["explain", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_summary(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The summary names the buyer, environments, auth (no secret), stages, fields and rules."""
    code, out, _ = run(capsys, "acme.yaml")
    assert code == 0
    lines = out.splitlines()
    assert lines[:8] == [
        "Acme Insurance (buyer 'acme', version 1) — acme.yaml",
        "Test buyer for the command-line tools.",
        "kind: ping/post",
        "environments:",
        "  test: http://127.0.0.1:9/acme",
        "  production: https://api.acme.example/v1",
        "auth: bearer token ${env:ACME_TOKEN}",
        "stages:",
    ]
    assert "  ping: POST /ping as application/json, timeout 1s" in lines
    assert "      owner: attributes.homeowner, translated (own → Y, rent → N)" in lines
    assert "      dob: lead.dob, the lead is refused when it is missing" in lines
    assert "      rule 1: status 2xx and if \"result == 'sold'\" -> accepted" in lines
    assert "    headers: X-Source: ${env:ACME_SOURCE}" in lines
    assert lines[-8:] == [
        "retry: up to 6 attempts on auth, rate_limited, server_error, transport, waiting 2s "
        "then x2 each time (at most 1m, random jitter); a timed-out post counts as unknown; "
        "no attempts 1h after the lead arrived",
        "circuit breaker: opens after 10 failures in a row or 50% failures over 5m (at least "
        "20 requests); tries again after 1m",
        "concurrency: at most 20 requests at once",
        "idempotency header: Idempotency-Key",
        "delivery: at most once (a post whose answer was lost when leadpost stopped is parked"
        " for an operator, never sent again nor sold to another buyer)",
        "caps: none",
        "schedule: always open",
        "tests: 5 embedded test case(s)",
    ]


def test_settings_in_words(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Filters, caps, schedule, price and auth kinds are described without secrets."""
    path = ws / "acme.yaml"
    text = path.read_text().replace(
        "stages:\n",
        "price: '35.00'\nfilters: {states: [TX, CA]}\ncaps: {per_day: 100, spend_per_day: '500'}\n"
        "schedule: {timezone: America/Chicago, days: [mon, tue], hours: ['08:00-17:30']}\n"
        "stages:\n",
        1,
    )
    text = text.replace(
        "  type: bearer\n  token: ${env:ACME_TOKEN}\n",
        "  type: api_key\n  header: X-Api-Key\n  key: ${env:ACME_KEY}\n",
    )
    path.write_text(text)
    out = run(capsys, "acme.yaml")[1]
    assert "kind: ping/post, fixed price 35.00 per accepted lead" in out
    assert "auth: API key ${env:ACME_KEY} in the X-Api-Key header" in out
    assert "filters: only leads in CA, TX" in out
    assert "caps: 100 per day, spend at most 500 per day" in out
    assert "schedule: Mon, Tue 08:00-17:30 (America/Chicago)" in out


def test_trace_with_a_lead(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --lead, each output field shows its value, source, steps and YAML line."""
    code, out, _ = run(capsys, "acme.yaml", "--lead", "lead.json")
    assert code == 0
    ping = out[out.index("ping fields for this lead:") :].splitlines()
    assert ping[1].split() == ["field", "value", "from", "steps", "line"]
    assert ping[3].split() == [
        "state",
        '"TX"',
        "lead.address.state",
        "=",
        '"TX"',
        "-",
        "acme.yaml:16",
    ]
    assert 'translated (own → Y, rent → N) → "Y"' in ping[4]
    post = out[out.index("post fields for this lead:") :]
    assert 'formatted as 555-123-4567 → "512-555-0142"' in post
    assert "(left out)" in post  # the ping id is only known after a real ping


def test_refused_field_is_shown(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A field that refuses the lead says so in the value column."""
    lead = (ws / "lead.json").read_text().replace('"dob": "1985-04-12",', "")
    (ws / "nodob.json").write_text(lead)
    out = run(capsys, "acme.yaml", "--lead", "nodob.json")[1]
    post = out[out.index("post fields for this lead:") :]
    row = next(line for line in post.splitlines() if line.strip().startswith("dob"))
    assert "REFUSED:" in row


def test_invalid_lead(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lead that breaks the schema is reported plainly (no traceback) with exit 1."""
    (ws / "bad.json").write_text('{"source_id": "x", "timestamp": "yesterday"}')
    code, out, err = run(capsys, "acme.yaml", "--lead", "bad.json")
    assert code == 1 and out == ""
    assert err.startswith("the lead is not valid:\n  bad.json:1:33: LP507 timestamp: ")
    assert "  bad.json:1:1: LP501 lead.first_name: " in err


@pytest.mark.parametrize(
    ("value", "shown"),
    [("a", '"a"'), (12, "12"), (True, "true"), (None, "null"), (OMIT, "(left out)")],
)
def test_show_value(value: object, shown: str) -> None:
    """Text is quoted, numbers and booleans plain, left-out fields named."""
    assert explain.show_value(value) == shown


def test_a_campaign_lists_its_checks_and_what_keeps_each_buyer_from_a_lead(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``explain CAMPAIGN`` names only the checks the campaign runs; with a lead, each check's
    verdict and what each buyer's filters say (a bad phone fails the critical phone check)."""
    code, out, _ = run(capsys, str(INTEGRATIONS / "campaigns" / "harbor-direct.yaml"))
    assert code == 0
    assert (
        "checks before any buyer sees the lead: phone (critical), email (critical), "
        "disposable_email (warn), consent (critical)"
    ) in out.splitlines()
    lead = str(INTEGRATIONS / "leads" / "bad-phone.json")
    campaign = str(INTEGRATIONS / "campaigns" / "harbor-direct.yaml")
    code, out, _ = run(capsys, campaign, "--lead", lead)
    lines = out.splitlines()
    failed = "  phone check: fails (critical): the phone number is not a valid US phone number"
    assert failed in lines
    assert "  email check: passes" in lines
    assert "  so the lead is rejected: no buyer sees it; were it not, the buyers say:" in lines
    assert lines[-1].startswith("  harbor-mutual: may be offered the lead")

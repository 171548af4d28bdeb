"""Embedded test cases expecting any outcome class, an absent value, or a lead the buyer's
filters exclude (``expect_excluded``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main

BUYER = """\
buyer: picky
name: Picky Buyer
version: "1"
environments:
  test: {url: "http://127.0.0.1:9/picky"}
filters:
  states: [TX, CA]
  when: "attributes.homeowner == 'own'"
schedule:
  timezone: America/Chicago
  days: [mon, tue, wed, thu, fri]
stages:
  post:
    fields:
      state: lead.address.state
    response:
      rules:
        - if: "status == 'ok'"
          outcome: accepted
        - status: 409
          outcome: duplicate
      otherwise: rejected
      extract:
        reason: message
        buyer_lead_id: id
tests:
"""


def run_cases(ws: Path, capsys: pytest.CaptureFixture[str], cases: str) -> tuple[int, str]:
    (ws / "picky.yaml").write_text(BUYER + cases)
    code = main(["test", "picky.yaml"])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, "client_error"),
        (404, "client_error"),
        (302, "client_error"),
        (401, "auth"),
        (429, "rate_limited"),
        (503, "server_error"),
        (409, "duplicate"),
        (200, "rejected"),
    ],
)
def test_any_outcome_class_can_be_expected(
    ws: Path, capsys: pytest.CaptureFixture[str], status: int, outcome: str
) -> None:
    """A 4xx or 5xx that no rule decides is expected by its class, as a delivery records it."""
    case = f"""\
  - name: status {status}
    response: {{status: {status}, body: '{{"message": "m"}}'}}
    expect: {{outcome: {outcome}}}
"""
    code, out = run_cases(ws, capsys, case)
    assert (code, out.splitlines()[0]) == (0, f"PASS status {status} (picky.yaml:27)")


def test_a_wrong_class_says_what_it_got(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The failure names the class the answer really gets, with the buyer's reason."""
    case = """\
  - name: a 503 is not a client error
    response: {status: 503, body: '{"message": "down"}'}
    expect: {outcome: client_error}
"""
    code, out = run_cases(ws, capsys, case)
    assert code == 1
    assert "LP602 expected outcome client_error, got server_error (down)" in out


def test_error_and_bad_response_are_one_class(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`error` (the rule outcome) and `bad_response` (its class) both name an unreadable 2xx."""
    cases = """\
  - name: error
    response: {status: 200, body: 'not json'}
    expect: {outcome: error}
  - name: bad_response
    response: {status: 200, body: 'not json'}
    expect: {outcome: bad_response}
"""
    code, out = run_cases(ws, capsys, cases)
    assert code == 0, out


def test_an_unknown_outcome_is_refused_when_the_file_loads(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt outcome is LP205 with the choices, pointing at it."""
    case = """\
  - name: typo
    response: {status: 500, body: ''}
    expect: {outcome: server_eror}
"""
    code, out = run_cases(ws, capsys, case)
    assert code == 1
    assert "picky.yaml:29:23: LP205 unknown outcome 'server_eror'" in out
    assert "did you mean 'server_error'?" in out


@pytest.mark.parametrize(
    ("body", "passes"),
    [
        ('{"status": "ok"}', True),
        ('{"status": "ok", "message": ""}', True),
        ('{"status": "ok", "message": "welcome"}', False),
    ],
)
def test_an_absent_reason_can_be_expected(
    ws: Path, capsys: pytest.CaptureFixture[str], body: str, passes: bool
) -> None:
    """`reason: null` expects no reason at all (a blank one counts as none)."""
    case = f"""\
  - name: no reason
    response: {{status: 200, body: '{body}'}}
    expect: {{outcome: accepted, reason: null, buyer_lead_id: ~}}
"""
    code, out = run_cases(ws, capsys, case)
    assert code == (0 if passes else 1), out
    if not passes:
        assert "LP602 expected no reason, got welcome" in out


LEADS = {
    "a Florida lead": ("FL", "own", "2024-12-16T15:00:00Z"),
    "a renter": ("TX", "rent", "2024-12-16T15:00:00Z"),
    "a Sunday lead": ("TX", "own", "2024-12-15T15:00:00Z"),
    "a good lead": ("TX", "own", "2024-12-16T15:00:00Z"),
}


def _lead(state: str, owner: str, at: str) -> str:
    return (
        f"{{source_id: s, timestamp: '{at}', lead: {{first_name: Ann, phone: '5125550142', "
        f"address: {{state: {state}}}}}, "
        f"attributes: {{homeowner: {owner}}}}}"
    )


@pytest.mark.parametrize(
    ("name", "expected", "problem"),
    [
        ("a Florida lead", "state", None),
        ("a renter", "homeowner", None),
        ("a Sunday lead", "schedule", None),
        (
            "a good lead",
            "state",
            "LP602 expected the buyer's filters to exclude the lead ('state'), but they let it "
            "through",
        ),
        ("a Florida lead", "zip", "LP602 the lead was excluded, but not for 'zip': "),
    ],
)
def test_expect_excluded(
    ws: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    expected: str,
    problem: str | None,
) -> None:
    """The buyer's filters (and schedule, at the lead's time) exclude the lead for a reason
    containing the expected text."""
    case = f"""\
  - name: {name}
    lead: {_lead(*LEADS[name])}
    expect_excluded: {expected}
"""
    code, out = run_cases(ws, capsys, case)
    if problem is None:
        assert code == 0, out
    else:
        assert code == 1
        assert problem in out


def test_expect_excluded_needs_a_lead(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a lead there is nothing to exclude: LP204 at the case."""
    case = """\
  - name: no lead
    expect_excluded: state
"""
    code, out = run_cases(ws, capsys, case)
    assert code == 1
    assert "'expect_body', 'expect_reject' and 'expect_excluded' need a 'lead'" in out

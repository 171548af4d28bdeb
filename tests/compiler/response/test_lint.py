"""Lint help for response rules: accepting rules that also accept failures or HTTP errors."""

from __future__ import annotations

from typing import Any

import pytest

from engine.compiler.response_lint import failure_bodies, rule_problems, substring_rule_problems
from engine.dsl.models import ResponseSpec


def spec(body: str, *rules: dict[str, Any]) -> ResponseSpec:
    return ResponseSpec.model_validate({"body": body, "rules": list(rules)})


def test_contains_success_is_flagged_with_examples() -> None:
    """`contains: Success` also matches `"Success": false`: LP407 shows failure examples."""
    problems = substring_rule_problems(spec("text", {"contains": "Success", "outcome": "accepted"}))
    assert problems == [
        (
            0,
            "'contains: Success' also matches failure responses such as `not Success`, "
            '`unSuccess` and `{"Success": false}`, so a refused lead could be counted as sold',
        )
    ]


def test_contains_ok_matches_not_ok() -> None:
    """`contains: OK` also matches `NOT OK`."""
    [(index, message)] = substring_rule_problems(
        spec("text", {"contains": "OK", "outcome": "accepted"})
    )
    assert index == 0
    assert "`NOT OK`" in message


def test_json_body_gets_a_json_hint_and_json_examples_first() -> None:
    """For JSON the hint suggests testing the value with `if`."""
    [problem] = rule_problems(spec("json", {"contains": "success", "outcome": "accepted"}))
    assert problem.code == "LP407"
    assert problem.message.startswith(
        "'contains: success' also matches failure responses such as `{\"success\": false}`"
    )
    assert problem.hint.startswith("test the value instead")


@pytest.mark.parametrize(
    "rule",
    [
        {"match": "(?i)success", "outcome": "accepted"},
        {"match": "accepted|sold", "outcome": "accepted"},
    ],
    ids=["case-insensitive-word", "alternatives"],
)
def test_unanchored_match_is_flagged(rule: dict[str, Any]) -> None:
    """A bare-word regex is tried against failures of its words."""
    assert [p.code for p in rule_problems(spec("text", rule))] == ["LP407"]


@pytest.mark.parametrize(
    "rule",
    [
        {"match": r"^OK\|", "outcome": "accepted"},
        {"match": r"OK\|(?P<buyer_lead_id>\d+)", "outcome": "accepted"},
        {"match": r"\bsold\b", "outcome": "accepted"},
        {"contains": '"status":"accepted"', "outcome": "accepted"},
        {"contains": "Success", "outcome": "rejected"},
        {"if": "success == `true`", "outcome": "accepted"},
    ],
    ids=["anchored", "structured", "word-boundary", "structured-contains", "not-accepting", "if"],
)
def test_safe_rules_are_not_flagged(rule: dict[str, Any]) -> None:
    """Anchored or structured matches, non-accepting rules and `if` conditions pass."""
    body = "json" if "if" in rule else "text"
    assert substring_rule_problems(spec(body, rule)) == []


def test_accepting_an_error_status_is_flagged() -> None:
    """An accepted outcome for 4xx/5xx statuses is LP408, naming the statuses."""
    problems = rule_problems(
        spec(
            "json",
            {"status": ["200", "4xx"], "if": "ok", "outcome": "accepted"},
            {"status": "500", "outcome": "accepted"},
            {"status": "409", "outcome": "duplicate"},
        )
    )
    assert [(p.code, p.rule, p.message) for p in problems] == [
        (
            "LP408",
            0,
            "this rule accepts the lead when the buyer answers with HTTP status 4xx, "
            "which means the request failed",
        ),
        (
            "LP408",
            1,
            "this rule accepts the lead when the buyer answers with HTTP status 500, "
            "which means the request failed",
        ),
    ]


def test_failure_bodies_cover_the_usual_shapes() -> None:
    """Candidates include JSON false values, negations and un-/no_ prefixes."""
    bodies = failure_bodies("Success")
    for expected in ('{"Success": false}', '{"success":false}', "Unsuccessful", "not Success"):
        assert expected in bodies
    assert "no_Success" in bodies and "NOT OK" in failure_bodies("OK")

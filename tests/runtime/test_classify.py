"""The outcome classes: exceptions, statuses and rule decisions, retryability, breaker counting."""

from __future__ import annotations

import httpx
import pytest

from engine.plan import Interpretation, RetryPlan
from engine.runtime.classify import (
    BREAKER_FAILURES,
    BREAKER_SUCCESSES,
    TREATED_AS_REJECTED,
    Verdict,
    apply_on_timeout,
    breaker_verdict,
    classify_answer,
    classify_exception,
    is_retryable,
)
from engine.runtime.outcome import NOT_DELIVERED, OutcomeKind

UNDECIDED = Interpretation(None, {})


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        pytest.param(httpx.ConnectError("refused"), "transport", id="connect-error"),
        pytest.param(httpx.ConnectTimeout("slow"), "transport", id="connect-timeout"),
        pytest.param(httpx.ProxyError("proxy down"), "transport", id="proxy"),
        pytest.param(httpx.PoolTimeout("pool"), "transport", id="pool-timeout"),
        pytest.param(httpx.ReadTimeout("slow"), "unknown", id="read-timeout"),
        pytest.param(httpx.ReadError("reset"), "unknown", id="read-error"),
        pytest.param(httpx.WriteError("broken pipe"), "unknown", id="write-error"),
        pytest.param(httpx.RemoteProtocolError("garbage"), "unknown", id="protocol"),
        pytest.param(httpx.DecodingError("bad gzip"), "bad_response", id="decoding"),
        pytest.param(httpx.UnsupportedProtocol("ftp"), "invalid", id="bad-url"),
        pytest.param(OSError("something else"), "unknown", id="other-os-error"),
    ],
)
def test_exceptions_map_to_sent_or_not_sent(exc: Exception, kind: str) -> None:
    """Failures before sending are "transport"; after sending, or when unsure, "unknown"."""
    verdict = classify_exception(exc)
    assert verdict.kind == kind
    assert verdict.reason
    if kind == "transport":
        assert "nothing was sent" in verdict.reason


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "client_error"),
        (403, "client_error"),
        (404, "client_error"),
        (409, "client_error"),
        (401, "auth"),
        (429, "rate_limited"),
        (500, "server_error"),
        (502, "server_error"),
        (503, "server_error"),
        (504, "server_error"),
        (302, "client_error"),
    ],
)
def test_statuses_without_a_deciding_rule(status: int, kind: str) -> None:
    """Undecided answers are classified by status, and the reason names the status."""
    verdict = classify_answer(status, UNDECIDED)
    assert verdict.kind == kind
    assert verdict.reason is not None and f"HTTP {status}" in verdict.reason


def test_the_buyers_reason_is_kept_with_the_status() -> None:
    """A reason extracted from an error answer follows the status text."""
    verdict = classify_answer(400, Interpretation(None, {}, "zip is required"))
    assert verdict == Verdict("client_error", "HTTP 400 Bad Request: zip is required")


@pytest.mark.parametrize(
    ("decision", "kind"),
    [
        ("accepted", "accepted"),
        ("rejected", "rejected"),
        ("duplicate", "duplicate"),
        ("error", "bad_response"),
    ],
)
def test_a_rule_decision_wins_over_the_status(decision: str, kind: str) -> None:
    """When a response rule decided (even on a 4xx), its decision is the class."""
    interpretation = Interpretation(decision, {}, "because")  # type: ignore[arg-type]
    assert classify_answer(409, interpretation) == Verdict(kind, "because")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("on_timeout", "kind", "retryable"),
    [("unknown", "unknown", False), ("retry", "unknown", True), ("reject", "rejected", False)],
)
def test_on_timeout_decides_what_an_unknown_post_becomes(
    on_timeout: str, kind: str, retryable: bool
) -> None:
    """unknown stays unknown (not retried), is retried, or is treated as a rejection."""
    plan = RetryPlan(on_timeout=on_timeout)  # type: ignore[arg-type]
    verdict = apply_on_timeout(Verdict("unknown", "read timed out"), plan)
    assert verdict.kind == kind
    assert is_retryable(verdict.kind, plan) is retryable
    if kind == "rejected":
        assert verdict.reason == f"{TREATED_AS_REJECTED}: read timed out"


def test_retryable_follows_retry_on() -> None:
    """Only classes listed in retry_on are retried; 4xx never by default."""
    plan = RetryPlan()
    for kind in ("transport", "server_error", "rate_limited", "auth"):
        assert is_retryable(kind, plan)
    for kind in ("client_error", "rejected", "duplicate", "invalid", "late", "circuit_open"):
        assert not is_retryable(kind, plan)
    assert is_retryable("client_error", RetryPlan(retry_on=frozenset({"client_error"})))


def test_every_kind_has_a_breaker_rule() -> None:
    """Each class is a failure, a success, or not counted (nothing reached the buyer)."""
    kinds: tuple[OutcomeKind, ...] = OutcomeKind.__args__  # type: ignore[attr-defined]
    assert not BREAKER_FAILURES & BREAKER_SUCCESSES
    assert BREAKER_FAILURES | BREAKER_SUCCESSES | {"invalid", "circuit_open"} == set(kinds)
    assert breaker_verdict("server_error") is True
    assert breaker_verdict("client_error") is False
    assert breaker_verdict("invalid") is None


def test_not_counted_kinds_were_never_delivered() -> None:
    """What the breaker ignores never reached the buyer."""
    assert {"invalid", "circuit_open"} <= NOT_DELIVERED

"""Outcome classes: what an exception or an HTTP answer means for one delivery attempt.

Pure functions, no I/O. The runtime calls them once per attempt; tests pin the whole mapping.

- An exception raised before the request left (connection refused, DNS, connect timeout, TLS
  handshake, proxy) is ``transport``: the buyer certainly has nothing, so it is safe to retry.
- An exception after the request left (read timeout, connection reset while answering, an answer
  that is not HTTP) is ``unknown``: the buyer may have kept the lead.
- An answer is classified by the stage's response rules when one decided, else by its status.
"""

from __future__ import annotations

from http import HTTPStatus

import httpx

from engine.frozen import frozen
from engine.plan import Decision, Interpretation, RetryPlan
from engine.runtime.outcome import OutcomeKind

#: Kinds the circuit breaker counts as failures of the buyer's endpoint.
BREAKER_FAILURES: frozenset[str] = frozenset(
    {"transport", "unknown", "server_error", "rate_limited", "bad_response", "late"}
)
#: Kinds the circuit breaker counts as successes: the endpoint answered and handled the request,
#: whatever it decided. A 4xx is the lead's or the request's problem, not an outage, so it does
#: not open the breaker (opening it would not fix a bad request). Kinds in neither set
#: ("invalid", "circuit_open") never reached the buyer and are not counted.
BREAKER_SUCCESSES: frozenset[str] = frozenset(
    {"accepted", "rejected", "duplicate", "client_error", "auth"}
)

TREATED_AS_REJECTED = "timed out (treated as rejected)"

_DECISIONS: dict[Decision, OutcomeKind] = {
    "accepted": "accepted",
    "rejected": "rejected",
    "duplicate": "duplicate",
    "error": "bad_response",
}

#: Exceptions raised before any byte of the request reached the buyer.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ProxyError,
    httpx.PoolTimeout,
)


@frozen
class Verdict:
    """The class of one attempt and why, in plain English."""

    kind: OutcomeKind
    reason: str | None


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return f" ({text})" if text else ""


def classify_exception(exc: Exception) -> Verdict:
    """The class of an httpx exception raised while sending or reading.

    Anything not known to happen before sending is ``unknown``: when in doubt, assume the buyer
    may have the lead (selling it twice is worse than not selling it).
    """
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        why = "the buyer's server did not accept a connection in time"
        return Verdict("transport", f"{why}{_detail(exc)}; nothing was sent")
    if isinstance(exc, httpx.ProxyError):
        return Verdict("transport", f"the proxy failed{_detail(exc)}; nothing was sent")
    if isinstance(exc, _NOT_SENT):
        why = "could not connect to the buyer's server"
        return Verdict("transport", f"{why}{_detail(exc)}; nothing was sent")
    if isinstance(exc, httpx.UnsupportedProtocol):
        why = "the buyer's address cannot be used"
        return Verdict("invalid", f"{why}{_detail(exc)}; fix the url in the buyer file")
    if isinstance(exc, httpx.DecodingError):
        return Verdict("bad_response", f"the buyer's answer could not be decoded{_detail(exc)}")
    if isinstance(exc, httpx.ReadTimeout):
        return Verdict("unknown", "the buyer did not answer in time after the lead was sent")
    if isinstance(exc, httpx.WriteError | httpx.WriteTimeout):
        why = "the connection broke while the lead was being sent"
        return Verdict("unknown", f"{why}{_detail(exc)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        why = "the buyer's server broke off or sent something that is not HTTP"
        return Verdict("unknown", f"{why} after the lead was sent{_detail(exc)}")
    why = "the connection failed after the lead was sent"
    return Verdict("unknown", f"{why}{_detail(exc)}")


def status_text(status: int) -> str:
    """``HTTP 503 Service Unavailable``."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def classify_answer(status: int, interpretation: Interpretation) -> Verdict:
    """The class of an HTTP answer: the rules' decision when one decided, else the status.

    Without a deciding rule: 401 is ``auth`` (the auth flow already refreshed once), 429
    ``rate_limited``, other 4xx ``client_error``, 5xx ``server_error``; a redirect or an
    informational status is ``client_error`` (leadpost never follows redirects: the buyer file's
    url needs fixing).
    """
    buyer = interpretation.reason
    if interpretation.decision is not None:
        return Verdict(_DECISIONS[interpretation.decision], buyer)
    what = status_text(status)
    kind: OutcomeKind
    if status == 401:
        kind, what = "auth", f"{what}: the buyer refused our credentials"
    elif status == 429:
        kind = "rate_limited"
    elif 400 <= status <= 499:
        kind = "client_error"
    elif status >= 500:
        kind = "server_error"
    else:
        kind, what = "client_error", f"{what}: leadpost does not follow redirects; check the url"
    return Verdict(kind, f"{what}: {buyer}" if buyer else what)


def apply_on_timeout(verdict: Verdict, retry: RetryPlan) -> Verdict:
    """``unknown`` becomes ``rejected`` when the buyer file says ``on_timeout: reject``."""
    if verdict.kind == "unknown" and retry.on_timeout == "reject":
        detail = f": {verdict.reason}" if verdict.reason else ""
        return Verdict("rejected", f"{TREATED_AS_REJECTED}{detail}")
    return verdict


def is_retryable(kind: str, retry: RetryPlan) -> bool:
    """Whether another attempt may follow: the kind is in ``retry_on``; ``unknown`` only with
    ``on_timeout: retry``."""
    if kind == "unknown":
        return retry.on_timeout == "retry" or "unknown" in retry.retry_on
    return kind in retry.retry_on


def breaker_verdict(kind: str) -> bool | None:
    """True: record a failure; False: record a success; None: nothing reached the buyer."""
    if kind in BREAKER_FAILURES:
        return True
    if kind in BREAKER_SUCCESSES:
        return False
    return None

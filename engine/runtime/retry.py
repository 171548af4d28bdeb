"""Retry policy as pure functions: backoff with jitter, Retry-After, and whether to try again.

Nothing here waits or reads the clock: callers pass the attempt number, a random number in
[0, 1], the lead's age and the current time, and then wait through an injected clock. Vocabulary
follows AWS Step Functions (interval, backoff rate, max delay, jitter).

``attempt`` always counts the attempts already made (and failed): it is 1 after the first
failure, and ``backoff_delay(plan, 1, …)`` is the wait before the first retry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from engine.plan import RetryPlan

#: How every reason for stopping because the lead got too old begins (the router reads it to
#: end such a lead as ``expired``).
STALE = "the lead would be older than"

_SECONDS = re.compile(r"[+-]?\d+(?:\.\d+)?")


def age_words(seconds: float) -> str:
    """A lead's age in plain words: ``40 seconds``, ``5 minutes``, ``3 hours``, ``2 days``."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' * (count != 1)}"
    count = max(int(seconds), 0)
    return f"{count} second{'s' * (count != 1)}"


def base_delay(plan: RetryPlan, attempt: int) -> float:
    """The wait before retry number ``attempt``, before jitter.

    ``interval * backoff_rate ** (attempt - 1)``, capped at ``max_delay``. A backoff rate below 1
    is treated as 1, so delays never shrink from one attempt to the next.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be 1 or more, got {attempt}")
    rate = max(plan.backoff_rate, 1.0)
    cap = max(plan.max_delay, 0.0)
    try:
        delay = max(plan.interval, 0.0) * rate ** (attempt - 1)
    except OverflowError:
        return cap
    return min(delay, cap)


def backoff_delay(plan: RetryPlan, attempt: int, rand: float) -> float:
    """The wait before retry number ``attempt``: the base delay, scaled by ``rand`` under full
    jitter (any value between 0 and the base delay), exact without jitter."""
    if not 0.0 <= rand <= 1.0:
        raise ValueError(f"rand must be between 0 and 1, got {rand}")
    delay = base_delay(plan, attempt)
    return rand * delay if plan.jitter == "full" else delay


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date.

    A date is measured from ``now`` (a naive ``now`` is taken as UTC). Negative waits and dates
    in the past give 0. Anything unreadable gives None (the caller falls back to backoff).
    """
    text = value.strip()
    if _SECONDS.fullmatch(text):
        seconds = float(text)
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class Delay:
    """How long to wait before the next attempt, and how."""

    seconds: float
    scheduled: bool
    """True when ``seconds`` is longer than ``plan.max_wait``: park the lead and retry later
    from the queue instead of holding a task asleep."""
    from_retry_after: bool
    """True when the buyer's Retry-After header set the wait (capped at ``plan.max_delay``)."""


def next_delay(
    plan: RetryPlan, attempt: int, rand: float, retry_after: float | None = None
) -> Delay:
    """The wait before retry number ``attempt``.

    A Retry-After value from the buyer replaces the backoff (no jitter: the buyer named a time)
    but is never longer than ``plan.max_delay``, so a ``Retry-After: 3600`` cannot stall a buyer
    for an hour.
    """
    if retry_after is not None and math.isfinite(retry_after):
        seconds = min(max(retry_after, 0.0), max(plan.max_delay, 0.0))
        return Delay(seconds, seconds > plan.max_wait, from_retry_after=True)
    seconds = backoff_delay(plan, attempt, rand)
    return Delay(seconds, seconds > plan.max_wait, from_retry_after=False)


def _retryable(plan: RetryPlan, error_class: str) -> bool:
    return error_class in plan.retry_on or (error_class == "unknown" and plan.on_timeout == "retry")


def should_retry(plan: RetryPlan, error_class: str, attempt: int, lead_age: float) -> bool:
    """Whether a failure of ``error_class`` after ``attempt`` attempts may be tried again.

    Only classes in ``plan.retry_on`` are retried, plus ``"unknown"`` (the buyer may have the
    lead) when ``plan.on_timeout`` is ``"retry"``; never once ``max_attempts`` attempts were made
    or the lead is ``give_up_after`` seconds old.
    """
    return (
        _retryable(plan, error_class)
        and attempt < plan.max_attempts
        and lead_age < plan.give_up_after
    )


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What to do after a failed attempt: retry after ``delay``, or stop for ``reason``."""

    retry: bool
    delay: Delay | None
    reason: str


def decide(
    plan: RetryPlan,
    error_class: str,
    attempt: int,
    lead_age: float,
    rand: float,
    retry_after: float | None = None,
) -> RetryDecision:
    """Combine :func:`should_retry` and :func:`next_delay`; also stop when the lead would be
    older than ``give_up_after`` by the time of the next attempt. Reasons are plain English."""
    if not _retryable(plan, error_class):
        return RetryDecision(False, None, f"a failure of type {error_class!r} is not retried")
    if attempt >= plan.max_attempts:
        return RetryDecision(False, None, f"all {plan.max_attempts} attempts were used")
    delay = next_delay(plan, attempt, rand, retry_after)
    if lead_age + delay.seconds >= plan.give_up_after:
        return RetryDecision(
            False,
            None,
            f"{STALE} {plan.give_up_after:g} seconds by the next attempt, so it was not tried"
            f" again (give_up_after counts from the lead's timestamp; the lead is"
            f" {age_words(lead_age)} old)",
        )
    how = "later from the queue" if delay.scheduled else "in-line"
    why = "as the buyer's Retry-After asked" if delay.from_retry_after else "after backoff"
    unit = "second" if f"{delay.seconds:.3g}" == "1" else "seconds"
    return RetryDecision(True, delay, f"retry {how} in {delay.seconds:.3g} {unit}, {why}")

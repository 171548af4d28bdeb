"""``leadpost post``, run side: send one lead to one compiled plan and show what happened, masked.

For a ping/post buyer the ping goes first and the post carries what the ping's answer gave
(``ping.ping_id`` …); the post is skipped when the ping is not accepted, as in an auction. Each
stage is one attempt (no retries, so what you see is what the buyer answered), bounded by the
stage's timeouts. The output shows the outcome, the timings, the request and the response with
personal data and secrets masked. Loading the buyer file and the lead happens in
:mod:`engine.commands.post` (the run side never imports the loader).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from engine.plan import IntegrationPlan, RenderContext, RetryPlan
from engine.runtime.classify import status_text
from engine.runtime.executor import Runtime
from engine.runtime.outcome import Exchange, Outcome
from engine.runtime.retry import STALE, decide

EXIT_OK, EXIT_NOT_ACCEPTED, EXIT_USAGE = 0, 1, 2


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.0f} ms"


def _show(value: Any) -> str:
    return str(value) if isinstance(value, str | int | float | Decimal) else repr(value)


def _message(head: str, headers: tuple[tuple[str, str], ...], body: str) -> list[str]:
    lines = [head, *(f"{k}: {v}" for k, v in headers)]
    return [*lines, "", body] if body else lines


def _exchange_lines(exchange: Exchange) -> list[str]:
    lines = ["request:"]
    request = _message(
        f"{exchange.method} {exchange.url}", exchange.request_headers, exchange.request_body
    )
    lines += [f"    {line}".rstrip() for line in request]
    if exchange.status is None:
        return [*lines, "response: none"]
    lines.append("response:")
    response = _message(
        status_text(exchange.status), exchange.response_headers, exchange.response_body
    )
    return lines + [f"    {line}".rstrip() for line in response]


def format_outcome(
    outcome: Outcome, retry: RetryPlan | None = None, lead_age: float | None = None
) -> str:
    """One attempt for people: the class, timings, values, reason, request and response.

    With the buyer's ``retry`` settings and the lead's age (seconds since its timestamp), a
    failure a delivery would retry says whether it would be retried, or why not (the lead too
    old for ``give_up_after``)."""
    t = outcome.timings
    status = f" ({status_text(outcome.status)})" if outcome.status is not None else ""
    phases = ", ".join(
        f"{name} {_ms(value)}"
        for name, value in (
            ("dns", t.dns),
            ("connect", t.connect),
            ("send", t.send),
            ("wait", t.wait),
            ("read", t.read),
        )
        if value is not None or name in ("wait", "read")
    )
    lines = [f"{outcome.stage}: {outcome.kind}{status} in {_ms(t.total)} ({phases})"]
    if outcome.reason:
        lines.append(f"  reason: {outcome.reason}")
    values = {k: v for k, v in outcome.values.items() if k != "reason"}
    if values:
        lines.append("  values: " + ", ".join(f"{k}={_show(v)}" for k, v in values.items()))
    if outcome.retryable:
        after = (
            f" (the buyer asked to wait {outcome.retry_after:g} s)" if outcome.retry_after else ""
        )
        stale = None
        if retry is not None and lead_age is not None:
            decision = decide(retry, outcome.kind, 1, lead_age, 0.0, outcome.retry_after)
            stale = None if decision.retry or not decision.reason.startswith(STALE) else decision
        if stale is None:
            lines.append(f"  a real delivery would retry this{after}")
        else:
            lines.append(f"  a real delivery would not retry this: {stale.reason}")
    if outcome.exchange is not None:
        lines += [f"  {line}".rstrip() for line in _exchange_lines(outcome.exchange)]
    return "\n".join(lines)


async def post_plan(
    plan: IntegrationPlan,
    lead: Mapping[str, Any],
    now: datetime,
    *,
    env: str = "test",
    stage: str | None = None,
    environ: Mapping[str, str] | None = None,
    wall: datetime | None = None,
) -> tuple[str, int]:
    """Send a normalized ``lead`` (timestamp ``now``) to ``plan`` in environment ``env``: every
    stage in order, or only ``stage``. Returns the report and the exit code: 0 when the last
    stage sent was accepted, 1 otherwise, 2 for an unknown stage or environment. ``wall`` is
    the time now (default the system's), for the lead's age."""
    if env not in plan.environments:
        known = ", ".join(plan.environments)
        return f"this buyer has no environment '{env}'; it has: {known}", EXIT_USAGE
    if stage is not None and stage not in plan.stages:
        return f"this buyer has no stage '{stage}'; it has: {', '.join(plan.stages)}", EXIT_USAGE
    stages = [stage] if stage is not None else list(plan.stages)
    lead_id = f"cli-{uuid.uuid4().hex[:12]}"
    url = plan.environments[env].url
    out = [f"{plan.buyer} ({plan.name}), environment {env} at {url}, lead id {lead_id}"]
    prior: dict[str, Mapping[str, Any]] = {}
    last: Outcome | None = None
    async with Runtime(environ=os.environ if environ is None else environ) as runtime:
        for name in stages:
            ctx = RenderContext(lead, now, dict(prior), runtime.environ)
            last = await runtime.send(plan, name, ctx, env=env, lead_id=lead_id)
            age = ((wall or datetime.now(UTC)) - now).total_seconds()
            out += ["", format_outcome(last, plan.retry, age)]
            prior[name] = last.values
            if name == "ping" and not last.ok and name != stages[-1]:
                out += ["", "the ping was not accepted, so the post was not sent"]
                break
    code = EXIT_OK if last is not None and last.ok else EXIT_NOT_ACCEPTED
    return "\n".join(out), code

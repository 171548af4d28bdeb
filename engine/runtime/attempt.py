"""One delivery attempt's evidence: timings, the masked exchange, the outcome and its log line.

The executor decides what happened; this module records it the same way every time — reasons
scrubbed of personal data, secrets hidden, bodies cut — and writes the one log record per
attempt on the ``leadpost.delivery`` logger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.plan import IntegrationPlan, StagePlan
from engine.runtime import wsse
from engine.runtime.classify import is_retryable, status_text
from engine.runtime.masking import (
    Scrubber,
    cut,
    decode,
    mask_headers,
    mask_url,
    masked_body,
    secret_header_names,
)
from engine.runtime.outcome import Exchange, Outcome, OutcomeKind, Timings
from engine.runtime.render import RenderedRequest
from engine.runtime.timing import Phases
from engine.runtime.wire import WireAnswer, WireRequest

if TYPE_CHECKING:
    from engine.runtime.target import Target

#: Kinds logged at INFO (a late ping is routine in an auction); the others at WARNING.
_QUIET = frozenset({"accepted", "rejected", "duplicate", "invalid", "circuit_open", "late"})
#: The scrubber of an attempt that knows no personal values (it changes nothing).
_NO_SCRUB = Scrubber(())


@dataclass(slots=True)
class Record:
    """Everything known about one attempt while it runs; :meth:`outcome` freezes it."""

    plan: IntegrationPlan
    stage: str
    lead_id: str
    attempt: int
    started: float = field(default_factory=time.perf_counter)
    scrub: Scrubber = _NO_SCRUB
    target: Target | None = None
    """The prepared stage, once the plan is known to have it."""
    request: WireRequest | None = None
    """What was handed to the wire (auth headers added), once built."""
    rendered: RenderedRequest | None = None
    values: Sequence[Any] | None = None
    """The stage's computed field values, kept only when some are personal (for masking)."""
    answer: WireAnswer | None = None
    phases: Phases = field(default_factory=Phases)
    """Moments noted by the wire while this attempt's request is sent."""

    def timings(self) -> Timings:
        p = self.phases
        return Timings(
            total=time.perf_counter() - self.started,
            connect=p.connect,
            wait=p.wait,
            read=p.read,
            dns=p.dns,
        )

    def exchange(self) -> Exchange | None:
        rendered = self.rendered
        if rendered is None:
            return None
        target = self.target
        stage: StagePlan = target.stage if target is not None else self.plan.stages[self.stage]
        secret = target.secret_headers if target else secret_header_names(self.plan, stage)
        sent = self.request if self.request is not None else rendered
        body = rendered.body
        if self.values is not None and not stage.request.in_query:
            masked = masked_body(stage, self.values)
            hidden = f"({len(rendered.body)} bytes hidden: they contain personal data)"
            body = masked if masked is not None else hidden.encode()
        body = wsse.shown(self.plan, stage, rendered.body, body)  # the SOAP password hidden
        url = mask_url(sent.url, self.plan, self.scrub)
        request_headers = mask_headers(sent.headers, secret)
        request_body = cut(self.scrub(decode(body)))
        answer = self.answer
        if answer is None:
            return Exchange(rendered.method, url, request_headers, request_body)
        return Exchange(
            method=rendered.method,
            url=url,
            request_headers=request_headers,
            request_body=request_body,
            status=answer.status,
            response_headers=mask_headers(answer.headers, secret),
            response_body=cut(self.scrub(decode(answer.body))),
        )

    def _values(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        out = dict(values or {})
        if isinstance(out.get("reason"), str):
            out["reason"] = self.scrub(out["reason"])
        return out

    def outcome(
        self,
        kind: OutcomeKind,
        reason: str | None,
        *,
        status: int | None = None,
        values: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> Outcome:
        """The frozen outcome of this attempt (reason scrubbed of personal data)."""
        return Outcome(
            buyer=self.plan.buyer,
            stage=self.stage,
            kind=kind,
            retryable=is_retryable(kind, self.plan.retry) if retryable is None else retryable,
            reason=self.scrub(reason) if reason else reason,
            attempt=self.attempt,
            timings=self.timings(),
            status=status,
            values=self._values(values),
            retry_after=retry_after,
            exchange=self.exchange(),
        )


def log_outcome(logger: logging.Logger, lead_id: str, outcome: Outcome) -> None:
    """One structured record per attempt: the message for people, the fields for machines
    (nothing is built when the logger would drop the record)."""
    level = logging.INFO if outcome.kind in _QUIET else logging.WARNING
    if not logger.isEnabledFor(level):
        return
    ms = round(outcome.timings.total * 1000, 1)
    status = f", {status_text(outcome.status)}" if outcome.status is not None else ""
    reason = f": {outcome.reason}" if outcome.reason else ""
    logger.log(
        level,
        "lead %s to %s, %s attempt %d: %s%s in %g ms%s",
        lead_id,
        outcome.buyer,
        outcome.stage,
        outcome.attempt,
        outcome.kind,
        status,
        ms,
        reason,
        extra={
            "lead_id": lead_id,
            "buyer": outcome.buyer,
            "stage": outcome.stage,
            "attempt": outcome.attempt,
            "kind": outcome.kind,
            "status": outcome.status,
            "ms": ms,
            "reason": outcome.reason,
            "retryable": outcome.retryable,
            "exchange": outcome.exchange,
        },
    )

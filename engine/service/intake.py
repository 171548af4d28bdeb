"""The intake's checks of one request: content type, size, JSON, the lead schema — and the
refusals, as JSON naming every problem with the same codes and words as ``leadpost`` prints.

A refusal is one shape for every status:

    {"error": "the lead has 2 problems", "status": 422,
     "problems": [{"code": "LP504", "field": "lead.email", "message": "lead.email: ..."}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import Issue, LeadError
from engine.lead import LeadSchema, lead_timestamp, parse_lead_json, validate_lead

#: Largest request body taken (bytes); a lead is a few kilobytes.
MAX_BODY = 64 * 1024
_FIELD = re.compile(r"^([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*): ")
_JSON_TYPES = ("application/json", "application/problem+json")


@dataclass(frozen=True, slots=True)
class Refusal(Exception):
    """A request the intake will not take: the HTTP status, a summary and every problem."""

    status: int
    error: str
    problems: Sequence[Issue] = field(default_factory=tuple)
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "status": self.status,
            "problems": [problem(i) for i in self.problems],
        }


#: The store's dispositions as the intake reports them.
ANSWER = {
    "sold": "sold",
    "unsold": "unsold",
    "expired": "unsold",
    "rejected": "rejected",
    "scheduled": "queued",
    "unknown": "unknown",
}


def answer(result: Mapping[str, Any]) -> dict[str, Any]:
    """A committed result as the intake answers it (no personal data)."""
    status = str(result.get("disposition"))
    return {
        "lead_id": result.get("lead_id"),
        "campaign": result.get("campaign"),
        "disposition": ANSWER.get(status, "queued"),
        "status": status,
        "buyer": result.get("buyer"),
        "price": result.get("price"),
        "reason": result.get("reason"),
        "reasons": dict(result.get("reasons") or {}),
    }


def problem(issue: Issue) -> dict[str, Any]:
    """One problem as JSON: its code, the lead field it is about (if any) and the message."""
    m = _FIELD.match(issue.message)
    out: dict[str, Any] = {
        "code": issue.code,
        "field": m.group(1) if m else None,
        "message": issue.message,
    }
    if issue.hint:
        out["hint"] = issue.hint
    return out


def check_content_type(value: str | None) -> None:
    """Refuse (415) a body that is not declared JSON."""
    kind = (value or "").split(";", 1)[0].strip().lower()
    if kind not in _JSON_TYPES:
        shown = f"'{kind}'" if kind else "none"
        why = f"the lead must be sent as application/json; the content type was {shown}"
        raise Refusal(415, why, (Issue("LP550", why),))


def too_large(limit: int) -> Refusal:
    why = f"the request body is larger than {limit} bytes; a lead is a few kilobytes"
    return Refusal(413, why, (Issue("LP551", why),))


def read_lead(body: bytes, schema: LeadSchema | None) -> tuple[dict[str, Any], datetime]:
    """The normalized lead and its timestamp; a Refusal naming every problem: 400 for a body
    that is not a JSON object, 422 for a lead the schema refuses."""
    try:
        raw = parse_lead_json(body)
    except LeadError as exc:
        raise Refusal(400, exc.issues[0].message, tuple(exc.issues)) from None
    try:
        lead = validate_lead(schema, raw) if schema is not None else raw
    except LeadError as exc:
        raise Refusal(422, _count(exc.issues), tuple(exc.issues)) from None
    try:
        return lead, lead_timestamp(lead)
    except LeadError as exc:
        raise Refusal(422, _count(exc.issues), tuple(exc.issues)) from None


def _count(issues: Sequence[Issue]) -> str:
    n = len(issues)
    return "the lead has 1 problem" if n == 1 else f"the lead has {n} problems"

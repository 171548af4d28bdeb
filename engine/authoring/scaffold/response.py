"""The response section of a draft: rules and extracts from the spec's documented responses.

An OpenAPI operation documents its answers: a 2xx body whose status field has an enum gives one
rule per choice (``accepted`` -> accepted, ``duplicate`` -> duplicate, ``declined`` ->
rejected …), a ``success`` boolean gives one rule, id/price/reason fields give extracts, and
4xx answers give status rules. Without documented responses the section is a commented
skeleton (and lint's LP409 says no rule decides yet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.authoring.scaffold.names import words
from engine.authoring.scaffold.source import DocResponse, SpecDraft

_ACCEPTED = frozenset({"accepted", "accept", "success", "ok", "sold", "approved", "bid", "won",
                       "created", "valid", "true"})  # fmt: skip
_DUPLICATE = frozenset({"duplicate", "dupe", "dup", "exists"})
_REJECTED = frozenset({"rejected", "reject", "declined", "denied", "failed", "failure", "error",
                       "invalid", "nobid", "no", "refused", "false"})  # fmt: skip
_STATUS_NAMES = ("status", "result", "outcome", "state", "code", "decision")
_EXTRACTS = {
    "buyer_lead_id": ("id", "lead id", "leadid", "reference", "ref", "confirmation", "record id"),
    "price": ("price", "bid", "amount", "payout", "bid amount"),
    "reason": ("reason", "message", "error", "errors", "detail", "msg", "description"),
    "ping_id": ("ping id", "auction id", "token", "auction token"),
    "redirect_url": ("redirect url", "redirect"),
}


@dataclass(slots=True)
class ResponseDraft:
    """The response section, and whether it came from the spec."""

    section: dict[str, Any]
    documented: bool


def outcome_of(choice: str) -> str | None:
    """The outcome a status choice names (``Accepted`` -> accepted), None when unclear."""
    folded = "".join(words(choice)).casefold() or choice.casefold()
    for outcome, names in (
        ("duplicate", _DUPLICATE),
        ("accepted", _ACCEPTED),
        ("rejected", _REJECTED),
    ):
        if folded in names or any(folded.startswith(n) for n in names if len(n) > 3):
            return outcome
    return None


def _jmes(path: tuple[str | int, ...]) -> str:
    parts: list[str] = []
    for p in path:
        if isinstance(p, int):
            parts[-1:] = [(parts[-1] if parts else "") + "[0]"]
        else:
            parts.append(p if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) else f'"{p}"')
    return ".".join(parts)


def _from_body(answer: DocResponse, rules: list[dict[str, Any]], extract: dict[str, str]) -> None:
    for f in answer.fields:
        if not f.leaf or any(isinstance(p, int) for p in f.path[:-1]):
            continue
        name = " ".join(words(f.name))
        expr = _jmes(f.path)
        enum = [c for c in f.prop.enum or () if isinstance(c, str)]
        if enum and (name in _STATUS_NAMES or words(f.name)[-1:] == ("status",)):
            for choice in enum:
                outcome = outcome_of(choice)
                if outcome is not None:
                    rules.append({"if": f"{expr} == '{choice}'", "outcome": outcome})
            continue
        if f.prop.types - {"null"} == {"boolean"} and name in ("success", "accepted", "ok"):
            rules.append({"if": f"{expr} == `true`", "outcome": "accepted"})
            continue
        for key, names in _EXTRACTS.items():
            if key not in extract and name in names:
                extract[key] = expr + ("[0].message" if name == "errors" else "")


_TEXT_ANSWER = re.compile(r"`([A-Za-z_]+)([|:,;])<([^>`]+)>`")


def _text_rules(answer: DocResponse, extract: dict[str, str]) -> list[dict[str, Any]]:
    """Rules for answers documented as text: `` `OK|<lead id>` `` gives an accepting rule that
    keeps the id, `` `ERROR|<reason>` `` a rejecting one and the reason's extract."""
    out: list[dict[str, Any]] = []
    for word, sep, what in _TEXT_ANSWER.findall(answer.description):
        outcome = outcome_of(word)
        if outcome is None:
            continue
        head = "^" + re.escape(word + sep)
        said = set(words(what))
        if outcome == "accepted" and said & {"id", "leadid", "reference"}:
            out.append({"match": head + r"(?P<buyer_lead_id>\S+)", "outcome": outcome})
            continue
        if said & {"reason", "message", "error"}:
            extract.setdefault("reason", head + "(?P<value>.*)$")
        out.append({"match": head, "outcome": outcome})
    return out


def response_draft(draft: SpecDraft) -> ResponseDraft:
    """The response section of the stage ``draft`` describes."""
    body = "xml" if draft.format == "xml" else "json"
    rules: list[dict[str, Any]] = []
    extract: dict[str, str] = {}
    for answer in draft.responses:
        status = answer.status
        if status.startswith("2"):
            if answer.fields:
                found: list[dict[str, Any]] = []
                _from_body(answer, found, extract)
                for rule in found if status != "200" and status.isdigit() else []:
                    rule.setdefault("status", int(status))  # a 201 rule says so
                rules += found
            elif "text" in answer.media:
                body = "text"
                rules += _text_rules(answer, extract)
        elif status in ("400", "422"):
            rules.append({"status": int(status), "outcome": "rejected"})
        elif status == "409":
            rules.append({"status": 409, "outcome": "duplicate"})
    section: dict[str, Any] = {"body": body}
    if rules:
        section["rules"] = _ordered(rules)
    if extract:
        section["extract"] = extract
    documented = any(r.get("outcome") == "accepted" for r in rules)
    return ResponseDraft(section, documented)


def _ordered(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules with a status first as written: ``status`` before ``if``/``match``."""
    out: list[dict[str, Any]] = []
    for rule in rules:
        ordered: dict[str, Any] = {
            k: rule[k] for k in ("status", "if", "match", "outcome") if k in rule
        }
        out.append(ordered)
    return out


def skeleton(stage: str, body: str) -> list[str]:
    """Comment lines showing what a response section says (the spec documents none)."""
    if body == "xml":
        cond = "Response.Status == 'Accepted'"
        lead_id, reason = "Response.LeadId", "Response.Reason"
    else:
        cond = "status == 'accepted'"
        lead_id, reason = "lead_id", "reason"
    lines = [
        "TODO: the spec documents no responses; say which answers mean what, e.g.",
        "rules:",
        f'  - {{if: "{cond}", outcome: accepted}}',
        "  - {status: 422, outcome: rejected}",
        "extract:",
    ]
    if stage == "ping":
        lines += ["  price: bid", "  ping_id: ping_id"]
    else:
        lines += [f"  buyer_lead_id: {lead_id}"]
    lines += [f"  reason: {reason}"]
    return lines

"""Choose each spec property's field: a lead field shaped to fit, a constant, or a TODO.

One :class:`FieldDraft` per leaf property, in the spec's order. A property is filled, in this
order of preference, by a value the spec fixes (an XSD ``fixed`` value, an enum of one choice),
by the best lead field whose shaping succeeds (:mod:`.names`, :mod:`.shape`), by a choice the
spec's description quotes (``Partners send "Web - Partner"``), else by a ``TODO`` placeholder
that lint reports (LP800).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.authoring.placeholders import TODO
from engine.authoring.scaffold.names import name_matches, words
from engine.authoring.scaffold.shape import Shaped, choices, shape
from engine.authoring.scaffold.source import SpecField
from engine.lead import US_STATES, LeadSchema

#: Below this a name match is not trusted.
MIN_SCORE = 0.3
_QUOTED = re.compile(r"[\"“']([^\"”']{1,60})[\"”']")


@dataclass(slots=True)
class FieldDraft:
    """One drafted field: where it goes in the payload and what the buyer file says for it."""

    path: tuple[str | int, ...]
    """The spec's path of the property."""
    spec: dict[str, Any]
    """The field as written in the buyer file (``from``, ``transform`` … or ``value``)."""
    why: str
    placeholder: bool = False
    todos: int = 0
    lead_field: str | None = None
    notes: list[str] = field(default_factory=list)


def _constraints(f: SpecField) -> str:
    prop = f.prop
    said = []
    if prop.enum is not None:
        listed = ", ".join(str(c) for c in prop.enum if c is not None)
        said.append(f"one of: {listed}" if len(listed) < 120 else "one of the spec's choices")
    if prop.pattern:
        said.append(f"pattern {prop.pattern}")
    if prop.max_length:
        said.append(f"at most {prop.max_length} characters")
    if prop.format:
        said.append(f"format {prop.format}")
    types = sorted(prop.types - {"null"})
    if types and types != ["string"]:
        said.append("/".join(types))
    return "; ".join(said)


def _placeholder(f: SpecField) -> FieldDraft:
    need = "required" if f.prop.required else "optional (delete the field if you do not send it)"
    what = f.description or "nothing in the lead matched"
    rules = _constraints(f)
    why = f"TODO: {need}: {what}" + (f" [{rules}]" if rules else "")
    return FieldDraft(f.path, {"value": TODO}, why, placeholder=True)


def _written(shaped: Shaped) -> dict[str, Any]:
    spec: dict[str, Any] = {"from": shaped.source}
    if shaped.steps:
        spec["transform"] = shaped.steps
    if shaped.type is not None:
        spec["type"] = shaped.type
    if shaped.max_length is not None:
        spec["max_length"] = shaped.max_length
    return spec


def _has(schema: LeadSchema, *paths: str) -> bool:
    return all(p in schema.fields for p in paths)


#: Words of a post property that the ping's answer gave (a ping id, an auction token).
_FROM_PING = frozenset({"ping", "auction", "token", "bid"})


def ping_key(f: SpecField) -> str:
    """The name the ping stage extracts a post property under: ``AuctionToken`` ->
    ``auction_token``."""
    return "_".join(words(f.name)) or "ping_id"


def draft_field(f: SpecField, schema: LeadSchema, fmt: str, after_ping: bool = False) -> FieldDraft:
    """The drafted field of one leaf property (``after_ping``: the buyer pings first, so a
    ping id or auction token comes from the ping's answer)."""
    options = choices(f)
    if f.fixed is not None:
        return FieldDraft(f.path, {"value": f.fixed}, "the spec fixes this value")
    if options is not None and len(options) == 1:
        return FieldDraft(f.path, {"value": options[0]}, "the spec's only choice")
    if {"full", "name"} <= set(words(f.name)) and _has(schema, "lead.first_name", "lead.last_name"):
        spec: dict[str, Any] = {"concat": ["lead.first_name", "lead.last_name"]}
        if f.prop.max_length:
            spec["max_length"] = f.prop.max_length
        return FieldDraft(f.path, spec, "a full name: first and last joined", lead_field="lead")
    lead_fields = list(schema.fields)
    descriptions = {p: s.description for p, s in schema.fields.items()}
    rejected: list[str] = []
    for match in name_matches(f.path, lead_fields, descriptions, f.description):
        if match.score < MIN_SCORE:
            break
        result = shape(f, match.lead_field, schema.fields[match.lead_field], fmt)
        if isinstance(result, str):
            rejected.append(f"not {match.lead_field}: {result}")
            continue
        written = _written(result)
        lead = schema.fields[match.lead_field]
        if f.prop.required and not lead.required:
            written["if_missing"] = "reject"
            result.why.append("required by the spec, optional in the lead: reject without it")
        why = "; ".join([match.why, *result.why])
        if result.todos:
            why = "TODO: " + why
        return FieldDraft(f.path, written, why, todos=result.todos, lead_field=match.lead_field)
    if options:
        quoted = [q for q in _QUOTED.findall(f.description) if q in options]
        if quoted:
            return FieldDraft(
                f.path, {"value": quoted[0]}, "the value the spec's description names"
            )
    if after_ping and set(words(f.name)) & _FROM_PING and not options:
        key = ping_key(f)
        spec = {"from": f"ping.{key}"}
        if fmt == "json":
            spec["type"] = "string"
        why = f"from the ping's answer, extracted there as '{key}'"
        return FieldDraft(f.path, spec, why, lead_field=f"ping.{key}")
    draft = _placeholder(f)
    draft.notes = rejected
    if rejected:  # the near misses, so the author sees what was weighed
        draft.why += " (" + "; ".join(rejected[:2]) + ")"
    return draft


def served_states(fields: tuple[SpecField, ...], schema: LeadSchema) -> list[str] | None:
    """The states a buyer's state enum lists, when it leaves out some the lead may carry."""
    for f in fields:
        options = choices(f)
        if not options or not all(re.fullmatch(r"[A-Z]{2}", o) for o in options):
            continue
        matches = name_matches(f.path, list(schema.fields))
        if not matches or schema.fields[matches[0].lead_field].kind != "state":
            continue
        listed = [o for o in options if o in US_STATES]
        if set(US_STATES) - set(listed):
            return listed
    return None


def draft_fields(
    fields: tuple[SpecField, ...], schema: LeadSchema, fmt: str, after_ping: bool = False
) -> list[FieldDraft]:
    """One drafted field per leaf property, in the spec's order."""
    drafts = [draft_field(f, schema, fmt, after_ping) for f in fields if f.leaf]
    for d in drafts:
        if any(isinstance(p, str) and ("." in p or "[" in p) for p in d.path):
            d.why += (
                " (CHECK: the spec's name holds '.' or '[', which a field name reads as nesting)"
            )
    return drafts

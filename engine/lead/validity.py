"""Validity of contact fields: recorded when a lead arrives, required per buyer or per campaign.

A ``phone`` or ``email`` field of the lead schema keeps a value that is readable but not valid (a
number outside the US, an address without a domain) instead of refusing the lead, and the
normalized lead records the verdict under :data:`VALIDITY`, keyed by the field's dotted path::

    "validity": {"lead.phone": {"valid": false, "reason": "not a valid US phone number"},
                 "lead.email": {"valid": true}}

The field itself keeps its normalized value (``lead.phone`` is still 10 digits for a valid
number), so buyer mappings read it as before. Reasons never repeat the value: they end up in
traces and logs. A buyer (``filters: {require_valid: [lead.phone]}``) or a campaign
(``require_valid:``) that takes only valid values excludes such a lead for that buyer alone, with
the reason in the trace; a schema field marked ``required_valid: true`` refuses the lead at intake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from engine.lead.normalize import InvalidValue, Normalizer

#: The top-level key of the normalized lead holding the validity of its contact fields.
VALIDITY: Final = "validity"
#: Lead schema types whose invalid values are kept and recorded rather than refused.
CONTACT_KINDS: Final = frozenset({"phone", "email"})

#: A requirement over the normalized lead: None when it is met, else the reason it is not.
Requirement = Callable[[Mapping[str, Any]], str | None]


def valid_entry() -> dict[str, Any]:
    """The record of a valid value."""
    return {"valid": True}


def invalid_entry(reason: str) -> dict[str, Any]:
    """The record of an invalid value: ``reason`` says what is wrong without repeating it."""
    return {"valid": False, "reason": reason}


def _get(lead: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = lead
    for key in dotted.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def verdict(lead: Mapping[str, Any], path: str, normalize: Normalizer) -> str | None:
    """Why the value at ``path`` is not valid (missing included), or None when it is valid.

    The record made at intake decides; a lead that has none for the field (made before
    validity was recorded, or never checked against the schema) is checked with ``normalize``.
    """
    value = _get(lead, path)
    if _blank(value):
        return "missing"
    records = lead.get(VALIDITY)
    entry = records.get(path) if isinstance(records, Mapping) else None
    if isinstance(entry, Mapping) and isinstance(entry.get("valid"), bool):
        if entry["valid"]:
            return None
        reason = entry.get("reason")
        return reason if isinstance(reason, str) and reason else "not valid"
    try:
        normalize(value)
    except InvalidValue as problem:
        return problem.plain or "not valid"
    return None


def requirement(fields: Sequence[tuple[str, Normalizer]], who: str) -> Requirement:
    """A requirement met when every field of ``fields`` (path, normalizer) holds a valid value;
    ``who`` names who asks for it in the reason (``the buyer``, ``the campaign``)."""
    checks = tuple(fields)

    def require_valid(lead: Mapping[str, Any]) -> str | None:
        for path, normalize in checks:
            why = verdict(lead, path, normalize)
            if why is not None:
                return f"{path} is {why}, and {who} takes only leads with a valid {path}"
        return None

    return require_valid


def describe(paths: Sequence[str]) -> str:
    """The requirement in words, for ``leadpost explain``."""
    return "only leads with a valid " + " and a valid ".join(paths)

"""Shrinking a generated lead that breaks the buyer's spec to the plainest lead that still does.

Hypothesis finds the first breaking lead; shrinking it on Hypothesis's choice sequence costs
thousands of regenerated leads (seconds each time). :func:`shrink_lead` works on the lead itself
instead, field by field in schema order, and keeps a change only when the lead still breaks:
optional fields left out, values replaced by the simplest lead's, spellings made canonical
(``(512) 555-0142`` -> ``5125550142``), text cut to the shortest length that still breaks and
made plain ASCII, whole numbers halved toward the simplest. A few hundred renders at most.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from engine.contract.leads import CONSENT_TIME, TIMESTAMP
from engine.errors import LeadError
from engine.lead import LeadSchema, validate_lead

#: True when a candidate lead (raw) still breaks the spec the same way.
Breaks = Callable[[dict[str, Any]], bool]

_ABSENT: Final = object()
#: Renders tried per shrink, at most.
BUDGET: Final = 400

Change = dict[str, Any]


def _get(doc: Mapping[str, Any], dotted: str) -> Any:
    node: Any = doc
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return _ABSENT
        node = node[key]
    return node


def _apply(doc: dict[str, Any], change: Change) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for dotted, value in change.items():
        *parents, key = dotted.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        if value is _ABSENT:
            node.pop(key, None)
        else:
            node[key] = value
    return out


def _shorter(text: str, breaks_at: Callable[[str], bool]) -> Iterator[str]:
    """The shortest prefix that still breaks (bisection), then the same length in plain ASCII."""
    text = text.strip()
    yield text
    low, high = 1, len(text)
    while low < high:
        middle = (low + high) // 2
        if breaks_at(text[:middle]):
            high = middle
        else:
            low = middle + 1
    yield text[:high]
    yield "A" + "a" * (high - 1)


def _nearer(number: int, breaks_at: Callable[[int], bool]) -> Iterator[int]:
    """The whole number closest to 0 (on the same side) that still breaks, by bisection."""
    low, high = 0, abs(number)
    sign = -1 if number < 0 else 1
    while low < high:
        middle = (low + high) // 2
        if breaks_at(sign * middle):
            high = middle
        else:
            low = middle + 1
    yield sign * high


def _pruned(doc: dict[str, Any]) -> dict[str, Any]:
    """The lead without the objects left empty by taking fields out."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            value = _pruned(value)
            if not value:
                continue
        out[key] = value
    return out


class _Shrinker:
    def __init__(self, schema: LeadSchema, breaks: Breaks, simple: Mapping[str, Any], budget: int):
        self.schema, self.breaks, self.simple, self.left = schema, breaks, simple, budget

    def still_breaks(self, candidate: dict[str, Any]) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return self.breaks(candidate)

    def candidates(self, lead: dict[str, Any], path: str) -> Iterator[Change]:
        """Simpler values for one field, plainest first."""
        value = _get(lead, path)
        spec = self.schema.fields.get(path)
        if value is _ABSENT or spec is None:
            return
        if not spec.required and path != TIMESTAMP:
            yield {path: _ABSENT}
        simple = _get(self.simple, path)
        if path == TIMESTAMP:  # consent stays right after the lead's time
            if CONSENT_TIME in self.schema.fields:
                yield {path: simple, CONSENT_TIME: simple}
            else:
                yield {path: simple}
            return
        if path == CONSENT_TIME:
            yield {path: _get(lead, TIMESTAMP)}
            return
        if simple is not _ABSENT and simple != value:
            yield {path: simple}
        try:
            canonical = _get(validate_lead(self.schema, lead), path)
        except LeadError:
            return
        if canonical is not _ABSENT and canonical != value:
            yield {path: canonical}
        if spec.kind == "string" and isinstance(canonical, str):
            tries = _shorter(canonical, lambda t: self.still_breaks(_apply(lead, {path: t})))
            yield from ({path: t} for t in tries)
        elif spec.kind == "integer" and isinstance(canonical, int):
            tries_n = _nearer(canonical, lambda n: self.still_breaks(_apply(lead, {path: n})))
            yield from ({path: n} for n in tries_n)

    def run(self, lead: dict[str, Any]) -> dict[str, Any]:
        lead = self.fields_first(lead)
        pruned = _pruned(lead)
        return pruned if pruned != lead and self.still_breaks(pruned) else lead

    def fields_first(self, lead: dict[str, Any]) -> dict[str, Any]:
        progress = True
        while progress and self.left > 0:
            progress = False
            for path in dict.fromkeys((TIMESTAMP, *self.schema.fields)):
                for change in self.candidates(lead, path):
                    candidate = _apply(lead, change)
                    if candidate != lead and self.still_breaks(candidate):
                        lead, progress = candidate, True
                        break
        return lead


def shrink_lead(
    lead: dict[str, Any],
    breaks: Breaks,
    schema: LeadSchema,
    simple: Mapping[str, Any],
    *,
    budget: int = BUDGET,
) -> dict[str, Any]:
    """The plainest variant of ``lead`` for which ``breaks`` still holds (``lead`` itself at
    worst). ``simple`` is the simplest generated lead with every field present: its values are
    what each field moves toward. ``breaks`` is called at most ``budget`` times."""
    return _Shrinker(schema, breaks, simple, budget).run(lead)

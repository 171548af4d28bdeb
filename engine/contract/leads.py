"""Hypothesis strategies for raw leads the lead schema accepts, awkward spellings included.

:func:`leads` draws one raw lead document (JSON-able, as a publisher would send it) for a
:class:`~engine.lead.LeadSchema`: every value is built valid for its field's type, never filtered,
so ``validate_lead`` accepts every lead. The leads also pass the pre-sale consent, phone and email
checks: ``consent.tcpa_consent`` is always yes and ``consent.consent_timestamp`` lies within 90 days
before ``timestamp``. Shrinking moves toward plain leads: short ASCII names, optional fields absent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from hypothesis import strategies as st

from engine.contract.lead_values import (
    CONSENT_SPELLING,
    CONSENT_TIME,
    MOMENT,
    TIMESTAMP,
    spell_time,
    value_strategy,
)
from engine.lead import FieldSpec, LeadSchema

__all__ = ["CONSENT_TIME", "TIMESTAMP", "leads"]

Draw = Callable[[st.SearchStrategy[Any]], Any]

# -- the whole lead ------------------------------------------------------------------------------

#: An optional field left out: absent (what shrinking moves toward), null or blank.
_MISSING: Final = st.sampled_from(["absent", None, "", "  "])
_ABSENT: Final = "absent"
_PRESENT: Final = st.integers(0, 2).map(bool)


def _put(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, key = path.split(".")
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    node[key] = value


_Plan = tuple[tuple[str, bool, st.SearchStrategy[Any]], ...]


@st.composite
def _lead(draw: Draw, fields: _Plan) -> dict[str, Any]:
    moment: datetime = draw(MOMENT)
    doc: dict[str, Any] = {}
    if not any(path == TIMESTAMP for path, _, _ in fields):
        doc[TIMESTAMP] = f"{moment:%Y-%m-%dT%H:%M:%S}Z"  # kept as sent: the plainest spelling
    for path, required, strategy in fields:
        if not required and not draw(_PRESENT):
            missing = draw(_MISSING)
            if missing != _ABSENT:
                _put(doc, path, missing)
            continue
        value = draw(strategy)
        if path == TIMESTAMP:
            value = spell_time(moment, value)
        elif strategy is CONSENT_SPELLING:
            seconds_before, spelling = value
            value = spell_time(moment - timedelta(seconds=seconds_before), spelling)
        _put(doc, path, value)
    return doc


@st.composite
def _item(draw: Draw, fields: _Plan) -> dict[str, Any]:
    """One item of a list of objects: its fields by their paths inside the item."""
    doc: dict[str, Any] = {}
    for path, required, strategy in fields:
        if not required and not draw(_PRESENT):
            missing = draw(_MISSING)
            if missing != _ABSENT:
                _put(doc, path, missing)
            continue
        _put(doc, path, draw(strategy))
    return doc


#: The most items a generated list holds (a list's own max_items may be lower).
MAX_ITEMS: Final = 3


def _plan(
    schema: LeadSchema,
    narrowed: Mapping[str, tuple[str, ...]],
    always: Collection[str],
    scope: str | None,
) -> _Plan:
    """The fields directly in ``scope`` (a list path, or None for the lead itself), with paths
    relative to it; a list's strategy draws its items."""
    out: list[tuple[str, bool, st.SearchStrategy[Any]]] = []
    for path, spec in schema.fields.items():
        parent = schema.list_of(path.rsplit(".", 1)[0]) if "." in path else None
        if parent != scope:
            continue
        key = path if scope is None else path[len(scope) + 1 :]
        strategy = _list(schema, narrowed, path, spec) if spec.is_list else None
        if strategy is None:
            strategy = value_strategy(path, spec, narrowed)
        out.append((key, spec.required or path in always, strategy))
    return tuple(out)


def _list(
    schema: LeadSchema, narrowed: Mapping[str, tuple[str, ...]], path: str, spec: FieldSpec
) -> st.SearchStrategy[Any]:
    if spec.of is not None:
        item: st.SearchStrategy[Any] = value_strategy(path, replace(spec, kind=spec.of), narrowed)
    else:
        item = _item(_plan(schema, narrowed, (), path))
    low = spec.min_items or (1 if spec.required else 0)
    high = max(low, min(spec.max_items or MAX_ITEMS, MAX_ITEMS))
    return st.lists(item, min_size=low, max_size=high)


def leads(
    schema: LeadSchema,
    choices: Mapping[str, Sequence[str]] | None = None,
    present: Collection[str] = (),
) -> st.SearchStrategy[dict[str, Any]]:
    """Raw lead documents valid under ``schema``, in the many spellings publishers send.

    Required fields are always there, and so are the optional fields listed in ``present``;
    another optional field is left out, null or blank about a third of the time. ``choices``
    narrows enum and state fields (dotted path -> allowed values, state codes for a state
    field), e.g. to the states a buyer takes. ``timestamp`` is always set.
    """
    narrowed = {path: tuple(values) for path, values in (choices or {}).items() if values}
    always = {*present, TIMESTAMP}
    return _lead(_plan(schema, narrowed, always, None))

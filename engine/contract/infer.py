"""What a field can send, known without a lead: its types, its possible values, its length.

Read from the field as written (the DSL model) and the lead schema: the source gives a start
(an enum lead field has a finite set of values, a phone is 10 digits), each transform step is
followed (a finite set is pushed through the real transform; otherwise the step's known shape
is used), then the default or ``if_missing``, ``max_length`` and ``type`` apply, as at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from engine.compiler.encoders.values import scalar_text
from engine.dsl import models as m
from engine.errors import MappingError
from engine.lead import LeadSchema
from engine.lead.normalize import US_STATE_NAMES, US_STATES
from engine.plan import ENV_REFERENCE, RenderContext
from engine.transforms import CONVERTERS, TRANSFORMS, limit_length
from engine.transforms.base import ArgError

#: Longest normalized text of each lead kind (None: unbounded).
KIND_LENGTH = {
    "state": 2,
    "zip": 10,
    "phone": 10,
    "date": 10,
    "datetime": 20,
    "email": 254,
    "jornaya_leadid": 36,
    "trustedform_url": 69,
    "boolean": 5,
}
KIND_TYPE = {"integer": "integer", "number": "number", "boolean": "boolean"}
#: Steps that give the value a definite form (the generated-leads check verifies which form).
SHAPING = frozenset(
    {
        "digits",
        "replace",
        "substring",
        "translate",
        "phone",
        "date",
        "datetime",
        "currency",
        "number",
        "boolean",
        "hash",
        "age",
    }
)
_PHONE_LENGTH = {"digits": 10, "e164": 12, "dashes": 12, "dots": 12, "parentheses": 14}
_SAMPLE_CTX = RenderContext(lead={}, now=datetime(2024, 12, 15, 14, 30, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class Facts:
    """What one field may send."""

    types: frozenset[str]
    """JSON type names of the values sent (``null`` for an explicit empty value)."""
    values: tuple[Any, ...] | None = None
    """Every value it can send, when that is a finite set known from the file."""
    max_len: int | None = None
    """The longest text it can send, when that is guaranteed."""
    shaped: bool = False
    """A formatting step (or a typed lead field) gives the value a definite form."""
    optional: str | None = None
    """Why the field may be left out for some leads, or None."""


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    return "string"


def text(value: Any) -> str:
    """The value as the text encoders write it (forms and XML)."""
    return value if isinstance(value, str) else scalar_text(value, "value")


def _unique(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple({(json_type(v), text(v)): v for v in values}.values())


def _of_values(values: Iterable[Any], **more: Any) -> Facts:
    found = _unique(values)
    lengths = [len(text(v)) for v in found]
    return Facts(frozenset(json_type(v) for v in found), found, max(lengths, default=0), **more)


def union(parts: list[Facts]) -> Facts:
    """What one of several branches sends."""
    values = (
        None if any(p.values is None for p in parts) else [v for p in parts for v in p.values or ()]
    )
    lengths = [p.max_len for p in parts]
    return Facts(
        types=frozenset(t for p in parts for t in p.types),
        values=None if values is None else _unique(values),
        max_len=None if None in lengths else max((x for x in lengths if x is not None), default=0),
        shaped=all(p.shaped for p in parts),
        optional=next((p.optional for p in parts if p.optional), None),
    )


def _lead(path: str, schema: LeadSchema | None, states: frozenset[str] | None = None) -> Facts:
    if path.split(".")[0] in ("ping", "post"):
        return Facts(frozenset({"string", "integer", "number"}), shaped=True)
    spec = schema.fields.get(path) if schema is not None else None
    if spec is None:
        return Facts(frozenset({"string"}))
    optional = None if spec.required else f"{path} is optional in the lead schema"
    if spec.kind == "enum":
        return _of_values(spec.values, shaped=True, optional=optional)
    if spec.kind == "boolean":
        return _of_values((True, False), shaped=True, optional=optional)
    if spec.kind == "state":
        codes = US_STATES if states is None else US_STATES & states
        return _of_values(sorted(codes), shaped=True, optional=optional)
    kind = KIND_TYPE.get(spec.kind, "string")
    return Facts(
        frozenset({kind}), None, KIND_LENGTH.get(spec.kind), spec.kind != "string", optional
    )


class ItemSchema:
    """The lead schema seen from inside a list: ``item.dob`` is ``lead.drivers.dob``."""

    def __init__(self, base: LeadSchema, scope: str) -> None:
        self.base = base
        self.scope = scope
        inside = {
            "item" + path[len(scope) :]: spec
            for path, spec in base.fields.items()
            if path.startswith(scope + ".")
        }
        self.fields = {**base.fields, **inside}


def in_list(schema: Any, text: str) -> Any:
    """The schema ``facts`` reads item fields through, inside the list ``text`` names
    (``lead.drivers``, or ``item.incidents`` inside another list)."""
    path = text.strip()
    if isinstance(schema, ItemSchema):
        full = schema.scope + path[4:] if path.startswith("item") else path
        return ItemSchema(schema.base, full)
    return None if schema is None else ItemSchema(schema, path)


def _aggregate(spec: m.FieldSpec, schema: Any) -> Facts | None:
    if spec.count is not None:
        return Facts(frozenset({"integer"}), shaped=True)
    if spec.any is not None or spec.all is not None:
        return _of_values((True, False), shaped=True)
    if spec.sum is not None and spec.of is not None:
        inner = facts(spec.of, in_list(schema, spec.sum))
        whole = inner.types <= {"integer"}  # a total of whole numbers is whole; 0 for none
        return Facts(frozenset({"integer" if whole else "number"}), shaped=True)
    listed = spec.min if spec.min is not None else spec.max
    if listed is None or spec.of is None:
        return None
    inner = facts(spec.of, in_list(schema, listed))
    return replace(inner, optional="the list may have no item with a value")


def _source(spec: m.FieldSpec, schema: LeadSchema | None, states: frozenset[str] | None) -> Facts:
    if spec.each is not None:
        return Facts(frozenset({"array"}), shaped=True, optional="the list may be empty")
    found = _aggregate(spec, schema)
    if found is not None:
        return found
    if spec.from_ is not None:
        return _lead(spec.from_.strip(), schema, states)
    if spec.value is not None:
        if ENV_REFERENCE.search(spec.value):
            return Facts(frozenset({"string"}), shaped=True)
        return _of_values((spec.value,), shaped=True)
    if spec.concat is not None:
        parts = [facts(p, schema) for p in spec.concat]
        sep = len(" " if spec.separator is None else spec.separator)
        lengths = [p.max_len for p in parts]
        total = None if None in lengths else sum(x or 0 for x in lengths) + sep * (len(parts) - 1)
        every = all(p.optional for p in parts)
        return Facts(
            frozenset({"string"}),
            None,
            total,
            False,
            "every part may be missing" if every else None,
        )
    branches = [facts(case.then, schema, states) for case in spec.when or ()]
    if spec.else_ is not None:
        branches.append(facts(spec.else_, schema, states))
    found = union(branches) if branches else Facts(frozenset())
    if spec.else_ is None:
        found = replace(found, optional=found.optional or "the 'when' has no 'else'")
    return found


def _args(name: str, raw: Any) -> Any:
    definition = TRANSFORMS[name]
    if definition.args is None:
        return None
    data = {} if raw is None else raw
    if definition.shorthand is not None and not isinstance(raw, dict | list) and raw is not None:
        data = {definition.shorthand: raw}
    return definition.args.model_validate(data)


def _step_facts(name: str, args: Any, before: Facts) -> Facts:
    """The step's effect when the values are not known one by one."""
    if name == "range":
        return before  # the value passes unchanged (or the lead is refused)
    types = frozenset({"integer"}) if name == "age" else frozenset({"string"})
    shaped = before.shaped or name in SHAPING
    keep = before.max_len
    length: int | None = None
    values: tuple[Any, ...] | None = None
    if name in ("upper", "lower", "title", "trim", "digits", "split", "before", "after"):
        length = keep
    elif name == "replace":
        length = keep if args.find is not None and len(args.with_) <= len(args.find) else None
    elif name == "substring":
        length = (
            min(x for x in (keep, args.length) if x is not None)
            if (keep, args.length) != (None, None)
            else None
        )
    elif name == "translate" and args.unmapped != "keep":
        values = _unique(v for v in [*args.map.values(), args.default] if v is not None)
    elif name == "boolean":
        values = _unique((args.true, args.false))
    elif name in ("state_code", "state_name"):
        codes = sorted(US_STATES)
        values = tuple(codes if name == "state_code" else (US_STATE_NAMES[c] for c in codes))
    elif name == "phone":
        length = _PHONE_LENGTH[args.style]
    elif name in ("date", "datetime"):
        length = _date_length(args.format, name)
    elif name == "hash":
        length = 64 if args.algorithm == "sha256" else 32
    elif name == "age":
        length = 3
    if values is not None:
        return _of_values(values, shaped=True, optional=before.optional)
    return Facts(types, None, length, shaped, before.optional)


def _date_length(fmt: str | None, name: str) -> int | None:
    if fmt is None:
        return 25 if name == "datetime" else 10
    longest = 0
    for month in range(1, 13):
        for day in (1, 22, 23, 24, 25, 26, 27, 28):
            try:
                longest = max(
                    longest, len(datetime(2024, month, day, 23, 59, 59, 999999, UTC).strftime(fmt))
                )
            except ValueError:
                return None
    return longest


def _steps(spec: m.FieldSpec, found: Facts) -> Facts | None:
    for raw in spec.transform:
        name, arg = (raw, None) if isinstance(raw, str) else next(iter(raw.items()))
        if name not in TRANSFORMS:
            return None
        try:
            args = _args(name, arg)
            run = TRANSFORMS[name].build(args)
        except (ValidationError, ArgError):
            return None
        if found.values is not None:
            out = []
            for value in found.values:
                try:
                    out.append(run(value, _SAMPLE_CTX))
                except MappingError:
                    continue  # this lead is refused, not sent wrongly
            shaped = found.shaped or name in SHAPING
            missing = any(v is None or v == "" for v in out)
            reason = "a transform may leave it empty" if missing else None
            found = _of_values(
                [v for v in out if v is not None and v != ""],
                shaped=shaped,
                optional=found.optional or reason,
            )
        else:
            found = _step_facts(name, args, found)
    return found


def facts(
    spec: m.FieldSpec | str, schema: LeadSchema | None, states: frozenset[str] | None = None
) -> Facts:
    """What the field written as ``spec`` may send (``states``: the buyer's state filter)."""
    if isinstance(spec, str):
        return _lead(spec.strip(), schema, states)
    stepped = _steps(spec, _source(spec, schema, states))
    if stepped is None:
        return Facts(frozenset({"string"}))
    if spec.max_length is not None:
        stepped = _limit(stepped, spec.max_length, spec.too_long == "reject")
    missing: list[Facts] = []
    if spec.default is not None:
        missing.append(_of_values((spec.default,), shaped=True))
    elif "if_missing" in spec.model_fields_set and spec.if_missing is None:
        missing.append(_of_values((None,), shaped=True))
    if spec.type is not None:
        stepped = _typed(stepped, spec.type)
        missing = [_typed(f, spec.type) for f in missing]
    if stepped.optional and (missing or spec.if_missing in ("reject", "empty")):
        stepped = replace(stepped, optional=None)
        return union([stepped, *missing]) if missing else stepped
    return stepped


def _limit(found: Facts, limit: int, reject: bool) -> Facts:
    if found.values is None:
        return replace(found, max_len=min(limit, found.max_len or limit))
    kept = []
    for value in found.values:
        try:
            kept.append(limit_length(value, limit, reject))
        except MappingError:
            continue
    return _of_values(kept, shaped=found.shaped, optional=found.optional)


def _typed(found: Facts, kind: str) -> Facts:
    convert = CONVERTERS[kind]
    if found.values is None:
        shaped = found.shaped or kind != "string"
        return Facts(
            frozenset({kind}) | (found.types & {"null"}),
            None,
            found.max_len,
            shaped,
            found.optional,
        )
    out = []
    for value in found.values:
        try:
            out.append(None if value is None else convert(value))
        except MappingError:
            continue
    return _of_values(out, shaped=found.shaped or kind != "string", optional=found.optional)

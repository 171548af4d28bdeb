"""The compiled lead schema and the per-lead check that turns an incoming lead into its normal form.

:class:`LeadSchema` is built once from declared fields (see ``engine.lead.schema`` for the YAML
file); it compiles a tree of per-field normalizers so :func:`validate_lead` only walks the lead.
Nothing here reads files or imports the YAML layer, so the run side may use it freely.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from engine.errors import Issue, LeadError
from engine.files import MAX_LEAD_BYTES, MAX_VALUE_CHARS, size_text
from engine.lead.normalize import (
    NORMALIZERS,
    InvalidValue,
    Normalizer,
    bounded,
    enum_normalizer,
)
from engine.lead.validity import CONTACT_KINDS, VALIDITY, invalid_entry, valid_entry
from engine.words import printable, show


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One declared lead field: its type (``kind``), PII flag, required flag, choices, meaning."""

    kind: str
    pii: bool = False
    required: bool = False
    values: tuple[str, ...] = ()
    """The allowed choices, in declared spelling (only for ``kind == "enum"``)."""
    description: str = ""
    minimum: Decimal | None = None
    """The least value an integer or number field allows (None: no bound)."""
    maximum: Decimal | None = None
    """The greatest value an integer or number field allows (None: no bound)."""
    required_valid: bool = False
    """Phone and email only: refuse a lead whose value is invalid, instead of keeping the value
    and recording that it is invalid (see ``engine.lead.validity``)."""

    @property
    def keeps_invalid(self) -> bool:
        """True when an invalid value is kept and recorded under ``validity``, not refused."""
        return self.kind in CONTACT_KINDS and not self.required_valid

    def normalizer(self) -> Normalizer:
        """The function normalizing this field's values (and keeping them within bounds)."""
        base = enum_normalizer(self.values) if self.kind == "enum" else NORMALIZERS[self.kind]
        if self.minimum is None and self.maximum is None:
            return base
        return bounded(base, self.minimum, self.maximum)


@dataclass(frozen=True, slots=True)
class _Leaf:
    key: str
    path: str
    normalize: Normalizer
    required: bool
    description: str
    contact: bool = False
    """A phone or email field: its validity is recorded under ``validity``."""
    keeps_invalid: bool = False
    pii: bool = False
    """Identifies a person: a message about a refused value shows it masked."""


@dataclass(frozen=True, slots=True)
class _Group:
    key: str
    path: str
    children: tuple[_Leaf | _Group, ...]
    required_leaves: tuple[_Leaf, ...]
    """Every required field below this object, reported one by one when the object is absent."""


@dataclass(frozen=True, slots=True, eq=False)
class LeadSchema:
    """The compiled lead schema: ``LeadSchema(fields)``; immutable, compared by identity.

    ``fields`` maps each dotted path (``lead.address.zip``) to its FieldSpec, in declared order;
    ``pii_fields`` holds the paths flagged PII; ``paths`` holds every declared path and each
    object above one (``lead``, ``lead.address``).
    """

    fields: Mapping[str, FieldSpec]
    pii_fields: frozenset[str] = field(init=False)
    paths: frozenset[str] = field(init=False)
    contact_fields: frozenset[str] = field(init=False)
    """Phone and email fields: the ones whose validity a buyer or campaign may require."""
    _root: _Group = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = MappingProxyType(dict(self.fields))
        for path, spec in fields.items():
            _check_declaration(path, spec, fields)
        parents = {p.rsplit(".", 1)[0] for p in fields if "." in p}
        parents |= {q for p in parents for q in _ancestors(p)}
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "pii_fields", frozenset(p for p, s in fields.items() if s.pii))
        object.__setattr__(self, "paths", frozenset(fields) | frozenset(parents))
        contact = frozenset(p for p, s in fields.items() if s.kind in CONTACT_KINDS)
        object.__setattr__(self, "contact_fields", contact)
        object.__setattr__(self, "_root", _compile(fields))

    def enum_values(self, path: str) -> tuple[str, ...] | None:
        """The choices of an enum field, or None when ``path`` is not a declared enum field."""
        spec = self.fields.get(path)
        return spec.values if spec is not None and spec.kind == "enum" else None

    def is_pii(self, path: str) -> bool:
        """True when reading ``path`` exposes PII: it is a PII field or an object holding one."""
        prefix = path + "."
        return path in self.pii_fields or any(p.startswith(prefix) for p in self.pii_fields)


def _ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _check_declaration(path: str, spec: FieldSpec, fields: Mapping[str, FieldSpec]) -> None:
    """Programming errors only: the YAML loader reports these with positions before building."""
    if spec.kind != "enum" and spec.kind not in NORMALIZERS:
        raise ValueError(f"field {path!r} has unknown type {spec.kind!r}")
    if (spec.kind == "enum") != bool(spec.values):
        raise ValueError(f"field {path!r}: choices are required for enum fields and only there")
    if not all(path.split(".")):
        raise ValueError(f"field path {path!r} has an empty part")
    clash = next((a for a in _ancestors(path) if a in fields), None)
    if clash is not None:
        raise ValueError(f"field {clash!r} is declared as a value but {path!r} is inside it")


def _compile(fields: Mapping[str, FieldSpec]) -> _Group:
    """Build the tree of objects and normalizers once, in declared order."""
    tree: dict[str, Any] = {}
    for path, spec in fields.items():
        *parents, key = path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[key] = spec

    def build(key: str, path: str, node: dict[str, Any]) -> _Group:
        children: list[_Leaf | _Group] = []
        required: list[_Leaf] = []
        for name, item in node.items():
            sub = f"{path}.{name}" if path else name
            if isinstance(item, FieldSpec):
                leaf = _Leaf(
                    name,
                    sub,
                    item.normalizer(),
                    item.required,
                    item.description,
                    item.kind in CONTACT_KINDS,
                    item.keeps_invalid,
                    item.pii,
                )
                children.append(leaf)
                required += [leaf] if leaf.required else []
            else:
                group = build(name, sub, item)
                children.append(group)
                required += group.required_leaves
        return _Group(key, path, tuple(children), tuple(required))

    return build("", "", tree)


def _masked(value: Any) -> str:
    """A personal value as a refusal message may show it, as the logs do: ``'j***@gmail'``,
    ``'***0142'``, ``'J***'``."""
    text = str(value).strip()
    digits = [c for c in text if c.isdigit()]
    if "@" in text:
        shown = f"{text[:1]}***@{text.rsplit('@', 1)[1][:40]}"
    elif len(digits) >= 4 and len(digits) * 2 >= len(text):
        shown = "***" + "".join(digits[-4:])
    else:
        shown = f"{text[:1]}***" if text else ""
    return f"'{printable(shown)}'"


def _refusal(leaf: _Leaf, value: Any, problem: InvalidValue) -> Issue:
    """The issue for a refused value; a personal one is never repeated in full."""
    if not leaf.pii or isinstance(value, bool) or value is None:
        return problem.issue(leaf.path)
    shown = show(value)
    if shown in problem.reason:
        return Issue(problem.code, f"{leaf.path}: {problem.reason.replace(shown, _masked(value))}")
    return Issue(problem.code, f"{leaf.path}: {problem.plain or 'the value is not valid'}")


def _long_values(doc: Any, path: str, out: list[Issue], depth: int = 0) -> None:
    """An LP109 issue for every text longer than :data:`MAX_VALUE_CHARS` anywhere in the lead."""
    if isinstance(doc, str):
        if len(doc) > MAX_VALUE_CHARS:
            out.append(
                Issue(
                    "LP109",
                    f"{path or 'the lead'}: the value is {len(doc):,} characters long; at most"
                    f" {MAX_VALUE_CHARS:,} are allowed",
                )
            )
    elif isinstance(doc, dict) and depth < 100:
        for key, value in doc.items():
            _long_values(value, f"{path}.{key}" if path else str(key), out, depth + 1)
    elif isinstance(doc, list) and depth < 100:
        for i, value in enumerate(doc):
            _long_values(value, f"{path}[{i}]", out, depth + 1)


def _missing(leaf: _Leaf, what: str) -> Issue:
    about = f" ({leaf.description})" if leaf.description else ""
    return Issue("LP501", f"{leaf.path}: this required field is {what}{about}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_group(
    group: _Group, obj: dict[Any, Any], issues: list[Issue], marks: dict[str, Any]
) -> dict[Any, Any]:
    out = dict(obj)
    for child in group.children:
        present = child.key in obj
        value = obj.get(child.key)
        if isinstance(child, _Leaf):
            if _blank(value):
                out.pop(child.key, None)
                if child.required:
                    issues.append(_missing(child, "empty" if present else "missing"))
                continue
            try:
                out[child.key] = child.normalize(value)
            except InvalidValue as problem:
                if problem.kept is None or not child.keeps_invalid:
                    issues.append(_refusal(child, value, problem))
                    continue
                out[child.key] = problem.kept
                marks[child.path] = invalid_entry(problem.plain)
                continue
            if child.contact:
                marks[child.path] = valid_entry()
        elif value is None:
            out.pop(child.key, None)
            issues.extend(_missing(leaf, "missing") for leaf in child.required_leaves)
        elif isinstance(value, dict):
            out[child.key] = _check_group(child, value, issues, marks)
        else:
            names = ", ".join(c.key for c in child.children)
            issues.append(
                Issue(
                    "LP502",
                    f"{child.path}: must be an object holding {names}, not {show(value)}",
                )
            )
    return out


def validate_lead(schema: LeadSchema, doc: Any) -> dict[str, Any]:
    """The normalized lead: a new nested dict, declared fields normalized, other fields kept.

    Declared optional fields that are null or blank are left out. A phone or email field not
    marked ``required_valid`` keeps an invalid value and records it under ``validity`` (which
    leadpost alone writes: a ``validity`` the lead carried is replaced). Raises LeadError listing
    every problem, one Issue per field, each message starting with the field's dotted path.
    """
    if not isinstance(doc, dict):
        raise LeadError(
            [Issue("LP502", f"the lead must be a JSON object {{...}}, not {show(doc)}")]
        )
    issues: list[Issue] = []
    _long_values(doc, "", issues)
    if issues:
        raise LeadError(issues)
    marks: dict[str, Any] = {}
    out = _check_group(schema._root, doc, issues, marks)
    if issues:
        raise LeadError(issues)
    out.pop(VALIDITY, None)
    if marks:
        out[VALIDITY] = marks
    return out


class _Refused(ValueError):
    """Raised by the parse hooks for JSON that Python would accept but a lead must not have."""


def lead_timestamp(lead: Mapping[str, Any]) -> datetime:
    """When the consumer submitted the lead (timezone-aware): the "as of" time of its fields.
    Raises LeadError when the lead has none or it has no time zone."""
    try:
        moment = datetime.fromisoformat(str(lead.get("timestamp")))
    except ValueError:
        missing = "timestamp: required field missing; write it like 2024-12-15T14:30:00Z"
        raise LeadError([Issue("LP501", missing)]) from None
    if moment.tzinfo is None:
        raise LeadError([Issue("LP507", "timestamp: add a time zone, e.g. 2024-12-15T14:30:00Z")])
    return moment


def _reject_constant(name: str) -> Any:
    raise _Refused(f"{name} is not allowed; send a number or null")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key '{key}' appears twice in one object; keep only one")
        out[key] = value
    return out


def parse_lead_json(text: str | bytes) -> dict[str, Any]:
    """Parse a lead sent as JSON text; LeadError LP512 says where the text is broken."""
    if isinstance(text, str) and text.startswith("\ufeff"):
        text = text[1:]
    if len(text) > MAX_LEAD_BYTES:
        raise LeadError(
            [
                Issue(
                    "LP109",
                    f"the lead is {len(text):,} characters long; at most"
                    f" {size_text(MAX_LEAD_BYTES)} are allowed",
                )
            ]
        )
    try:
        doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        msg = exc.msg[:1].lower() + exc.msg[1:]
        raise LeadError(
            [
                Issue(
                    "LP512",
                    f"the lead is not valid JSON: {msg} at line {exc.lineno}, column {exc.colno}",
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise LeadError(
            [Issue("LP512", "the lead is not valid JSON: it is not UTF-8 text")]
        ) from None
    except RecursionError:
        raise LeadError(
            [Issue("LP512", "the lead is not valid JSON: it is nested too deeply")]
        ) from None
    except _Refused as exc:
        raise LeadError([Issue("LP512", f"the lead is not valid JSON: {exc}")]) from None
    except ValueError:
        raise LeadError(
            [Issue("LP512", "the lead is not valid JSON: a number in it is too long")]
        ) from None
    if not isinstance(doc, dict):
        raise LeadError(
            [Issue("LP512", f"the lead must be a JSON object {{...}}, not {show(doc)}")]
        )
    return doc

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

#: The lead-schema type of a list: of values (``of: phone``) or of objects (fields inside it).
LIST = "list"


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
    of: str | None = None
    """A list of values (``kind == "list"``): the items' type. None for a list of objects,
    whose item fields are declared inside it (``lead.drivers.first_name``)."""
    min_items: int | None = None
    """A list: the fewest items a lead may carry (None: no bound)."""
    max_items: int | None = None
    """A list: the most items a lead may carry (None: no bound)."""

    @property
    def is_list(self) -> bool:
        return self.kind == LIST

    @property
    def keeps_invalid(self) -> bool:
        """True when an invalid value is kept and recorded under ``validity``, not refused."""
        return self.item_kind in CONTACT_KINDS and not self.required_valid

    @property
    def item_kind(self) -> str:
        """The type of one value: the field's own, or its items' for a list of values."""
        return self.of if self.kind == LIST and self.of is not None else self.kind

    def normalizer(self) -> Normalizer:
        """The function normalizing this field's values (one item's, for a list of values)."""
        kind = self.item_kind
        base = enum_normalizer(self.values) if kind == "enum" else NORMALIZERS[kind]
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
    children: tuple[_Leaf | _Group | _List, ...]
    required_leaves: tuple[_Leaf | _List, ...]
    """Every required field below this object, reported one by one when the object is absent."""


@dataclass(frozen=True, slots=True)
class _List:
    key: str
    path: str
    item: _Leaf | _Group
    """One item: a value (a list of values) or an object (a list of objects)."""
    required: bool
    description: str
    min_items: int | None = None
    max_items: int | None = None


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
    list_paths: frozenset[str] = field(init=False)
    """Declared lists (``lead.drivers``): a field inside one is read once per item."""
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
        contact = frozenset(
            p for p, s in fields.items() if s.kind in CONTACT_KINDS and not self._in_list(p, fields)
        )
        object.__setattr__(self, "contact_fields", contact)
        object.__setattr__(self, "list_paths", frozenset(p for p, s in fields.items() if s.is_list))
        object.__setattr__(self, "_root", _compile(fields))

    @staticmethod
    def _in_list(path: str, fields: Mapping[str, FieldSpec]) -> bool:
        return any(a in fields and fields[a].is_list for a in _ancestors(path))

    def list_of(self, path: str) -> str | None:
        """The innermost declared list ``path`` is in or is (``lead.drivers`` for
        ``lead.drivers.dob``), or None."""
        for candidate in [path, *reversed(_ancestors(path))]:
            if candidate in self.list_paths:
                return candidate
        return None

    def enum_values(self, path: str) -> tuple[str, ...] | None:
        """The choices of an enum field, or None when ``path`` is not a declared enum field."""
        spec = self.fields.get(path)
        return spec.values if spec is not None and spec.item_kind == "enum" else None

    def is_pii(self, path: str) -> bool:
        """True when reading ``path`` exposes PII: it is a PII field or an object holding one."""
        prefix = path + "."
        return path in self.pii_fields or any(p.startswith(prefix) for p in self.pii_fields)


def _ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _check_declaration(path: str, spec: FieldSpec, fields: Mapping[str, FieldSpec]) -> None:
    """Programming errors only: the YAML loader reports these with positions before building."""
    kind = spec.item_kind
    if kind != "enum" and kind not in NORMALIZERS and not (spec.is_list and spec.of is None):
        raise ValueError(f"field {path!r} has unknown type {spec.kind!r}")
    if (kind == "enum") != bool(spec.values):
        raise ValueError(f"field {path!r}: choices are required for enum fields and only there")
    if not all(path.split(".")):
        raise ValueError(f"field path {path!r} has an empty part")
    clash = next((a for a in _ancestors(path) if _holds_value(fields.get(a))), None)
    if clash is not None:
        raise ValueError(f"field {clash!r} is declared as a value but {path!r} is inside it")


def _holds_value(spec: FieldSpec | None) -> bool:
    """True when ``spec`` is a single value (or a list of values): nothing may go inside it."""
    return spec is not None and not (spec.is_list and spec.of is None)


def _compile(fields: Mapping[str, FieldSpec]) -> _Group:
    """Build the tree of objects, lists and normalizers once, in declared order."""
    tree: dict[str, Any] = {}
    for path, spec in fields.items():
        *parents, key = path.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        if spec.is_list and spec.of is None:
            node.setdefault(key, {})[_ITEMS] = spec
        else:
            node[key] = spec

    def leaf(name: str, sub: str, item: FieldSpec) -> _Leaf:
        contact = item.item_kind in CONTACT_KINDS
        return _Leaf(
            name, sub, item.normalizer(), item.required, item.description, contact,
            item.keeps_invalid, item.pii,
        )  # fmt: skip

    def listed(name: str, sub: str, spec: FieldSpec, item: _Leaf | _Group) -> _List:
        return _List(
            name, sub, item, spec.required, spec.description, spec.min_items, spec.max_items
        )

    def build(key: str, path: str, node: dict[str, Any]) -> _Group:
        children: list[_Leaf | _Group | _List] = []
        required: list[_Leaf | _List] = []
        for name, item in node.items():
            if name == _ITEMS:
                continue
            sub = f"{path}.{name}" if path else name
            child: _Leaf | _Group | _List
            if isinstance(item, FieldSpec) and item.is_list:
                child = listed(name, sub, item, leaf(name, sub, item))
            elif isinstance(item, FieldSpec):
                child = leaf(name, sub, item)
            elif _ITEMS in item:
                child = listed(name, sub, item[_ITEMS], build(name, sub, item))
            else:
                child = build(name, sub, item)
            children.append(child)
            if isinstance(child, _Group):
                required += child.required_leaves
            elif child.required:
                required.append(child)
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


def _refusal(leaf: _Leaf, value: Any, problem: InvalidValue, path: str) -> Issue:
    """The issue for a refused value at ``path``; a personal one is never repeated in full."""
    if not leaf.pii or isinstance(value, bool) or value is None:
        return problem.issue(path)
    shown = show(value)
    if shown in problem.reason:
        return Issue(problem.code, f"{path}: {problem.reason.replace(shown, _masked(value))}")
    return Issue(problem.code, f"{path}: {problem.plain or 'the value is not valid'}")


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


#: Where a list of objects keeps its own declaration in the tree ``_compile`` builds.
_ITEMS = "\x00items"


def _missing(path: str, what: str, description: str) -> Issue:
    about = f" ({description})" if description else ""
    return Issue("LP501", f"{path}: this required field is {what}{about}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check_group(
    group: _Group, obj: dict[Any, Any], issues: list[Issue], marks: dict[str, Any], where: str
) -> dict[Any, Any]:
    """``obj`` checked against ``group``; ``where`` is its path in this lead (list positions
    included, e.g. ``lead.drivers[1]``), which every message starts with."""
    out = dict(obj)
    for child in group.children:
        present = child.key in obj
        value = obj.get(child.key)
        path = _at(where, child.key)
        if isinstance(child, _Leaf):
            if _blank(value):
                out.pop(child.key, None)
                if child.required:
                    what = "empty" if present else "missing"
                    issues.append(_missing(path, what, child.description))
                continue
            normalized = _check_leaf(child, value, path, issues, marks)
            if normalized is not _NOTHING:
                out[child.key] = normalized
        elif isinstance(child, _List):
            if _blank(value):
                out.pop(child.key, None)
                if child.required:
                    what = "empty" if present and value is not None else "missing"
                    issues.append(_missing(path, what, child.description))
                continue
            out[child.key] = _check_list(child, value, path, issues, marks)
        elif value is None:
            out.pop(child.key, None)
            issues.extend(
                _missing(_at(path, r.path[len(child.path) + 1 :]), "missing", r.description)
                for r in child.required_leaves
            )
        elif isinstance(value, dict):
            out[child.key] = _check_group(child, value, issues, marks, path)
        else:
            names = ", ".join(c.key for c in child.children)
            issues.append(
                Issue("LP502", f"{path}: must be an object holding {names}, not {show(value)}")
            )
    return out


_NOTHING: Any = object()


def _check_leaf(
    leaf: _Leaf, value: Any, path: str, issues: list[Issue], marks: dict[str, Any]
) -> Any:
    """The normalized value, or _NOTHING after recording its problem."""
    try:
        normalized = leaf.normalize(value)
    except InvalidValue as problem:
        if problem.kept is None or not leaf.keeps_invalid:
            issues.append(_refusal(leaf, value, problem, path))
            return _NOTHING
        marks[path] = invalid_entry(problem.plain)
        return problem.kept
    if leaf.contact:
        marks[path] = valid_entry()
    return normalized


def _check_list(
    spec: _List, value: Any, path: str, issues: list[Issue], marks: dict[str, Any]
) -> list[Any]:
    """Each item checked (``lead.drivers[0].first_name``: positions count from 0), and the
    number of items kept within ``min_items``/``max_items``."""
    item = spec.item
    if not isinstance(value, list):
        what = "objects" if isinstance(item, _Group) else "values"
        issues.append(Issue("LP502", f"{path}: must be a list [...] of {what}, not {show(value)}"))
        return []
    count = len(value)
    if spec.required and count == 0:
        issues.append(_missing(path, "an empty list", spec.description))
    elif spec.min_items is not None and count < spec.min_items:
        issues.append(
            Issue("LP514", f"{path}: has {count} items, fewer than the {spec.min_items} required")
        )
    if spec.max_items is not None and count > spec.max_items:
        issues.append(
            Issue("LP514", f"{path}: has {count} items, more than the {spec.max_items} allowed")
        )
    out: list[Any] = []
    for i, entry in enumerate(value):
        here = f"{path}[{i}]"
        if isinstance(item, _Group):
            if isinstance(entry, dict):
                out.append(_check_group(item, entry, issues, marks, here))
            else:
                names = ", ".join(c.key for c in item.children)
                issues.append(
                    Issue("LP502", f"{here}: must be an object holding {names}, not {show(entry)}")
                )
        elif _blank(entry):
            issues.append(Issue("LP501", f"{here}: an item of this list is empty"))
        else:
            normalized = _check_leaf(item, entry, here, issues, marks)
            if normalized is not _NOTHING:
                out.append(normalized)
    return out


def validate_lead(schema: LeadSchema, doc: Any) -> dict[str, Any]:
    """The normalized lead: a new nested dict, declared fields normalized, other fields kept.

    Declared optional fields that are null or blank are left out. A phone or email field not
    marked ``required_valid`` keeps an invalid value and records it under ``validity`` (which
    leadpost alone writes: a ``validity`` the lead carried is replaced). Raises LeadError listing
    every problem, one Issue per field, each message starting with the field's dotted path (with
    list positions: ``lead.drivers[1].dob``).
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
    out = _check_group(schema._root, doc, issues, marks, "")
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

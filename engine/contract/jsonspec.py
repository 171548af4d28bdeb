"""JSON Schema specs (also the schemas inside OpenAPI): properties flattened, bodies validated.

The schema is validated with jsonschema (draft 2020-12 unless it names another ``$schema``) with
format checking on. Each error becomes a :class:`Violation` with the payload path, the rule, a
plain-English message and ``where``: the file and JSON pointer of the keyword that failed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing.exceptions import Unresolvable

from engine.contract.messages import describe_error
from engine.contract.model import PayloadPath, Property, Violation
from engine.contract.paths import PayloadShape, document, form_pairs
from engine.patterns import Pattern, PatternError, compile_pattern

#: At most this many violations are reported for one body.
MAX_VIOLATIONS = 50
_MAX_DEPTH = 40


def escape(token: str | int) -> str:
    """One JSON pointer token: ``/`` and ``~`` escaped."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointers(node: Any, at: str = "") -> dict[int, str]:
    """The JSON pointer of every object and list in a document, by identity."""
    found: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(node, at)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            found[id(item)] = where
            stack.extend((v, f"{where}/{escape(k)}") for k, v in item.items())
        elif isinstance(item, list):
            found[id(item)] = where
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(item))
    return found


def resolve(root: Any, ref: str) -> Any:
    """The target of a local ``$ref`` (``#/components/schemas/Lead``); None if it has none."""
    if not ref.startswith("#"):
        return None
    node = root
    for raw in ref[1:].split("/")[1:] if ref != "#" else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def outside_refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` that points outside the document (another file or an address)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                yield ref
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _types(schema: Mapping[str, Any]) -> frozenset[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(k for k in kind if isinstance(k, str))
    return frozenset()


class _Flattener:
    """Walks a schema collecting every property by payload path."""

    def __init__(self, root: Any, source: str, ids: dict[int, str]) -> None:
        self.root = root
        self.source = source
        self.ids = ids
        self.props: dict[PayloadPath, Property] = {}
        self.closed: set[PayloadPath] = set()

    def where(self, schema: Any) -> str:
        return f"{self.source}#{self.ids.get(id(schema), '')}"

    def walk(self, schema: Any, path: PayloadPath, required: bool, depth: int = 0) -> None:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = resolve(self.root, ref)
            self.walk(target, path, required, depth + 1)
        for sub in schema.get("allOf", []) if isinstance(schema.get("allOf"), list) else []:
            self.walk(sub, path, required, depth + 1)
        for word in ("anyOf", "oneOf"):
            branches = schema.get(word)
            if isinstance(branches, list):
                for sub in branches:
                    self.walk(sub, path, False, depth + 1)
                self.closed.discard(path)
        if path:
            self.record(schema, path, required)
        props = schema.get("properties")
        listed = schema.get("required")
        needed: list[Any] = listed if isinstance(listed, list) else []
        if isinstance(props, dict):
            for name, sub in props.items():
                self.walk(sub, (*path, str(name)), name in needed, depth + 1)
        shut = False in (schema.get("additionalProperties"), schema.get("unevaluatedProperties"))
        if shut and not any(isinstance(schema.get(w), list) for w in ("anyOf", "oneOf")):
            self.closed.add(path)
        items = schema.get("items")
        if isinstance(items, dict):
            self.walk(items, (*path, 0), True, depth + 1)

    def record(self, schema: dict[str, Any], path: PayloadPath, required: bool) -> None:
        """Merge what this (sub)schema says about the property at ``path``."""
        types = _types(schema)
        if not types and isinstance(schema.get("properties"), dict):
            types = frozenset({"object"})
        enum: tuple[Any, ...] | None = None
        if isinstance(schema.get("enum"), list):
            enum = tuple(schema["enum"])
        elif "const" in schema:
            enum = (schema["const"],)
        pattern = schema.get("pattern") if isinstance(schema.get("pattern"), str) else None
        new = Property(
            path=path,
            types=types,
            required=required,
            enum=enum,
            max_length=_int(schema.get("maxLength")),
            min_length=_int(schema.get("minLength")),
            pattern=pattern,
            format=schema.get("format") if isinstance(schema.get("format"), str) else None,
            where=self.where(schema),
            regex=pattern,
            max_items=_int(schema.get("maxItems")),
        )
        old = self.props.get(path)
        self.props[path] = new if old is None else _merge(old, new)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _merge(old: Property, new: Property) -> Property:
    """Two subschemas about one property (``allOf``, a ``$ref`` with siblings): both apply."""
    types = old.types & new.types if old.types and new.types else old.types or new.types
    lengths = [x for x in (old.max_length, new.max_length) if x is not None]
    return Property(
        path=old.path,
        types=types,
        required=old.required or new.required,
        enum=old.enum if old.enum is not None else new.enum,
        max_length=min(lengths) if lengths else None,
        min_length=old.min_length if old.min_length is not None else new.min_length,
        pattern=old.pattern or new.pattern,
        format=old.format or new.format,
        where=new.where if new.enum or new.max_length or new.pattern else old.where,
        regex=old.regex or new.regex,
    )


def flatten(
    root: Any, entry: Any, source: str, ids: dict[int, str]
) -> tuple[dict[PayloadPath, Property], frozenset[PayloadPath]]:
    """Every property below ``entry`` (a schema inside ``root``) and the closed objects."""
    walker = _Flattener(root, source, ids)
    walker.walk(entry, (), True)
    return walker.props, frozenset(walker.closed)


# -- validating a body -----------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?\d{1,30}")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")


def coerce(text: str, types: frozenset[str]) -> Any:
    """A form value as the type the schema declares, when the text reads as one."""
    if not types or "string" in types:
        return text
    if "integer" in types and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in types and len(text) <= 40 and _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "null" in types and text == "":
        return None
    return text


@functools.lru_cache(maxsize=256)
def _spec_pattern(pattern: str) -> Pattern | None:
    try:
        return compile_pattern(pattern)
    except PatternError:
        return None


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's ``pattern`` keyword matched with RE2 (jsonschema's own uses ``re``, which a
    hostile spec could make backtrack for minutes). A pattern RE2 refuses checks nothing: the
    spec's own check (LP707) says which patterns are not followed."""
    if not validator.is_type(instance, "string"):
        return
    regex = _spec_pattern(pattern)
    if regex is not None and not regex.search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def json_validator(
    root: Any,
    ids: dict[int, str],
    source: str,
    shape: PayloadShape,
    props: Mapping[PayloadPath, Property],
) -> Callable[[bytes], list[Violation]]:
    """The ``validate`` function of a JSON or form payload against ``root``."""
    cls = validators.validator_for(root, default=Draft202012Validator)
    cls = validators.extend(cls, {"pattern": _re2_pattern})  # type: ignore[no-untyped-call]
    checker = cls(root, format_checker=cls.FORMAT_CHECKER)

    def validate(body: bytes) -> list[Violation]:
        data = document(shape, body)
        if data is None:
            return [Violation((), "form field", f"the form has no field '{shape.wrapped}'", source)]
        instance: Any
        if shape.format == "json":
            try:
                instance = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                return [Violation((), "JSON", f"the body is not valid JSON: {exc}", source)]
        else:
            instance = {}
            for name, raw in form_pairs(data):
                text = raw.decode("utf-8", "replace")
                prop = props.get((name,))
                instance[name] = coerce(text, prop.types if prop else frozenset())
        out: list[Violation] = []
        try:
            for error in checker.iter_errors(instance):
                out += _violations(error, ids, source)
                if len(out) >= MAX_VIOLATIONS:
                    break
        except (Unresolvable, RecursionError) as exc:
            out.append(Violation((), "$ref", f"the spec cannot be followed: {exc}", source))
        return out[:MAX_VIOLATIONS]

    return validate


def _violations(error: ValidationError, ids: dict[int, str], source: str) -> list[Violation]:
    if error.context:
        error = best_match(error.context)
    path: PayloadPath = tuple(error.absolute_path)
    pointer = ids.get(id(error.schema), "")
    where = f"{source}#{pointer}/{escape(str(error.validator))}"
    return [Violation(p, rule, message, where) for p, rule, message in describe_error(error, path)]

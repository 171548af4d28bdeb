"""Validate loaded YAML against pydantic models; turn validation errors into positioned issues."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from engine.dsl.loader import Document, SourceMap, YamlPath
from engine.dsl.suggest import hint_for
from engine.errors import AuthoringError, Issue, raise_if_errors

M = TypeVar("M", bound=BaseModel)
Schema = Mapping[str, Any]

_MAPPING = "a mapping (one 'key: value' per line)"
_LIST = "a list (one '- item' per line)"
#: What each pydantic type error expected, in words (LP203).
EXPECTED: dict[str, str] = {
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "a whole number"),
    **dict.fromkeys(("float_parsing", "float_type"), "a number"),
    **dict.fromkeys(("decimal_parsing", "decimal_type"), "a decimal number"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "true or false"),
    **dict.fromkeys(("string_type", "string_unicode", "bytes_type"), "text"),
    **dict.fromkeys(
        ("dict_type", "model_type", "model_attributes_type", "dataclass_type", "mapping_type"),
        _MAPPING,
    ),
    **dict.fromkeys(
        ("list_type", "tuple_type", "set_type", "frozen_set_type", "iterable_type"), _LIST
    ),
    **dict.fromkeys(
        ("date_parsing", "date_type", "date_from_datetime_parsing"), "a date like 2024-01-31"
    ),
    **dict.fromkeys(
        ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"),
        "a date and time like 2024-01-31T09:30:00",
    ),
    **dict.fromkeys(("time_parsing", "time_type"), "a time of day like 09:30"),
    **dict.fromkeys(("time_delta_parsing", "time_delta_type"), "a duration"),
    **dict.fromkeys(("url_parsing", "url_type", "url_scheme"), "a web address like https://x.com"),
    **dict.fromkeys(("uuid_parsing", "uuid_type"), "a UUID"),
    "none_required": "no value",
}
#: Constraint errors (LP204): message template filled from the error's context.
CONSTRAINTS: dict[str, str] = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "string_too_short": "must be at least {min_length} characters long",
    "string_too_long": "must be at most {max_length} characters long",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "string_pattern_mismatch": "does not match the pattern {pattern}",
    "decimal_max_digits": "must have at most {max_digits} digits",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "decimal_whole_digits": "must have at most {whole_digits} digits before the point",
}
_CHOICE_ERRORS = frozenset({"literal_error", "enum"})
_MISSING = frozenset({"missing", "missing_argument", "missing_keyword_only_argument"})
_EXTRA = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
_WRAPPERS = ("default", "nullable", "function-after", "function-before", "function-wrap")


def validate(model: type[M], doc: Document, at: YamlPath = ()) -> tuple[M | None, list[Issue]]:
    """Validate the data at path ``at`` of ``doc``; the model, or None and every issue found."""
    try:
        return model.model_validate(_subtree(doc.data, at)), []
    except ValidationError as exc:
        return None, translate(exc.errors(include_url=False), model, doc, at)


def validate_or_raise(model: type[M], doc: Document, at: YamlPath = ()) -> M:
    """Like :func:`validate`, but raise one AuthoringError listing every issue."""
    result, issues = validate(model, doc, at)
    if result is None:
        raise AuthoringError(issues, doc.source.text)
    return result


def raise_for(issues: Iterable[Issue], doc: Document) -> None:
    """Raise an AuthoringError carrying ``issues`` (with the file text) if any is an error."""
    raise_if_errors(issues, doc.source.text)


def translate(
    errors: Sequence[ErrorDetails], model: type[BaseModel], doc: Document, at: YamlPath = ()
) -> list[Issue]:
    """Turn pydantic errors for ``model`` into issues: positioned, friendly, one per problem."""
    root, refs = _schema_of(model)
    data = _subtree(doc.data, at)
    located = [(err, _locate(err["loc"], root, refs, data)) for err in errors]
    issues: list[Issue] = []
    kept = _collapse_unions(located, issues, doc.source, at)
    issues += [_issue(err, where, doc.source, at, doc.data) for err, where in kept]
    unique = {(i.code, i.message, i.span, i.hint): i for i in issues}
    return sorted(unique.values(), key=lambda i: (i.span.line, i.span.col) if i.span else (0, 0))


@dataclass(slots=True)
class _Where:
    """Where one error's ``loc`` lands in the data and in the schema."""

    path: tuple[str | int, ...] = ()  # the deepest node of the data along the loc
    found: bool = True  # the whole loc exists in the data
    value: Any = None  # the data at ``path``
    schema: Schema | None = None  # the schema at the end of the loc
    fields: list[str] | None = None  # allowed keys of the mapping holding the last segment
    unions: list[tuple[tuple[Any, ...], str]] = field(default_factory=list)  # (loc prefix, label)
    on_key: bool = False  # the error is about a mapping key, not its value


def _locate(loc: tuple[Any, ...], root: Schema, refs: Mapping[str, Schema], data: Any) -> _Where:
    """Follow ``loc`` through the schema (to skip union labels) and through the data."""
    where = _Where(value=data)
    schema: Schema | None = root
    container: Schema | None = None  # the schema holding the current step (for "[key]")
    for index, step in enumerate(loc):
        if step == "[key]":  # the error is about the mapping key just stepped over
            where.on_key = True
            schema = container.get("keys_schema") if container is not None else None
            continue
        current = _unwrap(schema, refs)
        kind = current.get("type") if current is not None else None
        if kind == "tagged-union" and current is not None:
            schema = _tagged_choice(current, step)
            continue
        if kind == "union" and current is not None:
            where.unions.append((tuple(loc[:index]), str(step)))
            schema = _union_member(current, step, refs)
            continue
        container, schema = current, _step_schema(current, step, where)
        if where.found:
            where.found, child = _child(where.value, step)
            if where.found:
                where.path, where.value = (*where.path, step), child
    where.schema = _unwrap(schema, refs)
    return where


def _step_schema(current: Schema | None, step: Any, where: _Where) -> Schema | None:
    """The schema one data step (a key or an index) below ``current``; notes allowed keys."""
    if current is None:
        return None
    kind = current.get("type")
    if kind in ("model-fields", "typed-dict-fields"):
        fields: Mapping[str, Schema] = current.get("fields", {})
        names = {_alias(name, spec): name for name, spec in fields.items()}
        where.fields = list(names)
        spec = fields.get(names.get(str(step), ""))
        return spec.get("schema") if spec is not None else None
    if kind == "dataclass-args":
        args: list[Schema] = current.get("fields", [])
        where.fields = [_alias(arg["name"], arg) for arg in args]
        return next((a.get("schema") for a in args if _alias(a["name"], a) == step), None)
    if kind in ("list", "set", "frozenset", "generator"):
        return current.get("items_schema")
    if kind == "tuple" and isinstance(step, int):
        items: list[Schema] = current.get("items_schema", [])
        return items[min(step, len(items) - 1)] if items else None
    if kind == "dict":
        return current.get("values_schema")
    return None


def _alias(name: str, spec: Schema) -> str:
    alias = spec.get("validation_alias")
    return alias if isinstance(alias, str) else name


def _tagged_choice(union: Schema, tag: Any) -> Schema | None:
    choices: Mapping[Any, Any] = union.get("choices", {})
    choice = choices.get(tag)
    while isinstance(choice, str | int) and choice in choices:  # older pydantic: tag aliases
        choice = choices[choice]
    return choice if isinstance(choice, Mapping) else None


def _union_member(union: Schema, label: Any, refs: Mapping[str, Schema]) -> Schema | None:
    for choice in union.get("choices", []):
        schema, custom = choice if isinstance(choice, tuple) else (choice, None)
        if custom == label:
            return schema  # type: ignore[no-any-return]
        plain = _unwrap(schema, refs, keep_model=True)
        kind = plain.get("type") if plain is not None else None
        cls = plain.get("cls") if plain is not None else None
        name = cls.__name__ if kind in ("model", "dataclass") and cls is not None else kind
        if custom is None and name in (label, str(label).split("[", 1)[0], _bare(str(label))):
            return schema  # type: ignore[no-any-return]
    return None


_VALIDATOR_LABEL = re.compile(r"function-[a-z]+\[[^,\[\]]*, (.*)\]")


def _bare(label: str) -> str:
    """A union label without the validators wrapped around the member:
    ``function-after[_one_source(), FieldSpec]`` -> ``FieldSpec``."""
    while (m := _VALIDATOR_LABEL.fullmatch(label)) is not None:
        label = m.group(1)
    return label


def _subtree(data: Any, at: YamlPath) -> Any:
    for step in at:
        data = _child(data, step)[1]
    return data


def _child(data: Any, step: Any) -> tuple[bool, Any]:
    if isinstance(data, dict) and isinstance(step, str) and step in data:
        return True, data[step]
    if isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
        return True, data[step]
    return False, None


@cache
def _schema_of(model: type[BaseModel]) -> tuple[Schema, dict[str, Schema]]:
    """The model's core schema and every named sub-schema in it (``definition-ref`` targets)."""
    schema: Schema = model.__pydantic_core_schema__
    refs: dict[str, Schema] = {}
    todo: list[Any] = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, Mapping):
            if isinstance(node.get("ref"), str) and "type" in node:
                refs.setdefault(node["ref"], node)
            todo.extend(node.values())
        elif isinstance(node, list | tuple):
            todo.extend(node)
    return schema, refs


def _unwrap(schema: Any, refs: Mapping[str, Schema], keep_model: bool = False) -> Schema | None:
    """Skip the schema layers that add nothing to an error's loc (defaults, validators, refs)."""
    for _ in range(100):
        if not isinstance(schema, Mapping):
            return None
        kind = schema.get("type")
        if kind == "definition-ref":
            schema = refs.get(schema.get("schema_ref", ""))
        elif kind in _WRAPPERS or kind == "definitions" or (kind == "model" and not keep_model):
            schema = schema.get("schema")
        elif kind == "lax-or-strict":
            schema = schema.get("lax_schema")
        elif kind == "json-or-python":
            schema = schema.get("python_schema")
        else:
            return schema
    return None


def _collapse_unions(
    located: list[tuple[ErrorDetails, _Where]], out: list[Issue], source: SourceMap, at: YamlPath
) -> list[tuple[ErrorDetails, _Where]]:
    """Keep one union member's errors per union (the closest fit), or merge them into one issue."""
    kept = list(located)
    for prefix in sorted({p for _, w in located for p, _ in w.unions}, key=len):
        groups: dict[str, list[tuple[ErrorDetails, _Where]]] = {}
        for item in kept:
            label = next((lab for p, lab in item[1].unions if p == prefix), None)
            if label is not None:
                groups.setdefault(label, []).append(item)
        if len(groups) < 2:
            continue
        shallow = {
            lab: all(_type_mismatch(e, prefix) for e, _ in its) for lab, its in groups.items()
        }
        if all(shallow.values()):
            keep_label = None
            out.append(_merged_issue([items[0] for items in groups.values()], source, at))
        else:
            keep_label = min(groups, key=lambda lab: (shallow[lab], len(groups[lab])))
        dropped = {id(e) for lab, its in groups.items() if lab != keep_label for e, _ in its}
        kept = [item for item in kept if id(item[0]) not in dropped]
    return kept


def _type_mismatch(err: ErrorDetails, prefix: tuple[Any, ...]) -> bool:
    """The union member rejected the value's kind outright (so it is not what the author meant)."""
    shallow = len(err["loc"]) == len(prefix) + 1
    return shallow and (err["type"] in EXPECTED or err["type"] in _CHOICE_ERRORS)


def _merged_issue(
    firsts: list[tuple[ErrorDetails, _Where]], source: SourceMap, at: YamlPath
) -> Issue:
    phrases: list[str] = []
    choices: list[str] = []
    for err, where in firsts:
        if err["type"] in _CHOICE_ERRORS:
            options = _choices(where.schema, err)
            choices += options
            phrase = f"'{options[0]}'" if len(options) == 1 else f"one of: {', '.join(options)}"
        else:
            phrase = EXPECTED[err["type"]]
        if phrase not in phrases:
            phrases.append(phrase)
    err, where = firsts[0]
    value = where.value if where.found else err.get("input")
    hint = hint_for(value, choices) if isinstance(value, str) else None
    span = source.at((*at, *where.path))
    return Issue("LP203", f"expected {' or '.join(phrases)}, got {_describe(value)}", span, hint)


def _comma_hint(source: SourceMap, path: YamlPath, key: str, data: Any) -> str | None:
    """The hint for ``{description: City, town}``: a comma inside ``{ }`` split a text in two,
    and the second half became an unknown key with no value."""
    parent = _subtree(data, path[:-1])
    if not isinstance(parent, dict) or parent.get(key) is not None:
        return None
    span = source.key_at(path)
    lines = source.text.splitlines()
    before_key = lines[span.line - 1][: span.col - 1] if 0 < span.line <= len(lines) else ""
    if not before_key.rstrip().endswith(","):
        return None
    keys = list(parent)
    before = keys[keys.index(key) - 1] if keys.index(key) > 0 else None
    value = parent.get(before) if before is not None else None
    if not isinstance(value, str):
        return "a comma inside { } starts a new entry: put text containing a comma in quotes"
    return f'a comma inside {{ }} starts a new entry: write {before}: "{value}, {key}"'


def _issue(
    err: ErrorDetails, where: _Where, source: SourceMap, at: YamlPath, doc_data: Any = None
) -> Issue:
    """One pydantic error in words, at the position of the value (or key) it is about."""
    kind, loc, ctx = err["type"], err["loc"], err.get("ctx", {})
    full = (*at, *where.path)
    value = where.value if where.found and not where.on_key else err.get("input")
    span = source.key_at(full) if where.on_key else source.at(full)
    if kind in _EXTRA:
        key = str(loc[-1]) if loc else ""
        allowed = where.fields or []
        listed = f"allowed keys here: {', '.join(allowed)}" if allowed else None
        hint = _comma_hint(source, full, key, doc_data) or hint_for(key, allowed) or listed
        return Issue("LP201", f"unknown key '{key}'", source.key_at(full), hint)
    if kind in _MISSING:
        return Issue("LP202", f"'{loc[-1] if loc else ''}' is required here", span)
    name = _discriminator(where.schema, ctx) if kind.startswith("union_tag_") else None
    if kind == "union_tag_not_found":
        choices = ", ".join(_choices(where.schema, err))
        if name is None:
            hint = f"it must be one of: {choices}"
            return Issue("LP202", "the kind of this entry is missing", span, hint)
        return Issue("LP202", f"'{name}' is required here", span, f"set it to one of: {choices}")
    if kind == "union_tag_invalid":
        value = ctx.get("tag")
        if name is not None and isinstance(where.value, dict) and name in where.value:
            span = source.at((*full, name))
    if kind in _CHOICE_ERRORS or kind == "union_tag_invalid":
        choices_list = _choices(where.schema, err)
        expected = ", ".join(choices_list)
        if not isinstance(value, str):
            return Issue("LP203", f"expected one of: {expected}, got {_describe(value)}", span)
        message = f"unknown choice '{value}' — expected one of: {expected}"
        return Issue("LP205", message, span, hint_for(value, choices_list))
    if kind in EXPECTED:
        return Issue("LP203", f"expected {EXPECTED[kind]}, got {_describe(value)}", span)
    if kind in ("value_error", "assertion_error"):
        return Issue("LP204", re.sub(r"^(Value error|Assertion failed), ", "", err["msg"]), span)
    if kind in CONSTRAINTS:
        try:
            text = CONSTRAINTS[kind].format(**ctx)
        except (KeyError, IndexError, ValueError):
            text = err["msg"]
        return Issue("LP204", f"{text}, got {_describe(value)}", span)
    return Issue("LP204", re.sub(r"^Input should be", "the value should be", err["msg"]), span)


def _discriminator(schema: Schema | None, ctx: Mapping[str, Any]) -> str | None:
    """The key that names the kind of a tagged-union entry (``format``); None if computed."""
    found = schema.get("discriminator") if schema is not None else None
    while isinstance(found, list) and found:  # alias paths: [["format"], ...]
        found = found[0]
    if isinstance(found, str):
        return found
    name = str(ctx.get("discriminator", "")).strip("'")
    return name if name and not name.endswith(")") else None


def _choices(schema: Schema | None, err: ErrorDetails) -> list[str]:
    """The allowed values at an error: from the schema, else from pydantic's own text."""
    kind = schema.get("type") if schema is not None else None
    if schema is not None and kind == "literal":
        return [str(v) for v in schema.get("expected", [])]
    if schema is not None and kind == "enum":
        return [str(getattr(m, "value", m)) for m in schema.get("members", [])]
    if schema is not None and kind == "tagged-union":
        return [str(k) for k, v in schema.get("choices", {}).items() if isinstance(v, Mapping)]
    ctx = err.get("ctx", {})
    text = str(ctx.get("expected", ctx.get("expected_tags", "")))
    return [a or b for a, b in re.findall(r"'([^']*)'|\"([^\"]*)\"", text)]


def _describe(value: Any) -> str:
    """A value as the author wrote it, for "got ..." in messages."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    first = text.splitlines()[0] if text.strip() else text
    if len(first) > 40 or first != text:
        first = first[:37] + "..."
    return f"'{first}'"

"""Plain-English words for spec rules: types, values, and each jsonschema error explained."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema.exceptions import ValidationError

from engine.contract.model import PayloadPath
from engine.words import show

#: How each JSON Schema type is named for people.
TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a group of fields",
    "array": "a list",
    "null": "empty (null)",
}


def types_text(types: Iterable[str]) -> str:
    """``{'integer', 'null'}`` -> ``a whole number or empty (null)``."""
    words = [TYPE_WORDS.get(t, t) for t in sorted(types)]
    return " or ".join(words) if words else "any value"


def choices_text(values: Iterable[Any], limit: int = 8) -> str:
    """``a, b, c`` (the first ``limit``, then …)."""
    shown = [show(v) for v in values]
    return ", ".join(shown[:limit]) + (", …" if len(shown) > limit else "")


def show_path(path: PayloadPath) -> str:
    """``("contact", "phones", 0, "number")`` -> ``contact.phones[0].number``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "the document"


def describe_error(error: ValidationError, path: PayloadPath) -> list[tuple[PayloadPath, str, str]]:
    """(path, rule, message) of each problem one jsonschema error stands for."""
    kind = str(error.validator)
    rule_value: Any = error.validator_value
    value = error.instance
    if kind == "required":
        missing = [p for p in rule_value if isinstance(value, dict) and p not in value]
        named = [p for p in missing if repr(p) in error.message] or missing[:1]
        return [
            ((*path, str(n)), "required", f"'{n}' is missing; the buyer requires it") for n in named
        ]
    if kind in ("additionalProperties", "unevaluatedProperties"):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = [k for k in value if k not in known] if isinstance(value, dict) else []
        return [
            ((*path, str(k)), kind, f"'{k}' is not a field the buyer's spec lists") for k in extra
        ] or [(path, kind, error.message)]
    simple = {
        "maxLength": f"{show(value)} is longer than {rule_value} characters",
        "minLength": f"{show(value)} is shorter than {rule_value} characters",
        "pattern": f"{show(value)} does not have the form the buyer expects",
        "enum": f"{show(value)} is not one of the buyer's choices: {_choices(rule_value)}",
        "const": f"{show(value)} should be exactly {show(rule_value)}",
        "type": f"{show(value)} should be {types_text(_list(rule_value))}",
        "format": f"{show(value)} is not a valid {rule_value}",
        "maximum": f"{show(value)} is more than {rule_value}",
        "minimum": f"{show(value)} is less than {rule_value}",
        "exclusiveMaximum": f"{show(value)} should be less than {rule_value}",
        "exclusiveMinimum": f"{show(value)} should be more than {rule_value}",
        "maxItems": f"the list has more than {rule_value} items",
        "minItems": f"the list has fewer than {rule_value} items",
    }
    message = simple.get(kind, error.message)
    if kind in ("enum", "const"):
        rule = kind
    elif kind == "type":
        rule = "type: " + "|".join(_list(rule_value))
    else:
        rule = f"{kind}: {rule_value}" if not isinstance(rule_value, dict | list) else kind
    return [(path, rule, message)]


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _choices(values: Any) -> str:
    return choices_text(values if isinstance(values, list) else [values])

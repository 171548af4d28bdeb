"""Properties: any text loads or fails cleanly; written data loads back; validation never raises."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from engine.dsl.issues import validate
from engine.dsl.loader import Document, load_yaml_text
from engine.errors import CODES, AuthoringError

FAST = settings()

#: Pieces of YAML syntax, so random text reaches the parser's corners, not just its first check.
YAML_PIECES = st.sampled_from(
    [*" \n\t:-?,[]{}&*!|>'\"%@`#~\\", "a", "b", "1", "key: ", "- ", "  ", "---", "...", "<<",
     "!!str ", "!x ", "%YAML 1.1\n", "%YAML 1.3\n", "%TAG ! x:\n", "null", "é", "\r\n", "\x00"]
)  # fmt: skip

SCALARS = st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_categories=["Cs"])))
KEYS = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"]))
TREES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


def loads_or_fails_cleanly(text: str) -> None:
    try:
        doc = load_yaml_text(text, "f.yaml")
    except AuthoringError as exc:
        assert exc.issues
        assert all(i.code in CODES and i.span is not None for i in exc.issues)
        assert all(i.span.file == "f.yaml" and i.span.line >= 1 for i in exc.issues if i.span)
        exc.report()
    else:
        assert isinstance(doc, Document)
        assert isinstance(doc.data, dict)


@FAST
@given(st.text())
def test_any_text_gives_a_document_or_our_error(text: str) -> None:
    """Arbitrary text never raises anything but AuthoringError with positioned issues."""
    loads_or_fails_cleanly(text)


@FAST
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_yaml_like_text_gives_a_document_or_our_error(text: str) -> None:
    """Text built from YAML syntax never raises anything but AuthoringError."""
    loads_or_fails_cleanly(text)


PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*( [A-Za-z0-9_.+-]+)*")
NULLS = {"null", "Null", "NULL", "~", ""}


def quote(text: str) -> str:
    """``text`` as a double-quoted YAML scalar, escaping what YAML would not read back as is."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code <= 0x7E or (0xA0 <= code <= 0xFFFD and char not in "\u2028\u2029\ufeff"):
            out.append(char)
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return value if PLAIN.fullmatch(value) and value not in NULLS else quote(value)


def emit(data: dict[str, Any] | list[Any], indent: int = 0) -> list[str]:
    """Block-style YAML lines for a non-empty mapping or list."""
    lines = []
    items = data.items() if isinstance(data, dict) else [(None, v) for v in data]
    for key, value in items:
        head = " " * indent + ("-" if key is None else scalar(key) + ":")
        if isinstance(value, dict | list) and value:
            lines += [head, *emit(value, indent + 2)]
        else:
            lines.append(f"{head} {scalar(value)}")
    return lines


def all_paths(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += all_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += all_paths(value, (*path, index))
    return found


@FAST
@given(st.dictionaries(KEYS, TREES, min_size=1, max_size=5))
def test_written_data_loads_back_with_every_position(data: dict[str, Any]) -> None:
    """Any tree of strings and nulls, written as YAML, loads back equal, each with a position."""
    doc = load_yaml_text("\n".join(emit(data)) + "\n", "f.yaml")
    assert doc.data == data
    for path in all_paths(data):
        assert path in doc.source.values
        if path and isinstance(path[-1], str):
            assert path in doc.source.keys


class Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(alias="type")
    size: int = 0


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    flag: bool = False
    parts: list[Leaf | str] = []
    extra: dict[str, int] | None = None


@FAST
@given(st.dictionaries(st.sampled_from(["name", "flag", "parts", "extra", "x"]), TREES, min_size=1))
def test_validation_gives_a_model_or_positioned_issues(data: dict[str, Any]) -> None:
    """Any data gives either the model and no issues, or no model and positioned issues."""
    doc = load_yaml_text("\n".join(emit(data)) + "\n", "f.yaml")
    model, issues = validate(Shape, doc)
    assert (model is None) == bool(issues)
    assert all(i.code in CODES and i.span is not None for i in issues)
    assert len({(i.code, i.message, i.span) for i in issues}) == len(issues)

"""Read a YAML file into plain data (every scalar kept as written) plus a map of its positions."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.reader import ReaderError

from engine.errors import AuthoringError, Issue
from engine.files import MAX_ENTRIES, MAX_YAML_BYTES, regular_file, size_text
from engine.positions import Span

YamlPath = tuple[str | int, ...]

MAX_BYTES = MAX_YAML_BYTES
MAX_DEPTH = 50
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where every value and every mapping key of a loaded file was written."""

    file: str
    text: str
    values: Mapping[YamlPath, Span] = field(default_factory=dict)
    keys: Mapping[YamlPath, Span] = field(default_factory=dict)

    def at(self, path: YamlPath) -> Span:
        """The span of the value at ``path``, else of its nearest known ancestor, else 1:1."""
        for end in range(len(path), -1, -1):
            span = self.values.get(tuple(path[:end]))
            if span is not None:
                return span
        return Span(self.file, 1, 1)

    def key_at(self, path: YamlPath) -> Span:
        """The span of the key of the mapping entry at ``path``, else the value span."""
        return self.keys.get(tuple(path)) or self.at(path)


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded file: a tree of dicts, lists, strings and None, with its source map."""

    data: Any
    source: SourceMap


def load_yaml(path: str | os.PathLike[str], display: str | None = None) -> Document:
    """Read and load the YAML file at ``path``; ``display`` names it in messages."""
    name = display if display is not None else os.fspath(path)
    try:
        regular_file(path)
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or "it could not be opened"
        issue = Issue("LP100", f"cannot read the file: {reason}", Span(name, 1, 1))
        raise AuthoringError([issue]) from exc
    if len(raw) > MAX_BYTES:
        raise AuthoringError([_too_large(name)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8-sig", "replace")
        line, col = before.count("\n") + 1, len(before) - before.rfind("\n")
        issue = Issue(
            "LP100",
            "the file is not UTF-8 text",
            Span(name, line, col),
            hint="save the file with UTF-8 encoding",
        )
        raise AuthoringError([issue]) from exc
    return load_yaml_text(text, name)


def load_yaml_text(text: str, file: str) -> Document:
    """Load YAML ``text``; raise one AuthoringError listing every problem found."""
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_BYTES // 4 and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise AuthoringError([_too_large(file)])
    builder = _Builder(file)
    try:
        for event in YAML(typ="safe", pure=True).parse(text):
            builder.feed(event)
    except _TooMany as exc:
        issue = Issue(
            "LP107",
            f"more than {MAX_ENTRIES:,} entries in one list or mapping",
            exc.span,
            hint="no buyer needs this many; split the file or remove repeated entries",
        )
        raise AuthoringError([issue], source=text) from None
    except _TooDeep as exc:
        issue = Issue(
            "LP101",
            f"the settings are nested more than {MAX_DEPTH} levels deep",
            exc.span,
            hint="flatten the structure",
        )
        raise AuthoringError([issue], source=text) from None
    except (YAMLError, AssertionError) as exc:
        issue = _syntax_issue(exc, file, text, builder.open_brackets())
        raise AuthoringError([issue], source=text) from exc
    issues = builder.finish()
    if issues:
        issues.sort(key=lambda i: (i.span.line, i.span.col) if i.span else (0, 0))
        raise AuthoringError(issues, source=text)
    values = MappingProxyType(builder.values)
    source = SourceMap(file, text, values, MappingProxyType(builder.keys))
    return Document(builder.root, source)


def _too_large(file: str) -> Issue:
    return Issue(
        "LP100",
        f"the file is larger than {size_text(MAX_BYTES)}",
        Span(file, 1, 1),
        hint="split it into smaller files",
    )


class _TooDeep(Exception):
    def __init__(self, span: Span) -> None:
        self.span = span


class _TooMany(_TooDeep):
    pass


_DISCARD = object()  # pending key whose value must be read but not kept


@dataclass(slots=True)
class _Frame:
    container: dict[str, Any] | list[Any] | None  # None: discarded (a bad key or duplicate)
    path: YamlPath
    is_key: bool = False
    flow: bool = False  # opened with '[' or '{'
    start: Span | None = None
    pending: Any = None  # mapping only: None, a (key, span) pair, or _DISCARD
    seen: dict[str, int] = field(default_factory=dict)


class _Builder:
    """Turns parser events into plain data, positions and structural issues."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.root: Any = None
        self.values: dict[YamlPath, Span] = {}
        self.keys: dict[YamlPath, Span] = {}
        self.issues: list[Issue] = []
        self.stack: list[_Frame] = []
        self.documents = 0

    def span(self, event: Event) -> Span:
        return Span(self.file, event.start_mark.line + 1, event.start_mark.column + 1)

    def issue(self, code: str, message: str, event: Event, hint: str | None = None) -> None:
        self.issues.append(Issue(code, message, self.span(event), hint))

    def feed(self, event: Event) -> None:
        if isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents == 2:
                self.issue(
                    "LP106",
                    "the file holds more than one YAML document",
                    event,
                    hint="keep one document per file: remove this '---' or the '...' above it",
                )
        elif self.documents > 1:
            return
        elif isinstance(event, NodeEvent):
            self.node(event)
        elif isinstance(event, CollectionEndEvent) and self.stack:
            self.close()

    def node(self, event: NodeEvent) -> None:
        if event.anchor is not None and not isinstance(event, AliasEvent):
            self.issue(
                "LP104",
                f"anchor '&{event.anchor}' is not allowed",
                event,
                hint="write the repeated settings out in full",
            )
        tag = event.tag if isinstance(event, ScalarEvent | CollectionStartEvent) else None
        plain_str = tag == _STR_TAG and isinstance(event, ScalarEvent)
        if tag is not None and not plain_str:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            self.issue("LP105", f"the YAML tag '{shown}' is not allowed", event, hint="remove it")
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.pending is None:
            self.key(top, event)
            return
        if isinstance(event, AliasEvent):
            self.alias(event)
            self.place(top, None, event)
        elif isinstance(event, ScalarEvent):
            is_null = event.style is None and event.value in _NULLS and not plain_str
            self.place(top, None if is_null else str(event.value), event)
        else:
            self.open(top, event, {} if isinstance(event, MappingStartEvent) else [])

    def alias(self, event: AliasEvent) -> None:
        self.issue(
            "LP104",
            f"alias '*{event.anchor}' is not allowed",
            event,
            hint="write the repeated settings out in full",
        )

    def key(self, top: _Frame, event: NodeEvent) -> None:
        if isinstance(event, AliasEvent):
            self.alias(event)
            top.pending = _DISCARD
        elif isinstance(event, ScalarEvent):
            text = str(event.value)
            span = self.span(event)
            if text == "<<" and event.style is None:
                self.issue(
                    "LP104",
                    "merge key '<<' is not allowed",
                    event,
                    hint="write the merged settings out in full",
                )
                top.pending = _DISCARD
            elif text in top.seen:
                self.issue(
                    "LP102",
                    f"duplicate key '{text}' (first written on line {top.seen[text]})",
                    event,
                    hint="keep only one of them",
                )
                top.pending = _DISCARD
            else:
                top.seen[text] = span.line
                top.pending = (text, span)
        else:
            self.issue(
                "LP203",
                "a key must be plain text, not a list or a mapping",
                event,
                hint="write the key as a single word",
            )
            self.push(_Frame(None, top.path, is_key=True), event)

    def place(self, top: _Frame | None, value: Any, event: Event) -> YamlPath | None:
        """Store ``value`` in the open container; return its path, or None if discarded."""
        if top is None:
            self.root = value
            path: YamlPath = ()
        elif top.container is None:
            return None
        elif len(top.container) >= MAX_ENTRIES:
            pending = top.pending if isinstance(top.pending, tuple) else None
            raise _TooMany(pending[1] if pending else self.span(event))
        elif isinstance(top.container, list):
            path = (*top.path, len(top.container))
            top.container.append(value)
        else:
            pending, top.pending = top.pending, None
            if pending is _DISCARD:
                return None
            key, key_span = pending
            path = (*top.path, key)
            top.container[key] = value
            self.keys[path] = key_span
        span = self.span(event)
        empty = isinstance(event, ScalarEvent) and event.style is None and event.value == ""
        if empty and path in self.keys:
            span = self.keys[path]
        self.values[path] = span
        return path

    def open(self, top: _Frame | None, event: Event, container: dict[str, Any] | list[Any]) -> None:
        path = self.place(top, container, event)
        frame = _Frame(container if path is not None else None, path or ())
        frame.flow, frame.start = bool(getattr(event, "flow_style", False)), self.span(event)
        self.push(frame, event)

    def push(self, frame: _Frame, event: Event) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise _TooDeep(self.span(event))
        self.stack.append(frame)

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.is_key:
            self.stack[-1].pending = _DISCARD

    def open_brackets(self) -> list[Span]:
        """Where the '[' and '{' still open were written (innermost last)."""
        return [f.start for f in self.stack if f.flow and f.start is not None]

    def finish(self) -> list[Issue]:
        if not isinstance(self.root, dict):
            if self.root is None:
                what = "the file is empty"
            elif isinstance(self.root, list):
                what = "the top level of the file must be 'key: value' lines, not a list"
            else:
                what = "the top level of the file must be 'key: value' lines, not a single value"
            first = self.values.get((), Span(self.file, 1, 1))
            hint = "write the settings as 'key: value' lines"
            self.issues.append(Issue("LP106", what, first, hint))
        return self.issues


_QUOTE_HINT = "put the value in quotes"
#: ruamel's problem text (a regex) -> our message and hint, first match wins.
_SYNTAX: dict[str, tuple[str, str]] = {
    r"mapping values are not allowed": (
        "a ': ' cannot appear in an unquoted value here",
        "put the value in quotes, or check this line's indentation",
    ),
    r"could not find expected ':'": (
        "this line is not a 'key: value' pair",
        "add ': ' after the key, or indent the line to continue the value above",
    ),
    r"expected <block end>, but found '<scalar>'|expected '<document start>'": (
        "unexpected text after a complete value",
        "put the whole value in quotes, or move the extra text to its own line",
    ),
    r"but found '[\]}]'": (
        "this closing bracket has no matching opening bracket",
        "remove it, or put the value in quotes",
    ),
    r"expected the node content": (
        "a value is missing here, or starts with a character that needs quotes",
        _QUOTE_HINT,
    ),
    r"expected alphabetic or numeric": ("'&', '*' and '!' must be followed by a name", _QUOTE_HINT),
    r"sequence entries are not allowed here": (
        "a '- ' list item cannot start on the same line as its key",
        "start the list on the next line, indented under the key",
    ),
    r"expected <block end>|did not find expected|expected <block mapping start>": (
        "this line is indented differently from the lines around it",
        "line up keys of the same mapping, and '- ' items of the same list, at one column",
    ),
    r"unexpected end of stream": ("a quote opened here is never closed", "add the closing quote"),
    r"unknown escape character": (
        "unknown escape sequence in double-quoted text",
        "use single quotes, or write a backslash as '\\\\'",
    ),
    r"expected ',' or '\]'": ("a '[' list is not closed", "close it with ']'"),
    r"expected ',' or '\}'": ("a '{' mapping is not closed", "close it with '}'"),
    r"cannot start any token": ("a value cannot start with this character", _QUOTE_HINT),
    r"undefined tag handle|expected URI": ("this YAML tag is not allowed", "remove it"),
    r"chomping or indentation": (
        "after '|' or '>' only '-', '+' or a digit may follow on that line",
        "start the text on the next line",
    ),
}
#: Problems better shown where the construct began (the opening quote, bracket or key).
_AT_START = ("could not find expected ':'", "unexpected end of stream", "expected ',' or")


def _syntax_issue(
    exc: YAMLError | AssertionError, file: str, text: str, brackets: list[Span]
) -> Issue:
    """Translate a parser failure into one LP101/LP103/LP105 issue with a plain message."""
    if isinstance(exc, ReaderError):
        pos = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "?"
        return Issue(
            "LP101",
            f"the file contains a character that YAML does not allow ({char})",
            Span(file, line, col),
            hint="remove it",
        )
    if not isinstance(exc, MarkedYAMLError):  # ruamel asserts on a %YAML version it cannot read
        line = next((n for n, t in enumerate(text.splitlines(), 1) if t.startswith("%")), 1)
        return Issue(
            "LP101",
            "this '%YAML' line names a version that cannot be read",
            Span(file, line, 1),
            hint="remove the '%YAML' line",
        )
    problem = str(exc.problem or exc.context or "")
    mark = exc.problem_mark or exc.context_mark
    message = f"this is not valid YAML ({problem})"
    hint = "check the quotes and the indentation here"
    for pattern, (known_message, known_hint) in _SYNTAX.items():
        if re.search(pattern, problem):
            message, hint = known_message, known_hint
            break
    if exc.context_mark is not None and any(p in problem for p in _AT_START):
        mark = exc.context_mark
    if "<stream end>" in problem and brackets:
        span = brackets[-1]
        lines = text.splitlines()
        opener = lines[span.line - 1][span.col - 1 : span.col] if span.line <= len(lines) else "["
        what, closer = ("a '{' mapping", "}") if opener == "{" else ("a '[' list", "]")
        return Issue("LP101", f"{what} is not closed", span, f"close it with '{closer}'")
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    lines = text.splitlines()
    current = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = current[: len(current) - len(current.lstrip(" \t"))]
    if "\t" in indent or "'\\t'" in problem or "tab" in problem.lower():
        return Issue(
            "LP103",
            "a tab character is used here; YAML allows only spaces for indentation and spacing",
            Span(file, line, indent.index("\t") + 1 if "\t" in indent else col),
            hint="indent with spaces",
        )
    code = "LP105" if "tag" in message else "LP101"
    return Issue(code, message, Span(file, line, col), hint)

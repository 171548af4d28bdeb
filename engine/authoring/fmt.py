"""``leadpost fmt``: rewrite buyer files in one canonical layout, keeping every comment.

The layout: keys in the order the models declare them (unknown keys after the known ones),
2-space indentation, list items indented under their key, quotes only where a reader or another
YAML tool could take the value for something else (``"NO"``, ``"012"``, ``"+15551234567"``), and
one final newline. Formatting never changes meaning: the result is loaded again and compared
with the original before anything is written.
"""

from __future__ import annotations

import io
import itertools
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.compat import ordereddict
from ruamel.yaml.error import CommentMark
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString, ScalarString
from ruamel.yaml.tokens import CommentToken

from engine.dsl import models as m
from engine.dsl.loader import load_yaml_text
from engine.errors import AuthoringError, Issue
from engine.files import MAX_YAML_BYTES, read_limited
from engine.loading import display_name, yaml_files
from engine.positions import Span

#: The model describing each kind of file, keyed by the top-level key that marks the kind.
#: Other file kinds (campaigns) register here to be formatted too.
MODELS: dict[str, type[BaseModel]] = {"buyer": m.IntegrationSpec}

_NULL_TAG = "tag:yaml.org,2002:null"
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
#: YAML 1.1 and 1.2 booleans, nulls and special numbers, compared in lower case.
_WORDS = frozenset(
    {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", ".inf", "-.inf", "+.inf"}
    | {".nan"}
)
_NUMBER_LIKE = re.compile(r"^[-+.]?[0-9]")  # numbers, dates, times, phone numbers, ZIP codes
_BLOCK = (LiteralScalarString, FoldedScalarString)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


class _TextResolver(VersionedResolver):
    """Read every plain scalar as text except nulls, as the leadpost loader does."""

    @property
    def versioned_resolver(self) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
        return {first: [(_NULL_TAG, _NULL)] for first in ("", "~", "n", "N")}


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Resolver = _TextResolver
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long values
    yaml.brace_single_entry_mapping_in_flow_sequence = True  # keep [{phone: dashes}]
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def round_trip_yaml() -> YAML:
    """The YAML reader and writer fmt uses: comments, quotes and layout kept (``--update``)."""
    return _yaml()


def needs_quotes(text: str, *, in_flow: bool = False) -> bool:
    """True when ``text`` written without quotes could be read as something else."""
    if not text or text != text.strip() or not text.isprintable():
        return True
    if text.lower() in _WORDS or text in ("<<", "=") or _NUMBER_LIKE.match(text):
        return True
    if text[0] in _INDICATORS or ": " in text or " #" in text or text.endswith(":"):
        return True
    return in_flow and any(c in text for c in ",[]{}")


# -- walking the document next to its model ----------------------------------------------------


def _options(annotation: Any) -> list[Any]:
    """The alternatives of a (possibly optional, annotated) type, ``None`` left out."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _options(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [o for a in typing.get_args(annotation) for o in _options(a)]
    return [] if annotation is type(None) else [annotation]


def _model_for(annotation: Any, value: CommentedMap) -> type[BaseModel] | None:
    """The model among the alternatives that best describes this mapping."""
    models = [o for o in _options(annotation) if isinstance(o, type) and issubclass(o, BaseModel)]
    for model in models:
        kind = model.model_fields.get("type")
        if kind is not None and typing.get_args(kind.annotation) == (value.get("type"),):
            return model
    scored = [(len(set(value) & set(_field_names(model))), model) for model in models]
    return max(scored, key=lambda s: s[0])[1] if scored else None


def _field_names(model: type[BaseModel]) -> dict[str, Any]:
    """The keys a model accepts (aliases as written), in declared order, with their types."""
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _container_item(annotation: Any, origin: type) -> Any:
    for option in _options(annotation):
        if typing.get_origin(option) is origin:
            args = typing.get_args(option)
            return args[-1] if args else Any
    return Any


def _plain(value: Any, in_flow: bool) -> Any:
    """The value as plain text when its quotes are needless; block scalars stay as written."""
    quoted = isinstance(value, ScalarString) and not isinstance(value, _BLOCK)
    if quoted and not needs_quotes(str(value), in_flow=in_flow):
        return str(value)
    return value


def _walk(node: Any, annotation: Any) -> None:
    """Reorder mapping keys as the model declares them and drop needless quotes, in place."""
    if isinstance(node, CommentedMap):
        in_flow = bool(node.fa.flow_style())
        model = _model_for(annotation, node)
        if model is not None:
            known = _field_names(model)
            order = [k for k in known if k in node] + [k for k in node if k not in known]
            child_type = known
        else:
            order = list(node)
            item = _container_item(annotation, dict)
            child_type = dict.fromkeys(node, item)
        if order != list(node):
            _reorder_comments(node, order)
        for key in order:
            value = node[key]
            ordereddict.__delitem__(node, key)
            ordereddict.__setitem__(node, _plain(key, in_flow), _plain(value, in_flow))
            _walk(value, child_type.get(key, Any))
    elif isinstance(node, CommentedSeq):
        in_flow = bool(node.fa.flow_style())
        item = _container_item(annotation, list)
        for i, value in enumerate(node):
            list.__setitem__(node, i, _plain(value, in_flow))
            _walk(value, item)


# -- comments between entries -----------------------------------------------------------------


def _trailing_token(node: Any, key: Any) -> CommentToken | None:
    """The comment token written after the entry ``key`` (or after its deepest last entry)."""
    value = node[key]
    inner = value if isinstance(value, (CommentedMap, CommentedSeq)) else None
    if inner is not None and len(inner) and not inner.fa.flow_style():
        last = next(reversed(inner)) if isinstance(inner, CommentedMap) else len(inner) - 1
        return _trailing_token(inner, last)
    slot = 2 if isinstance(node, CommentedMap) else 0
    entry = node.ca.items.get(key)
    token = entry[slot] if entry and len(entry) > slot else None
    return token if isinstance(token, CommentToken) else None


def _inner_lines(text: str, col: int) -> str:
    """The leading comment lines indented deeper than ``col``: they belong to the entry above."""
    kept = []
    for line in text.splitlines(keepends=True):
        if not line.strip() or len(line) - len(line.lstrip(" ")) <= col:
            break
        kept.append(line)
    return "".join(kept)


def _indented(token: CommentToken) -> str:
    """A comment token's text with the indentation it was written with."""
    text = token.value
    return text if text[:1].isspace() else " " * token.column + text


def _reorder_comments(node: CommentedMap, order: list[Any]) -> None:
    """Make the comment lines above each key travel with that key when keys are reordered.

    ruamel stores the lines between two entries after the first entry; they are moved to sit
    before the second one. The lines above the mapping's first key stay where they are.
    """
    keys = list(node)
    above: dict[Any, str] = {}
    for prev, key in itertools.pairwise(keys):
        token = _trailing_token(node, prev)
        lines = ""
        if token is not None:
            eol, _, rest = token.value.partition("\n")
            inside = _inner_lines(rest, node.lc.col)
            token.value = eol + "\n" + rest[: len(inside)]
            lines = rest[len(inside) :]
        entry = node.ca.items.get(key)
        if entry and entry[1]:
            lines += "".join(_indented(t) for t in entry[1])
            entry[1] = None
        if lines:
            above[key] = lines
    for key in order[1:]:
        if key in above:
            entry = node.ca.items.setdefault(key, [None, None, None, None])
            entry[1] = [CommentToken(above[key], CommentMark(0), None)]
    if order[0] in above:  # a key that moved to the top keeps its comment just above it
        entry = node.ca.items.setdefault(order[0], [None, None, None, None])
        entry[1] = [CommentToken(above[order[0]], CommentMark(0), None)]


# -- files --------------------------------------------------------------------------------------


def file_kind(data: Any) -> str | None:
    """The top-level key that says what kind of file this is (``buyer``), if any."""
    if isinstance(data, dict):
        return next((k for k in MODELS if k in data), None)
    return None


def format_text(text: str, file: str = "<text>") -> str:
    """The canonical layout of one file's text. Raises AuthoringError when it cannot be read."""
    before = load_yaml_text(text, file)
    kind = file_kind(before.data)
    yaml = _yaml()
    tree = yaml.load(text)
    _walk(tree, MODELS[kind] if kind is not None else Any)
    out = io.StringIO()
    yaml.dump(tree, out)
    result = out.getvalue().rstrip("\n") + "\n"
    after = load_yaml_text(result, file)
    if after.data != before.data:  # a safety net: never write a file whose meaning changed
        raise AuthoringError(
            [
                Issue(
                    "LP101",
                    "the file cannot be formatted without changing its meaning; it was left as is",
                    Span(file, 1, 1),
                    hint="please report this file to the leadpost maintainers",
                )
            ],
            text,
        )
    return result


Status = Literal["unchanged", "changed", "skipped", "error"]


@dataclass(frozen=True, slots=True)
class FormatResult:
    """What ``fmt`` did (or would do) to one file."""

    path: Path
    display: str
    status: Status
    issues: tuple[Issue, ...] = ()
    source: str = ""


def format_file(path: str | Path, *, write: bool = True) -> FormatResult:
    """Format one file; rewrite it when ``write`` and its layout changes. Never raises."""
    p = Path(path)
    name = display_name(p)
    try:
        text = read_limited(p, MAX_YAML_BYTES).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "it is not UTF-8 text"
        issue = Issue("LP100", f"cannot read the file: {reason}", Span(name, 1, 1))
        return FormatResult(p, name, "error", (issue,))
    try:
        kind = file_kind(load_yaml_text(text, name).data)
        if kind is None:
            return FormatResult(p, name, "skipped", source=text)
        result = format_text(text, name)
    except AuthoringError as exc:
        return FormatResult(p, name, "error", tuple(exc.issues), exc.source or text)
    if result == text:
        return FormatResult(p, name, "unchanged", source=text)
    if write:
        p.write_text(result, encoding="utf-8")
    return FormatResult(p, name, "changed", source=text)


def format_paths(paths: Iterable[str | Path], *, check: bool = False) -> list[FormatResult]:
    """Format every buyer file named or found under ``paths``; with ``check`` write nothing."""
    return [format_file(p, write=not check) for p in yaml_files(paths)]


def _files(n: int) -> str:
    return f"{n} file" + ("" if n == 1 else "s")


def format_summary(results: list[FormatResult], *, check: bool = False) -> str:
    """One line per changed file and every problem, then a count of what happened."""
    lines: list[str] = []
    verb = "would reformat" if check else "reformatted"
    for r in results:
        if r.status == "changed":
            lines.append(f"{verb} {r.display}")
        elif r.status == "error":
            lines += [i.render(r.source or None) for i in r.issues]
    count = {s: sum(1 for r in results if r.status == s) for s in ("changed", "unchanged", "error")}
    done = "would be reformatted" if check else "reformatted"
    parts = [f"{_files(count['changed'])} {done}", f"{_files(count['unchanged'])} unchanged"]
    if count["error"]:
        parts.append(f"{_files(count['error'])} with problems")
    lines.append(", ".join(parts))
    return "\n".join(lines)

"""Words for values in ``leadpost diff``: durations, money, lists, field descriptions, dumps."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any


def duration(seconds: float) -> str:
    """``100 ms``, ``1.5 s``, ``2 min``, ``1 h``."""
    if seconds < 1:
        return f"{seconds * 1000:g} ms"
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def shown(value: Any) -> str:
    """A setting's value as a reviewer reads it: ``none`` for unset, text as written."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return "[" + ", ".join(shown(v) for v in items) + "]"
    return str(value)


def arrow(old: Any, new: Any) -> str:
    return f"{shown(old)} → {shown(new)}"


def split_description(text: str) -> list[str]:
    """A field description cut at its top-level commas (not inside brackets or quotes)."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif ch == "," and depth == 0 and text[i + 1 : i + 2] == " ":
            parts.append(text[start:i])
            start = i + 2
    parts.append(text[start:])
    return [p for p in parts if p]


def description_change(old: str, new: str) -> str:
    """What differs between two field descriptions: ``now formatted as X (was formatted as Y)``."""
    a, b = split_description(old), split_description(new)
    removed: list[str] = []
    added: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    if added and removed:
        return f"now {', '.join(added)} (was {', '.join(removed)})"
    if added:
        return f"now also: {', '.join(added)}"
    if removed:
        return f"no longer: {', '.join(removed)}"
    return f"now {new} (was {old})"


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted keys and leaf values of a dumped model (lists stay whole)."""
    if isinstance(value, Mapping):
        if not value and prefix:
            yield prefix, {}
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def compact(value: Any) -> str:
    """A dumped entry in one line, leaving out what is unset: ``{expect: timeout}``."""
    if isinstance(value, Mapping):
        kept = {k: v for k, v in value.items() if v not in (None, {}, [])}
        return "{" + ", ".join(f"{k}: {compact(v)}" for k, v in kept.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(compact(v) for v in value) + "]"
    return shown(value)


def _entries(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _list_changes(key: str, old: Any, new: Any) -> list[str]:
    """Entries added to and removed from a list of settings, each shown whole."""
    olds, news = _entries(old), _entries(new)
    lead = f"{key} " if key else ""
    out = [f"{lead}added: {compact(v)}" for v in news if v not in olds]
    out += [f"{lead}removed: {compact(v)}" for v in olds if v not in news]
    return out or [f"{lead}same entries in a new order"]


def dump_changes(old: Any, new: Any) -> list[str]:
    """``key: old → new`` for every leaf that differs between two dumped models; entries added
    to or removed from a list of settings are shown whole."""
    a, b = dict(flatten(old)), dict(flatten(new))
    out = []
    for key in [*a, *(k for k in b if k not in a)]:
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        entries = [*_entries(x), *_entries(y)]
        if any(isinstance(v, Mapping | list) for v in entries):
            out += _list_changes(key, x, y)
        else:
            out.append(f"{key or 'value'} {arrow(x, y)}")
    return out


def dumped(value: Any) -> Any:
    """A model (or a dict/list of them) as plain data, keys as written in files."""
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True)
    if isinstance(value, Mapping):
        return {k: dumped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dumped(v) for v in value]
    return value


def other_keys(old: Any, new: Any, known: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(key, ``part: old → new``) for settings of a model that no special wording covers: keys
    added to the file format later are still reported, in general words."""
    for key, info in type(new).model_fields.items():
        name = info.alias or key
        if name in known:
            continue
        a, b = dumped(getattr(old, key, None)), dumped(getattr(new, key, None))
        if a != b:
            for text in dump_changes(a, b):
                yield name, text


def set_change(old: Sequence[str], new: Sequence[str]) -> str:
    """``TX, CA (NV added; FL, AZ removed)``: the new list and what moved in and out."""
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    notes = []
    if added:
        notes.append(f"{', '.join(added)} added")
    if removed:
        notes.append(f"{', '.join(removed)} removed")
    now = ", ".join(new) if new else "none"
    return f"{now} ({'; '.join(notes)})" if notes else f"{now} (new order)"

"""JSON bodies: nested objects and lists from field paths, rendered from a shape built once.

The shape (keys already escaped, list positions in order) is computed at compile time, so
encoding one lead is one pass over its values and one join per object. Output is compact
(``{"a":1,"b":"x"}``), UTF-8, with non-ASCII characters written as themselves. Objects keep
the file's field order. An omitted field vanishes; an object or list left empty by omissions
vanishes too (the top level stays, as ``{}``). Lone surrogates are removed.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable, Sequence
from typing import Any

from engine.compiler.encoders.paths import Node, show
from engine.compiler.encoders.values import SURROGATES, scalar_text
from engine.plan import OMIT, OutputPath

_quote: Callable[[str], str] = json.encoder.encode_basestring


class _Object:
    """An object: (escaped key + ':', child) pairs in file order; a child int is a value index."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[tuple[str, int | _Object | _List], ...]) -> None:
        self.items = items

    def render(self, texts: list[str | None]) -> str | None:
        parts = []
        for prefix, child in self.items:
            text = texts[child] if type(child) is int else child.render(texts)  # type: ignore[union-attr]
            if text is not None:
                parts.append(prefix + text)
        return "{" + ",".join(parts) + "}" if parts else None


class _List:
    """A list: children in position order."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[int | _Object | _List, ...]) -> None:
        self.items = items

    def render(self, texts: list[str | None]) -> str | None:
        parts = []
        for child in self.items:
            text = texts[child] if type(child) is int else child.render(texts)  # type: ignore[union-attr]
            if text is not None:
                parts.append(text)
        return "[" + ",".join(parts) + "]" if parts else None


def _shape(node: Node) -> int | _Object | _List:
    if node.value is not None:
        return node.value
    if "index" in node.kinds:
        positions = sorted(k for k in node.children if isinstance(k, int))
        return _List(tuple(_shape(node.children[k]) for k in positions))
    return _Object(tuple((_quote(str(k)) + ":", _shape(c)) for k, c in node.children.items()))


class JsonEncoder:
    """Encodes one lead's values (aligned with the paths given at construction) as JSON."""

    __slots__ = ("_empty", "_names", "_root")

    content_type = "application/json"

    def __init__(self, tree: Node, paths: Sequence[OutputPath]) -> None:
        root = _shape(tree)
        assert not isinstance(root, int)  # a path is never empty
        self._root: _Object | _List = root
        self._empty = "[]" if isinstance(root, _List) else "{}"
        self._names = tuple(show(p) for p in paths)

    def encode(self, values: Sequence[Any]) -> bytes:
        texts: list[str | None] = []
        append = texts.append
        for value, name in zip(values, self._names, strict=True):
            t = type(value)
            if t is str:
                append(_quote(value))
            elif value is OMIT:
                append(None)
            else:
                append(_value(value, name))
        doc = self._root.render(texts) or self._empty
        try:
            return doc.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATES.sub("", doc).encode("utf-8")


def _value(value: Any, name: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return _quote(str.__str__(value))
    return scalar_text(value, name)  # true/false and exact numbers, as every format writes them

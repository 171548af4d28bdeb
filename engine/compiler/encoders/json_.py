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
from operator import itemgetter
from typing import Any

from engine.compiler.encoders.paths import Node, show
from engine.compiler.encoders.values import SURROGATES, scalar_text
from engine.plan import OMIT, OutputPath, Rows

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


def _template(shape: _Object | _List, order: list[int]) -> str | None:
    """The document as a ``%``-format string for a lead that leaves nothing out, or None.

    Each ``%s`` is one value; ``order`` receives their indexes in the order they appear. None
    when an object or list has no children (it would vanish, which a fixed text cannot do).
    """
    if not shape.items:
        return None
    parts = []
    for item in shape.items:
        prefix, child = item if isinstance(shape, _Object) else ("", item)  # type: ignore[misc]
        if type(child) is int:
            order.append(child)
            text: str | None = "%s"
        else:
            text = _template(child, order)  # type: ignore[arg-type]
        if text is None:
            return None
        parts.append(prefix.replace("%", "%%") + text)
    opened, closed = ("{", "}") if isinstance(shape, _Object) else ("[", "]")
    return opened + ",".join(parts) + closed


def _shape(node: Node) -> int | _Object | _List:
    if node.value is not None:
        return node.value
    if "index" in node.kinds:
        positions = sorted(k for k in node.children if isinstance(k, int))
        return _List(tuple(_shape(node.children[k]) for k in positions))
    return _Object(tuple((_quote(str(k)) + ":", _shape(c)) for k, c in node.children.items()))


class JsonItems:
    """A list field's items as a JSON array: an object per item (``shape``) or one value each."""

    __slots__ = ("_items", "_names", "_shape")

    def __init__(
        self,
        shape: _Object | _List | None,
        names: tuple[str, ...],
        items: tuple[JsonItems | None, ...] = (),
    ) -> None:
        self._shape = shape
        self._names = names
        self._items = items or (None,) * len(names)

    def render(self, rows: Rows) -> str | None:
        """The array; None (left out) when its items all rendered to nothing. No rows at all
        come only from ``if_missing: empty``: an empty array."""
        if not rows:
            return "[]"
        parts = []
        shape = self._shape
        for row in rows:
            if shape is None:
                text = _text(row, self._names[0], None)
            else:
                texts = [
                    _text(v, n, i) for v, n, i in zip(row, self._names, self._items, strict=True)
                ]
                text = shape.render(texts)
            if text is not None:
                parts.append(text)
        return "[" + ",".join(parts) + "]" if parts else None


def _text(value: Any, name: str, items: JsonItems | None) -> str | None:
    if type(value) is str:
        return _quote(value)
    if value is OMIT:
        return None
    if type(value) is Rows:
        if items is None:
            return _value(value, name)
        return items.render(value)
    return _value(value, name)


def item_shape(tree: Node) -> _Object | _List:
    """The shape of one item of a list field (its fields' paths, relative to the item)."""
    shape = _shape(tree)
    assert not isinstance(shape, int)
    return shape


class JsonEncoder:
    """Encodes one lead's values (aligned with the paths given at construction) as JSON."""

    __slots__ = ("_empty", "_items", "_names", "_pick", "_root", "_template")

    content_type = "application/json"

    def __init__(
        self,
        tree: Node,
        paths: Sequence[OutputPath],
        items: Sequence[JsonItems | None] = (),
    ) -> None:
        root = _shape(tree)
        assert not isinstance(root, int)  # a path is never empty
        self._root: _Object | _List = root
        self._empty = "[]" if isinstance(root, _List) else "{}"
        self._names = tuple(show(p) for p in paths)
        self._items = tuple(items) or (None,) * len(paths)
        # Most leads leave no field out: their document is the skeleton, built once here, with
        # the values' texts put in by one %-format (C speed, no per-object joins).
        order: list[int] = []
        self._template = _template(root, order)
        self._pick: Callable[[list[str | None]], tuple[str | None, ...]] | None = None
        if self._template is not None and order:
            if len(order) == 1:
                self._pick = lambda texts, i=order[0]: (texts[i],)
            else:
                self._pick = itemgetter(*order)

    def encode(self, values: Sequence[Any]) -> bytes:
        texts: list[str | None] = []
        append = texts.append
        whole = True  # no value left out
        for value, name, items in zip(values, self._names, self._items, strict=True):
            t = type(value)
            if t is str:
                append(_quote(value))
            elif t is int:
                append(int.__repr__(value))
            elif value is OMIT:
                append(None)
                whole = False
            else:
                text = _text(value, name, items)
                append(text)
                if text is None:
                    whole = False
        pick = self._pick
        if whole and pick is not None:
            doc = self._template % pick(texts)  # type: ignore[operator]
        else:
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

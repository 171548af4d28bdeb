"""XML and SOAP bodies: elements, attributes and namespaces, in a declared character encoding.

The document's shape (tags, attribute prefixes, namespace declarations on the root) is built
once; encoding a lead fills in escaped texts and joins. Guarantees, for any input text:

* the output is well-formed: ``& < > " '`` are always escaped, and a carriage return (and, in
  attributes, a tab or newline) is written as a character reference so it reads back unchanged;
* characters XML 1.0 forbids (control characters other than tab, newline and carriage return,
  U+FFFE, U+FFFF and lone surrogates) are always removed;
* a character the declared encoding cannot represent follows ``unencodable``: ``transliterate``
  writes its closest ASCII spelling (``€`` becomes ``EUR`` in ISO-8859-1), ``remove`` drops it,
  ``reject`` refuses the lead with a MappingError naming the character and the field; a
  transliterated text still keeps to its field's ``max_length`` (``鶴巻`` may grow into
  ``HeJuan``), cut or refused as ``too_long`` says.

A field whose value is omitted vanishes; an element left with no text, attribute or child
vanishes too (the root stays). Null and empty text give an empty element ``<Name/>``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from anyascii import anyascii

from engine.compiler.encoders.paths import Node, show
from engine.compiler.encoders.values import scalar_text, unsupported
from engine.compiler.encoders.xmlnames import FORBIDDEN, Setup, escape
from engine.errors import MappingError
from engine.plan import OMIT, OutputPath, Rows
from engine.transforms.values import limit_length

#: A field's ``max_length`` and whether a longer value is refused (``too_long: reject``).
Limit = tuple[int, bool]

#: In ASCII text, what needs more than copying: control characters and the five specials.
_ASCII_SPECIAL = re.compile("[\x00-\x1f&<>\"']")
_MARKER = re.compile("\x00([0-9]+)\x00")


#: A leaf element with no attributes: (``<name>``, value index, ``</name>``, ``<name/>``).
_Leaf = tuple[str, int, str, str]


class _Element:
    """One element: ``<name`` plus attribute prefixes, a text value or children, ``</name>``."""

    __slots__ = ("attrs", "children", "close", "open", "text")

    def __init__(
        self,
        open_: str,
        attrs: tuple[tuple[str, int], ...],
        text: int | None,
        children: tuple[_Element | _Leaf, ...],
        close: str,
    ) -> None:
        self.open = open_
        self.attrs = attrs
        self.text = text
        self.children = children
        self.close = close

    def render(self, texts: list[str | None]) -> str | None:
        head = self.open
        present = False
        for prefix, i in self.attrs:
            value = texts[i]
            if value is not None:
                head += prefix + value + '"'
                present = True
        parts = []
        if self.text is not None:
            value = texts[self.text]
            if value:
                parts.append(value)
            elif value is not None:
                present = True
        for child in self.children:
            if type(child) is tuple:
                value = texts[child[1]]
                if value:
                    parts.append(child[0] + value + child[2])
                elif value is None:
                    continue
                elif child[3]:
                    parts.append(child[3])
                else:  # a list field with no items (if_missing: empty): its container stays
                    present = True
            else:
                out = child.render(texts)  # type: ignore[union-attr]
                if out is not None:
                    parts.append(out)
        if parts:
            return head + ">" + "".join(parts) + self.close
        return head + "/>" if present else None


def _elements(
    name: str, node: Node, extra: str = "", lists: frozenset[int] = frozenset()
) -> list[_Element | _Leaf]:
    """The element(s) a node stands for: one, or one per list position when it repeats."""
    if "index" in node.kinds:
        ints = sorted(k for k in node.children if isinstance(k, int))
        return [_element(name, node.children[k], extra, lists=lists) for k in ints]
    return [_element(name, node, extra, lists=lists)]


def _element(
    name: str, node: Node, extra: str, root: bool = False, lists: frozenset[int] = frozenset()
) -> _Element | _Leaf:
    if node.value is not None and not node.children and not root:
        if node.value in lists:  # a list field writes its repeated elements itself
            return ("", node.value, "", "")
        return (f"<{name}>", node.value, f"</{name}>", f"<{name}/>")
    attrs: list[tuple[str, int]] = []
    children: list[_Element | _Leaf] = []
    for seg, child in node.children.items():
        if isinstance(seg, str) and seg.startswith("@"):
            assert child.value is not None
            attrs.append((f' {seg[1:]}="', child.value))
        elif isinstance(seg, str):
            children.extend(_elements(seg, child, lists=lists))
    return _Element(f"<{name}{extra}", tuple(attrs), node.value, tuple(children), f"</{name}>")


class XmlEncoder:
    """Encodes one lead's values (aligned with the paths given at construction) as XML."""

    __slots__ = (
        "_attr",
        "_codec",
        "_declaration",
        "_empty",
        "_encoding",
        "_in_order",
        "_items",
        "_limits",
        "_names",
        "_order",
        "_policy",
        "_root",
        "_template",
        "_universal",
        "content_type",
    )

    def __init__(
        self,
        setup: Setup,
        tree: Node,
        paths: Sequence[OutputPath],
        limits: Sequence[Limit | None] = (),
        items: Sequence[XmlItems | None] = (),
    ) -> None:
        self.content_type = setup.content_type
        self._items = tuple(items) or (None,) * len(paths)
        lists = frozenset(i for i, x in enumerate(self._items) if x is not None)
        self._limits = tuple(limits) or (None,) * len(paths)
        self._codec = setup.codec
        self._encoding = setup.encoding
        self._universal = setup.codec == "utf-8"
        self._policy = setup.unencodable
        root = _element(setup.root, tree, setup.xmlns, root=True, lists=lists)
        assert isinstance(root, _Element)
        self._root = root
        self._declaration = setup.declaration
        self._empty = f"<{setup.root}{setup.xmlns}/>"
        self._names = tuple(show(p) for p in paths)
        self._attr = tuple(isinstance(p[-1], str) and p[-1].startswith("@") for p in paths)
        # The whole document as one %-template, used when every value is non-empty text.
        markers: list[str | None] = [f"\x00{i}\x00" for i in range(len(paths))]
        full = setup.declaration + (root.render(markers) or self._empty)
        self._order = tuple(int(i) for i in _MARKER.findall(full))
        self._template = _MARKER.sub("%s", full.replace("%", "%%"))
        self._in_order = self._order == tuple(range(len(paths)))

    def encode(self, values: Sequence[Any]) -> bytes:
        names = self._names
        if len(values) != len(names):
            raise ValueError("the number of values differs from the number of fields")
        texts: list[str | None] = [
            value
            if type(value) is str
            else None
            if value is OMIT
            else self._list(value, i)
            if type(value) is Rows
            else scalar_text(value, name)
            for i, (value, name) in enumerate(zip(values, names, strict=True))
        ]
        probe = "".join(filter(None, texts))
        if not probe.isascii() or _ASCII_SPECIAL.search(probe):
            items = self._items
            texts = [
                t if t is None or items[i] is not None else self._clean(t, i)
                for i, t in enumerate(texts)
            ]
        if all(texts):
            if self._in_order:
                return (self._template % tuple(texts)).encode(self._codec)
            return (self._template % tuple(texts[i] for i in self._order)).encode(self._codec)
        body = self._root.render(texts)
        doc = self._declaration + (self._empty if body is None else body)
        return doc.encode(self._codec)

    def _list(self, rows: Rows, i: int) -> str | None:
        items = self._items[i]
        if items is None:
            raise unsupported(rows, self._names[i])
        return items.render(rows, self.clean)

    def _clean(self, text: str, i: int) -> str:
        return self.clean(text, self._names[i], self._attr[i], self._limits[i])

    def clean(self, text: str, name: str, attr: bool, limit: Limit | None) -> str:
        """Remove forbidden characters, apply the unencodable policy, then escape."""
        if text.isascii() and not _ASCII_SPECIAL.search(text):
            return text
        text = FORBIDDEN.sub("", text)
        if not self._universal and not text.isascii():
            fitted = self._fit(text, name)
            if limit is not None and fitted != text:
                try:
                    fitted = limit_length(fitted, *limit)
                except MappingError as exc:
                    raise MappingError(f"{exc} (once written in {self._encoding})") from None
            text = fitted
        return escape(text, attr)

    def _fit(self, text: str, name: str) -> str:
        try:
            text.encode(self._codec)
        except UnicodeEncodeError:
            pass
        else:
            return text
        out = []
        for char in text:
            try:
                char.encode(self._codec)
            except UnicodeEncodeError:
                if self._policy == "reject":
                    raise _unencodable(char, name, self._encoding) from None
                if self._policy == "transliterate":
                    out.append(FORBIDDEN.sub("", anyascii(char)))
            else:
                out.append(char)
        return "".join(out)


#: Cleans one text for XML: (text, field name, is an attribute, its length limit) -> text.
Clean = Callable[[str, str, bool, "Limit | None"], str]


class XmlItems:
    """A list field's items as repeated elements named ``name``: each item's fields inside its
    element (``@id`` an attribute of it), or, for a list of values, the value as its text."""

    __slots__ = ("_attr", "_element", "_items", "_limits", "_name", "_names")

    def __init__(
        self,
        name: str,
        tree: Node | None,
        paths: Sequence[OutputPath],
        limits: Sequence[Limit | None],
        items: Sequence[XmlItems | None],
    ) -> None:
        self._name = name
        lists = frozenset(i for i, x in enumerate(items) if x is not None)
        self._element = None if tree is None else _element(name, tree, "", root=True, lists=lists)
        self._names = tuple(show(p) for p in paths) or (name,)
        self._attr = tuple(isinstance(p[-1], str) and p[-1].startswith("@") for p in paths)
        self._limits = tuple(limits) or (None,) * len(self._names)
        self._items = tuple(items) or (None,) * len(self._names)

    def _text(self, value: Any, j: int, clean: Clean) -> str | None:
        if value is OMIT:
            return None
        if type(value) is Rows:
            items = self._items[j]
            if items is None:
                raise unsupported(value, self._names[j])
            return items.render(value, clean)
        text = value if type(value) is str else scalar_text(value, self._names[j])
        return clean(text, self._names[j], self._attr[j] if self._attr else False, self._limits[j])

    def render(self, rows: Rows, clean: Clean) -> str | None:
        """The repeated elements; None (left out) when the items all rendered to nothing. No
        rows at all come only from ``if_missing: empty``: no element, but an empty text that
        keeps the enclosing element (``<Drivers/>``)."""
        if not rows:
            return ""
        parts: list[str] = []
        name = self._name
        for row in rows:
            if self._element is None:
                text = self._text(row, 0, clean)
                if text is not None:
                    parts.append(f"<{name}>{text}</{name}>" if text else f"<{name}/>")
                continue
            texts = [self._text(v, j, clean) for j, v in enumerate(row)]
            out = self._element.render(texts) if isinstance(self._element, _Element) else None
            if out is not None:
                parts.append(out)
        return "".join(parts) or None


def _unencodable(char: str, name: str, encoding: str) -> MappingError:
    label = unicodedata.name(char, f"U+{ord(char):04X}").lower()
    return MappingError(
        f"the character '{char}' ({label}) in field '{name}' cannot be written in {encoding}",
        field=name,
    )

"""Form bodies and query strings (``a=1&b=x+y``), and a JSON or XML document carried in a form.

Names are flat: a form has no nesting, lists or attributes. Values are UTF-8, percent-encoded
with ``+`` for a space (what browsers send and every server reads); true/false for booleans,
an empty value for null; an omitted field leaves out its ``name=`` pair. Lone surrogates are
removed. ``wrap_in_form`` sends the other form fields first, in file order, then the document
field: the document's bytes (in its own charset) percent-encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote_plus

from engine.compiler.encoders.paths import Problem, show
from engine.compiler.encoders.values import SURROGATES, scalar_text
from engine.plan import OMIT, Encoder, OutputPath, Rows

FORM = "application/x-www-form-urlencoded"


def check_flat(paths: Sequence[OutputPath], problems: list[Problem], what: str) -> None:
    """Every path must be one plain name, written once; ``what`` names the format."""
    seen: set[str] = set()
    for i, path in enumerate(paths):
        name = path[0] if len(path) == 1 else None
        if not isinstance(name, str) or not name or name.startswith("@"):
            problems.append(
                Problem(
                    i,
                    f"'{show(path)}' is not a plain name, and a {what} cannot nest fields, "
                    "hold lists or carry attributes",
                    "use a flat name such as contact_email, or use format: json or xml",
                )
            )
        elif name in seen:
            problems.append(Problem(i, f"'{name}' is written by two fields", "rename one of them"))
        else:
            seen.add(name)


#: Percent-encoding of each ASCII character, as quote_plus does it (``+`` for a space).
_ASCII = str.maketrans(
    {
        c: "+" if c == " " else c if c.isalnum() or c in "_.-~" else f"%{ord(c):02X}"
        for c in map(chr, range(128))
    }
)


def form_quote(text: str) -> str:
    """``quote_plus`` in UTF-8, faster for ASCII text; lone surrogates are removed."""
    if text.isascii():
        return text.translate(_ASCII)
    try:
        return quote_plus(text)
    except UnicodeEncodeError:
        return quote_plus(SURROGATES.sub("", text))


def fill(pattern: str, index: int, name: str | None) -> str:
    """One item's field name: ``{i}`` is its position from 0, ``{n}`` from 1, ``{name}`` the
    field's own name. Inside brackets a bracketed name keeps the bracket style, as PHP reads
    it: ``drivers[{i}][{name}]`` with ``violations[1][type]`` gives
    ``drivers[0][violations][1][type]``."""
    out = pattern.replace("{i}", str(index)).replace("{n}", str(index + 1))
    if name is None:
        return out
    if "[{name}]" in out and "[" in name and not name.startswith("["):
        head, rest = name.split("[", 1)
        return out.replace("[{name}]", f"[{head}][{rest}")
    return out.replace("{name}", name)


class FormItems:
    """A list field's items as indexed names (``driver1_first=…&driver2_first=…``)."""

    __slots__ = ("_items", "_names", "_pattern")

    def __init__(
        self, pattern: str, names: tuple[str, ...], items: tuple[FormItems | None, ...] = ()
    ) -> None:
        self._pattern = pattern
        self._names = names
        self._items = items or (None,) * len(names)

    def pairs(self, rows: Rows, field: str) -> list[tuple[str, str]]:
        """(name, text) of every value the items send, item by item."""
        out: list[tuple[str, str]] = []
        for index, row in enumerate(rows):
            if not self._names:
                if row is not OMIT:
                    out.append((fill(self._pattern, index, None), _scalar(row, field)))
                continue
            for value, name, items in zip(row, self._names, self._items, strict=True):
                if value is OMIT:
                    continue
                if type(value) is Rows and items is not None:
                    out += [(fill(self._pattern, index, n), t) for n, t in items.pairs(value, name)]
                else:
                    out.append((fill(self._pattern, index, name), _scalar(value, name)))
        return out


def _scalar(value: Any, name: str) -> str:
    return value if type(value) is str else scalar_text(value, name)


class FormEncoder:
    """Encodes values for flat names as ``name=value`` pairs joined by ``&``."""

    __slots__ = ("_items", "_keys", "_names", "content_type")

    def __init__(
        self,
        paths: Sequence[OutputPath],
        content_type: str = FORM,
        items: Sequence[FormItems | None] = (),
    ) -> None:
        self.content_type = content_type
        self._names = tuple(str(p[0]) for p in paths)
        self._keys = tuple(form_quote(n) + "=" for n in self._names)
        self._items = tuple(items) or (None,) * len(paths)

    def pairs(self, values: Sequence[Any]) -> list[str]:
        """The encoded ``name=value`` pairs of the values that are not omitted, in order."""
        out: list[str] = []
        for value, key, name, items in zip(
            values, self._keys, self._names, self._items, strict=True
        ):
            if type(value) is str:
                out.append(key + form_quote(value))
            elif value is OMIT:
                continue
            elif type(value) is Rows and items is not None:
                out += [form_quote(n) + "=" + form_quote(t) for n, t in items.pairs(value, name)]
            else:
                out.append(key + form_quote(scalar_text(value, name)))
        return out

    def encode(self, values: Sequence[Any]) -> bytes:
        return "&".join(self.pairs(values)).encode("ascii")


class WrapEncoder:
    """A document (JSON or XML) sent as one form field after the other form fields."""

    __slots__ = ("_count", "_document", "_key", "_outer")

    content_type = FORM

    def __init__(self, document: Encoder, count: int, field: str, outer: FormEncoder) -> None:
        self._document = document
        self._count = count
        self._key = form_quote(field) + "="
        self._outer = outer

    def encode(self, values: Sequence[Any]) -> bytes:
        """``values``: the document's fields, then the outer form fields."""
        body = self._document.encode(values[: self._count])
        pairs = self._outer.pairs(values[self._count :])
        pairs.append(self._key + quote_plus(body))
        return "&".join(pairs).encode("ascii")

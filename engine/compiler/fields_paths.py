"""Paths of a field: its output name (``phones[0].@type``), the lead paths a condition reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.plan import OutputPath

__all__ = ["condition_paths", "parse_output_path"]

_SEGMENT = re.compile(r"(@?)([^.\[\]@]*)((?:\[\d{1,4}\])*)")
_INDEX = re.compile(r"\[(\d+)\]")


def parse_output_path(name: str) -> OutputPath | str:
    """``contact.phones[0].@type`` -> ``("contact", "phones", 0, "@type")``; else the problem."""
    pieces = name.split(".")
    out: list[str | int] = []
    for i, piece in enumerate(pieces):
        m = _SEGMENT.fullmatch(piece)
        if m is None:
            if "@" in piece:
                return "'@' may only start the last part (an XML attribute, like Phone.@type)"
            return "square brackets hold a list position, like items[0]"
        at_sign, word, indexes = m.groups()
        if word != word.strip():
            return "a part of the name starts or ends with a space"
        if not word and not (i == 0 and indexes and not at_sign):
            return "a part of the name is empty" if not at_sign else "'@' needs a name after it"
        if at_sign and (indexes or i != len(pieces) - 1):
            return "'@' may only start the last part (an XML attribute, like Phone.@type)"
        if word:
            out.append(at_sign + word)
        out.extend(int(n) for n in _INDEX.findall(indexes))
    return tuple(out)


def condition_paths(node: dict[str, Any]) -> Iterator[str]:
    """The dotted field paths a JMESPath expression reads from the lead itself."""
    kind = node.get("type")
    children: list[dict[str, Any]] = node.get("children", [])
    if kind == "field":
        yield str(node["value"])
    elif kind == "subexpression":
        chain: list[str] = []
        for child in children:
            if child.get("type") != "field":
                break
            chain.append(str(child["value"]))
        if chain:
            yield ".".join(chain)
        else:
            yield from condition_paths(children[0])
    elif kind in _SAME_CONTEXT:
        for child in children:
            yield from condition_paths(child)
    elif kind in _LEFT_ONLY and children:
        yield from condition_paths(children[0])


#: JMESPath nodes whose children are all evaluated against the lead itself.
_SAME_CONTEXT = frozenset(
    {"comparator", "and_expression", "or_expression", "not_expression", "function_expression",
     "multi_select_list", "multi_select_dict", "key_val_pair"}
)  # fmt: skip
#: Nodes whose first child reads the lead and the rest read what it produced.
_LEFT_ONLY = frozenset(
    {"index_expression", "projection", "filter_projection", "value_projection", "flatten", "pipe"}
)

"""Output paths as a checked tree: objects, lists and XML elements, with each path problem found.

A stage's field names (``contact.email``, ``phones[0]``, ``Phone.@type``) arrive as
:data:`~engine.plan.OutputPath` tuples. :func:`build_tree` merges them into one tree, in file
order, and reports every path the format cannot express: a value and children in one place,
a list and an object in one place, a path written twice, list positions that skip, and (by
format) attributes, leading list positions and invalid names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from engine.plan import OutputPath

Kind = Literal["name", "attr", "index"]

#: Checks one element or attribute name; returns (message, hint) when it is not allowed.
NameCheck = Callable[[str, bool], tuple[str, str | None] | None]


@dataclass(frozen=True, slots=True)
class Problem:
    """One path the format cannot express; ``index`` is the path's position in file order."""

    index: int
    message: str
    hint: str | None = None


@dataclass(slots=True, eq=False)
class Node:
    """A place in the output. ``value`` is the index of the path that ends here, if any."""

    first: int
    value: int | None = None
    children: dict[str | int, Node] = field(default_factory=dict)
    kinds: dict[Kind, int] = field(default_factory=dict)
    """For each kind of child present, the index of the first path that added one."""


def show(path: OutputPath) -> str:
    """A path the way an author writes it: ``contact.phones[0].@type``."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


def kind(seg: str | int) -> Kind:
    if isinstance(seg, int):
        return "index"
    return "attr" if seg.startswith("@") else "name"


def build_tree(
    paths: Sequence[OutputPath],
    problems: list[Problem],
    *,
    xml: bool,
    check_name: NameCheck | None = None,
) -> Node:
    """Merge ``paths`` into one tree; every problem found is appended to ``problems``."""
    root = Node(first=-1)
    for i, path in enumerate(paths):
        found = _syntax(path, xml, check_name) or _clash(root, path, paths, xml)
        if found is not None:
            problems.append(Problem(i, *found))
            continue
        node = root
        for seg in path:
            child = node.children.get(seg)
            if child is None:
                child = node.children[seg] = Node(first=i)
                node.kinds.setdefault(kind(seg), i)
            node = child
        node.value = i
    _gaps(root, paths, problems)
    return root


def _syntax(
    path: OutputPath, xml: bool, check_name: NameCheck | None
) -> tuple[str, str | None] | None:
    if not path:
        return "a field needs a name", None
    for depth, seg in enumerate(path):
        if isinstance(seg, int):
            if seg < 0:
                return f"'{show(path)}' uses a negative list position", "positions start at [0]"
            if xml and depth == 0:
                return (
                    f"'{show(path)}' starts with a list position, but an XML document has "
                    "exactly one root element",
                    "name the repeated element before the position, e.g. Item[0].Name",
                )
            if xml and isinstance(path[depth - 1], int):
                return f"'{show(path)}' puts a list inside a list, which XML cannot express", None
            continue
        if seg in ("", "@"):
            return f"'{show(path)}' has an empty part in its name", "remove the extra dot"
        if seg.startswith("@"):
            if not xml:
                return (
                    f"'{show(path)}' names an attribute ({seg}), but attributes only exist in XML",
                    "remove the @, or use format: xml",
                )
            if depth != len(path) - 1:
                return f"'{show(path)}' puts something inside the attribute {seg}", (
                    "an attribute holds only text: put it last, e.g. Phone.@type"
                )
        if check_name is not None:
            bad = check_name(seg.removeprefix("@"), seg.startswith("@"))
            if bad is not None:
                return bad
    return None


def _clash(
    root: Node, path: OutputPath, paths: Sequence[OutputPath], xml: bool
) -> tuple[str, str | None] | None:
    node = root
    for depth, seg in enumerate(path):
        here = show(path[:depth]) or "the document"
        k = kind(seg)
        if node.value is not None and (not xml or k != "attr"):
            holder = show(paths[node.value])
            return (
                f"'{holder}' is a single value, so '{show(path)}' cannot go inside '{here}'",
                "rename one of the two fields",
            )
        other = _other_kind(node, k, xml)
        if other is not None:
            if k == "index":
                what = "a repeated element" if xml else "a list"
            else:
                what = "a single element" if xml else "an object"
            return (
                f"'{show(path)}' uses '{here}' as {what}, but '{show(paths[other])}' does not",
                "use list positions for every field of a repeated element, or for none",
            )
        child = node.children.get(seg)
        if child is None:
            return None
        node = child
    if node.value is not None:
        return f"'{show(path)}' is written by two fields", "remove or rename one of them"
    inner = [i for k, i in node.kinds.items() if not xml or k != "attr"]
    if inner:
        return (
            f"'{show(paths[min(inner)])}' already puts fields inside '{show(path)}', "
            "so it cannot also be a single value",
            "rename one of the two fields",
        )
    return None


def _other_kind(node: Node, k: Kind, xml: bool) -> int | None:
    """The first path that gave ``node`` a child of a kind incompatible with ``k``."""
    if k == "index":
        clashing = [i for kk, i in node.kinds.items() if kk != "index"]
    else:
        clashing = [i for kk, i in node.kinds.items() if kk == "index"]
    return min(clashing) if clashing else None


def _gaps(node: Node, paths: Sequence[OutputPath], problems: list[Problem]) -> None:
    if "index" in node.kinds:
        positions = sorted(k for k in node.children if isinstance(k, int))
        missing = next((n for n, k in enumerate(positions) if n != k), None)
        if missing is not None:
            culprit = node.children[min(k for k in positions if k > missing)].first
            problems.append(
                Problem(
                    culprit,
                    f"'{show(paths[culprit])}' skips list position [{missing}]",
                    "list positions must be [0], [1], [2], … with none missing",
                )
            )
    for child in node.children.values():
        _gaps(child, paths, problems)

"""JMESPath compiled to Python closures: parse once with jmespath, then run without a visitor.

jmespath.py interprets its syntax tree on every search (a visitor call per node), which made one
conditional field cost more than thirty others together. This stage turns the common nodes
(fields, sub-expressions, comparisons, and/or/not, literals, indexes, pipes, function calls)
into nested closures with jmespath's own semantics; any other node (projections, filters,
slices, multiselects…) is handed, subtree by subtree, to jmespath's interpreter, so every valid
expression gives exactly what ``jmespath.search`` gives (a Hypothesis test checks this), with
leadpost's functions (:mod:`engine.compiler.jmes_functions`) and two softenings: ordering a
number against a text is null rather than an error, and ``contains()`` of a missing value is
false. :func:`flatten_wildcards` makes a path with several wildcards give one flat list.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jmespath import visitor as jp_visitor
from jmespath.parser import ParsedResult

from engine.compiler.jmes_functions import LeadpostFunctions, Regex

Search = Callable[[Any], Any]
_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _equals(x: Any, y: Any) -> bool:
    """JMESPath equality: like Python's, except true/false never equal 1/0."""
    if (type(x) is bool) is not (type(y) is bool):
        return False
    return bool(x == y)


def _is_comparable(x: Any) -> bool:
    """Ordering (<, >=…) applies to numbers and text; anything else compares as null."""
    return type(x) in (int, float, str)


def is_false(value: Any) -> bool:
    """JMESPath falsiness: false, null, "", [] and {} are false; everything else is true."""
    return value is None or value is False or value == "" or value == [] or value == {}


class _Interpreter(jp_visitor.TreeInterpreter):
    """jmespath's interpreter, softened like the closures, plus the flat wildcard nodes."""

    def visit_comparator(self, node: Any, value: Any) -> Any:
        try:
            return super().visit_comparator(node, value)
        except TypeError:  # a number against a string: jmespath raises, we say null
            return None

    def visit_flat_projection(self, node: Any, value: Any) -> Any:
        return _flat(self.visit_projection(node, value))

    def visit_flat_filter_projection(self, node: Any, value: Any) -> Any:
        return _flat(self.visit_filter_projection(node, value))

    def visit_flat_value_projection(self, node: Any, value: Any) -> Any:
        base = self.visit(node["children"][0], value)
        objects = [base]
        if node.get("over_list"):  # the left side is a wildcard: every object it found
            objects = base if isinstance(base, list) else []
        right = node["children"][1]
        collected = []
        for item in objects:
            if type(item) is not dict:
                continue
            for element in item.values():
                current = self.visit(right, element)
                if current is not None:
                    collected.append(current)
        return _flat(collected) if node.get("flatten") else collected


def _flat(items: Any) -> Any:
    """One level of lists merged: ``[[1, 2], [3]]`` -> ``[1, 2, 3]``."""
    if not isinstance(items, list):
        return items
    out: list[Any] = []
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out


#: Nodes whose value is a list made by a wildcard (``*``, ``[*]``, ``[]``, ``[?…]``).
_PROJECTIONS = frozenset(
    {
        "projection",
        "value_projection",
        "filter_projection",
        "flatten",
        "flat_projection",
        "flat_value_projection",
        "flat_filter_projection",
    }
)


def flatten_wildcards(node: Any) -> Any:
    """The tree with every wildcard after another wildcard giving one flat list.

    In plain JMESPath ``a.*.b.*.c`` is null (``.*`` of a list) and ``a[*].b[*].c`` a list of
    lists; authors reading an answer mean "every c", so both become one flat list.
    """
    children = [
        flatten_wildcards(c) if isinstance(c, Mapping) else c for c in node.get("children", ())
    ]
    out = {**node, "children": children}
    kind = node.get("type")
    nested_right = len(children) > 1 and children[1].get("type") in _PROJECTIONS
    over_list = bool(children) and children[0].get("type") in _PROJECTIONS
    if kind == "value_projection" and (over_list or nested_right):
        out["type"] = "flat_value_projection"
        out["over_list"], out["flatten"] = over_list, nested_right
    elif kind in ("projection", "filter_projection") and nested_right:
        out["type"] = f"flat_{kind}"
    return out


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the compiled closures call: the function table and the interpreter for the rest."""

    functions: LeadpostFunctions
    interpreter: jp_visitor.TreeInterpreter

    @classmethod
    def with_patterns(cls, patterns: Mapping[str, Regex] | None = None) -> Runtime:
        functions = LeadpostFunctions(patterns)
        options = jp_visitor.Options(custom_functions=functions)
        return cls(functions, _Interpreter(options))


_DEFAULT = Runtime.with_patterns()


class CompiledExpression:
    """A JMESPath expression ready to run: ``search(data)`` as in jmespath, but faster."""

    __slots__ = ("expression", "parsed", "search")

    def __init__(self, parsed: ParsedResult, patterns: Mapping[str, Regex] | None = None) -> None:
        self.expression: str = parsed.expression
        self.parsed: Mapping[str, Any] = parsed.parsed
        """The syntax tree, for compile-time analysis (which lead fields a condition reads)."""
        runtime = Runtime.with_patterns(patterns) if patterns else _DEFAULT
        self.search: Search = compile_node(parsed.parsed, runtime)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.expression!r})"


def compile_node(node: Mapping[str, Any], runtime: Runtime = _DEFAULT) -> Search:
    kind = node["type"]
    builder = _BUILDERS.get(kind)
    if builder is None:
        return _interpreted(node, runtime)
    return builder(node, runtime)


def _interpreted(node: Mapping[str, Any], runtime: Runtime) -> Search:
    visit = runtime.interpreter.visit
    tree: Any = node
    return lambda value: visit(tree, value)


def _field(node: Mapping[str, Any], runtime: Runtime) -> Search:
    key = node["value"]

    def field(value: Any) -> Any:
        return value.get(key) if type(value) is dict else None

    return field


def _subexpression(node: Mapping[str, Any], runtime: Runtime) -> Search:
    children = node["children"]
    keys = [c["value"] for c in children if c["type"] == "field"]
    if len(keys) == len(children):  # a.b.c: the most common shape, one loop

        def path(value: Any) -> Any:
            for key in keys:
                if type(value) is not dict:
                    return None
                value = value.get(key)
            return value

        return path
    steps = [compile_node(c, runtime) for c in children]

    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chain


def _comparator(node: Mapping[str, Any], runtime: Runtime) -> Search:
    left, right = (compile_node(c, runtime) for c in node["children"])
    op = node["value"]
    if op == "eq":
        return lambda value: _equals(left(value), right(value))
    if op == "ne":
        return lambda value: not _equals(left(value), right(value))
    compare = _ORDER[op]

    def ordered(value: Any) -> Any:
        a, b = left(value), right(value)
        if not (_is_comparable(a) and _is_comparable(b)):
            return None
        try:
            return compare(a, b)
        except TypeError:  # a number against a string: jmespath raises, we say null
            return None

    return ordered


def _and(node: Mapping[str, Any], runtime: Runtime) -> Search:
    left, right = (compile_node(c, runtime) for c in node["children"])

    def both(value: Any) -> Any:
        first = left(value)
        return first if is_false(first) else right(value)

    return both


def _or(node: Mapping[str, Any], runtime: Runtime) -> Search:
    left, right = (compile_node(c, runtime) for c in node["children"])

    def either(value: Any) -> Any:
        first = left(value)
        return right(value) if is_false(first) else first

    return either


def _not(node: Mapping[str, Any], runtime: Runtime) -> Search:
    inner = compile_node(node["children"][0], runtime)
    return lambda value: is_false(inner(value))


def _literal(node: Mapping[str, Any], runtime: Runtime) -> Search:
    constant = node["value"]
    return lambda value: constant


def _current(node: Mapping[str, Any], runtime: Runtime) -> Search:
    return lambda value: value


def _index_expression(node: Mapping[str, Any], runtime: Runtime) -> Search:
    left_node, right_node = node["children"]
    if right_node["type"] != "index":
        return _interpreted(node, runtime)
    left, index = compile_node(left_node, runtime), right_node["value"]

    def at(value: Any) -> Any:
        items = left(value)
        if type(items) is not list:
            return None
        try:
            return items[index]
        except IndexError:
            return None

    return at


def _pipe(node: Mapping[str, Any], runtime: Runtime) -> Search:
    left, right = (compile_node(c, runtime) for c in node["children"])
    return lambda value: right(left(value))


def _function(node: Mapping[str, Any], runtime: Runtime) -> Search:
    if any(c["type"] == "expref" for c in node["children"]):
        return _interpreted(node, runtime)  # sort_by(@, &key) and friends need the interpreter
    name = node["value"]
    args = [compile_node(c, runtime) for c in node["children"]]
    call = runtime.functions.call_function
    return lambda value: call(name, [a(value) for a in args])


_BUILDERS: dict[str, Callable[[Mapping[str, Any], Runtime], Search]] = {
    "field": _field,
    "subexpression": _subexpression,
    "comparator": _comparator,
    "and_expression": _and,
    "or_expression": _or,
    "not_expression": _not,
    "literal": _literal,
    "current": _current,
    "identity": _current,
    "index_expression": _index_expression,
    "pipe": _pipe,
    "function_expression": _function,
}

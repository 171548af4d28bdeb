"""JMESPath compiled to Python closures: parse once with jmespath, then run without a visitor.

jmespath.py interprets its syntax tree on every search (a visitor call per node), which made one
conditional field cost more than thirty others together. This stage turns the common nodes
(fields, sub-expressions, comparisons, and/or/not, literals, indexes, pipes, function calls)
into nested closures with jmespath's own semantics; any other node (projections, filters,
slices, multiselects…) is handed, subtree by subtree, to jmespath's interpreter, so every valid
expression gives exactly what ``jmespath.search`` gives (a Hypothesis test checks this).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from jmespath import functions as jp_functions
from jmespath import visitor as jp_visitor
from jmespath.parser import ParsedResult

Search = Callable[[Any], Any]

_INTERPRETER = jp_visitor.TreeInterpreter()
_FUNCTIONS = jp_functions.Functions()
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


class CompiledExpression:
    """A JMESPath expression ready to run: ``search(data)`` as in jmespath, but faster."""

    __slots__ = ("expression", "parsed", "search")

    def __init__(self, parsed: ParsedResult) -> None:
        self.expression: str = parsed.expression
        self.parsed: Mapping[str, Any] = parsed.parsed
        """The syntax tree, for compile-time analysis (which lead fields a condition reads)."""
        self.search: Search = compile_node(parsed.parsed)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.expression!r})"


def compile_node(node: Mapping[str, Any]) -> Search:
    kind = node["type"]
    builder = _BUILDERS.get(kind)
    if builder is None:
        return _interpreted(node)
    return builder(node)


def _interpreted(node: Mapping[str, Any]) -> Search:
    visit = _INTERPRETER.visit
    tree: Any = node
    return lambda value: visit(tree, value)


def _field(node: Mapping[str, Any]) -> Search:
    key = node["value"]

    def field(value: Any) -> Any:
        return value.get(key) if type(value) is dict else None

    return field


def _subexpression(node: Mapping[str, Any]) -> Search:
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
    steps = [compile_node(c) for c in children]

    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chain


def _comparator(node: Mapping[str, Any]) -> Search:
    left, right = (compile_node(c) for c in node["children"])
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


def _and(node: Mapping[str, Any]) -> Search:
    left, right = (compile_node(c) for c in node["children"])

    def both(value: Any) -> Any:
        first = left(value)
        return first if is_false(first) else right(value)

    return both


def _or(node: Mapping[str, Any]) -> Search:
    left, right = (compile_node(c) for c in node["children"])

    def either(value: Any) -> Any:
        first = left(value)
        return right(value) if is_false(first) else first

    return either


def _not(node: Mapping[str, Any]) -> Search:
    inner = compile_node(node["children"][0])
    return lambda value: is_false(inner(value))


def _literal(node: Mapping[str, Any]) -> Search:
    constant = node["value"]
    return lambda value: constant


def _current(node: Mapping[str, Any]) -> Search:
    return lambda value: value


def _index_expression(node: Mapping[str, Any]) -> Search:
    left_node, right_node = node["children"]
    if right_node["type"] != "index":
        return _interpreted(node)
    left, index = compile_node(left_node), right_node["value"]

    def at(value: Any) -> Any:
        items = left(value)
        if type(items) is not list:
            return None
        try:
            return items[index]
        except IndexError:
            return None

    return at


def _pipe(node: Mapping[str, Any]) -> Search:
    left, right = (compile_node(c) for c in node["children"])
    return lambda value: right(left(value))


def _function(node: Mapping[str, Any]) -> Search:
    if any(c["type"] == "expref" for c in node["children"]):
        return _interpreted(node)  # sort_by(@, &key) and friends need the interpreter
    name = node["value"]
    args = [compile_node(c) for c in node["children"]]
    call = _FUNCTIONS.call_function
    return lambda value: call(name, [a(value) for a in args])


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Search]] = {
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

"""The JMESPath closure compiler gives exactly what jmespath.search gives."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler.jmes import CompiledExpression, is_false

EXPRESSIONS = [
    "a",
    "a.b",
    "a.b.c",
    "a == `1`",
    "a != 'x'",
    "a > `2`",
    "a >= b",
    "a < 'm'",
    "a <= `0.5`",
    "a && b",
    "a || b",
    "!a",
    "a.b == `true`",
    "a[0]",
    "a[1].b",
    "a[-1]",
    "a | b",
    "length(a)",
    "to_number(a) > `0`",
    "contains(a, 'x')",
    "a[?b == `1`] | length(@) > `0`",
    "a[].b",
    "a[*].b",
    "{x: a, y: b}",
    "sort_by(a, &b)",
    "@",
    "`null`",
    "a.b && !c || d",
]

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "x", "m", "abc", "0", "1.5"]),
)
data = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), inner, max_size=4),
    ),
    max_leaves=12,
)


def _reference(expr: str, value: Any) -> tuple[str, Any]:
    try:
        return "ok", jmespath.search(expr, value)
    except Exception as exc:
        return "error", type(exc).__name__


@pytest.mark.parametrize("expr", EXPRESSIONS)
@given(value=data)
def test_compiled_matches_jmespath(expr: str, value: Any) -> None:
    """Same result as jmespath for any data; where jmespath raises, we raise, or say null
    (ordering a number against a text) or false (``contains()`` of a missing value)."""
    compiled = CompiledExpression(jmespath.compile(expr))
    kind, expected = _reference(expr, value)
    if kind == "ok":
        assert compiled.search(value) == expected
    else:
        try:
            got = compiled.search(value)
        except Exception:
            return
        # only ordering a number against a string is softened to null, contains(null) to false
        assert got is None or (got is False and expr.startswith("contains("))


def test_falsiness_follows_jmespath() -> None:
    """false, null, "", [] and {} are false; 0 and "0" are true."""
    values: tuple[object, ...] = (False, None, "", [], {}, 0, "0", [0])
    assert [is_false(v) for v in values] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]

"""Patterns that cannot hang: every user-written regular expression is compiled with RE2."""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler.context import CompileContext
from engine.compiler.response import compile_response
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import ResponseSpec
from engine.errors import Issue
from engine.patterns import MAX_PATTERN, PatternError, compile_pattern
from engine.plan import RenderContext
from engine.transforms import compile_step

EVIL = "(a+)+$"


def step(yaml: str) -> tuple[object, list[Issue]]:
    doc = load_yaml_text(f"steps:\n  - {yaml}\n", "t.yaml")
    ctx = CompileContext(doc.source)
    return compile_step(doc.data["steps"][0], ("steps", 0), ctx), ctx.issues


def response(text: str) -> tuple[object, list[Issue], str]:
    text = textwrap.dedent(text)
    doc = load_yaml_text(text, "b.yaml")
    ctx = CompileContext(doc.source)
    spec = ResponseSpec.model_validate(doc.data["response"])
    return compile_response(spec, ("response",), ctx), ctx.issues, text


def test_patterns_are_re2_patterns() -> None:
    """The engine's compiled pattern is RE2's, not Python's backtracking ``re``."""
    compiled = compile_pattern(EVIL)
    assert isinstance(compiled, re2._Regexp) and not isinstance(compiled, re.Pattern)


def test_a_catastrophic_pattern_renders_a_long_value() -> None:
    """`(a+)+$` on 40 a's and a '!': Python's re takes minutes; RE2 answers at once (a hang
    would trip the suite's timeout, no clock needed)."""
    compiled, issues = step("{replace: {pattern: '(a+)+$', with: 'X'}}")
    assert issues == [] and compiled is not None
    run = compiled[0]  # type: ignore[index]
    ctx = RenderContext(lead={}, now=datetime(2024, 12, 15, tzinfo=UTC))
    assert run("a" * 40 + "!", ctx) == "a" * 40 + "!"
    assert run("a" * 40, ctx) == "X"


@pytest.mark.parametrize(
    ("pattern", "what", "offset"),
    [
        (r"(\d)\1", "backreferences (\\1)", 4),
        (r"OK(?=;)", "lookahead", 2),
        (r"OK(?!;)", "negative lookahead", 2),
        (r"(?<=id=)\d+", "lookbehind", 0),
        (r"(?<!x)y", "negative lookbehind", 0),
        (r"(?>a)", "atomic groups", 0),
        (r"a++", "possessive repeats", 1),
    ],
)
def test_features_re2_lacks_are_named_with_their_place(
    pattern: str, what: str, offset: int
) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert caught.value.unsupported and caught.value.message.startswith(what)
    assert caught.value.offset == offset


def test_lookahead_in_a_transform_is_lp315_at_the_pattern() -> None:
    _, issues = step("{replace: {pattern: 'a(?=b)', with: ''}}")
    assert [(i.code, i.message.split(": leadpost")[0]) for i in issues] == [
        ("LP315", "replace: lookahead (?=…) is not supported")
    ]


def test_backreference_in_a_match_rule_points_at_it() -> None:
    _, issues, text = response(
        """
        response:
          body: text
          rules:
            - match: 'id=(\\d)\\1'
              outcome: accepted
        """
    )
    assert [i.code for i in issues] == ["LP315"]
    span = issues[0].span
    assert span is not None
    assert text.splitlines()[span.line - 1][span.col - 1 :].startswith("\\1")


def test_lookbehind_inside_matches_points_into_the_condition() -> None:
    _, issues, text = response(
        """
        response:
          rules:
            - if: "matches(message, 'x(?<=a)')"
              outcome: accepted
        """
    )
    assert [i.code for i in issues] == ["LP315"]
    span = issues[0].span
    assert span is not None
    assert text.splitlines()[span.line - 1][span.col - 1 :].startswith("(?<=a)")


def test_a_very_long_pattern_is_refused() -> None:
    with pytest.raises(PatternError, match="at most 2,000"):
        compile_pattern("a" * (MAX_PATTERN + 1))


@given(st.text(max_size=60))
def test_any_text_compiles_or_gives_our_error(text: str) -> None:
    """Any pattern text: an RE2 pattern, or PatternError with an offset inside the text."""
    try:
        compile_pattern(text)
    except PatternError as exc:
        assert 0 <= exc.offset <= max(len(text), 0) and exc.message


@given(st.text(alphabet="()[]{}|*+?\\^$.:=!<>Pa1,", max_size=30))
def test_regex_syntax_soup_compiles_or_gives_our_error(text: str) -> None:
    try:
        compile_pattern(text)
    except PatternError as exc:
        assert 0 <= exc.offset <= len(text) and exc.message

"""Response functions and paths: regular expressions, text ignoring case, missing values, several
wildcards, reasons that are blank or absent, and BeautifulSoup's :-soup-contains()."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler.context import CompileContext
from engine.compiler.jmes_functions import LeadpostFunctions
from engine.compiler.response import NO_RULE, compile_response
from engine.compiler.response_exprs import compile_expression
from engine.dsl.loader import SourceMap, load_yaml_text
from engine.dsl.models import ResponseSpec
from engine.errors import Issue
from engine.plan import Interpretation, ResponsePlan


def compiled(text: str) -> tuple[ResponsePlan | None, list[Issue], str]:
    text = textwrap.dedent(text)
    doc = load_yaml_text(text, "b.yaml")
    ctx = CompileContext(doc.source)
    spec = ResponseSpec.model_validate(doc.data["response"])
    return compile_response(spec, ("response",), ctx), ctx.issues, text


def plan_for(text: str) -> ResponsePlan:
    plan, issues, _ = compiled(text)
    assert plan is not None, [i.render() for i in issues]
    return plan


def read(plan: ResponsePlan, body: str, status: int = 200) -> Interpretation:
    return plan.interpret(status, {}, body.encode())


def search(expr: str, data: Any) -> Any:
    ctx = CompileContext(SourceMap("b.yaml", expr))
    expression = compile_expression(expr, (), ctx)
    assert expression is not None, [i.render() for i in ctx.issues]
    return expression.search(data)


# -- conditions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "data", "expected"),
    [
        ("matches(message, '^OK')", {"message": "OK 123"}, True),
        ("matches(message, '^OK')", {"message": "NOT OK"}, False),
        ("matches(message, '(?i)^ok$')", {"message": "Ok"}, True),
        ("matches(code, '^2\\d\\d$')", {"code": 201}, True),
        ("matches(missing, 'x')", {}, False),
        ("matches(errors[].code, '^DUP')", {"errors": [{"code": "E1"}, {"code": "DUP9"}]}, True),
        ("capture(message, '^ERROR: (.*)$')", {"message": "ERROR: bad zip"}, "bad zip"),
        ("capture(message, 'id=(?P<value>\\d+)')", {"message": "ok id=42 x=1"}, "42"),
        ("capture(message, 'ok')", {"message": "it is ok"}, "ok"),
        ("capture(message, 'id=(\\d+)')", {"message": "none"}, None),
        ("capture(missing, 'x')", {}, None),
        ("equals_ignore_case(status, 'success')", {"status": "SUCCESS"}, True),
        ("equals_ignore_case(status, 'success')", {"status": "successful"}, False),
        ("equals_ignore_case(missing, 'success')", {}, False),
        ("equals_ignore_case(flag, 'TRUE')", {"flag": True}, True),
        ("contains_ignore_case(message, 'duplicate')", {"message": "Lead is a DUPLICATE"}, True),
        ("contains_ignore_case(codes, 'dup')", {"codes": ["X", "DUP"]}, True),
        ("contains_ignore_case(codes, 'du')", {"codes": ["X", "DUP"]}, False),
        ("contains_ignore_case(missing, 'dup')", {}, False),
        ("lower(status) == 'ok'", {"status": "OK"}, True),
        ("upper(status)", {"status": "ok"}, "OK"),
        ("trim(status) == 'ok'", {"status": "  ok \n"}, True),
        ("lower(codes)", {"codes": ["A", 1, None]}, ["a", "1"]),
        ("lower(missing)", {}, None),
        ("contains(message, 'dup')", {}, False),
        ("starts_with(message, 'OK')", {}, False),
        ("ends_with(message, 'OK')", {}, False),
        ("contains(message, 'dup')", {"message": "a dup"}, True),
        ("price > `0`", {}, None),
        ("items[?price > `0`] | length(@)", {"items": [{"price": "1"}, {"price": 2}]}, 1),
    ],
)
def test_functions(expr: str, data: Any, expected: Any) -> None:
    """Each function on present, missing and differently spelt values."""
    assert search(expr, data) == expected


def test_contains_on_a_missing_value_is_a_refusal_not_a_bad_response() -> None:
    """`contains()` of a missing path is false, so the next rule decides (it raised before)."""
    plan = plan_for(
        """
        response:
          rules:
            - {if: "contains(result.message, 'accepted')", outcome: accepted}
            - {if: "status == 'rejected'", outcome: rejected}
          extract: {reason: reason}
        """
    )
    r = read(plan, '{"status": "rejected", "reason": "renter"}')
    assert (r.decision, r.reason) == ("rejected", "renter")


def test_a_case_insensitive_rule() -> None:
    """A buyer that spells its status any way it likes."""
    plan = plan_for(
        """
        response:
          rules:
            - {if: "equals_ignore_case(trim(status), 'success')", outcome: accepted}
            - {if: "contains_ignore_case(message, 'duplicate')", outcome: duplicate}
            - {if: "matches(code, '^E\\\\d+$')", outcome: rejected}
        """
    )
    assert read(plan, '{"status": " SUCCESS "}').decision == "accepted"
    assert read(plan, '{"message": "Duplicate lead"}').decision == "duplicate"
    assert read(plan, '{"code": "E42"}').decision == "rejected"
    assert read(plan, '{"code": "X42"}').decision == "error"


def test_capture_in_extract() -> None:
    """capture() reads a piece of a value: the lead id inside a sentence."""
    plan = plan_for(
        """
        response:
          rules:
            - {if: "matches(message, '^Accepted')", outcome: accepted}
          extract:
            buyer_lead_id: "capture(message, 'lead (?P<value>[A-Z]+-\\\\d+)')"
        """
    )
    r = read(plan, '{"message": "Accepted as lead AB-123, thanks"}')
    assert r.values["buyer_lead_id"] == "AB-123"


# -- regular expressions are checked when the file loads ---------------------------------------


def test_a_bad_pattern_in_a_condition_points_into_the_condition() -> None:
    """LP305 at the character of the pattern that is wrong, inside the condition."""
    _, issues, text = compiled(
        """
        response:
          rules:
            - if: "matches(message, '^(OK')"
              outcome: accepted
        """
    )
    assert [i.code for i in issues] == ["LP305"]
    rendered = issues[0].render(text)
    assert "invalid regular expression: a group opened here is never closed" in rendered
    assert issues[0].span is not None
    line = text.splitlines()[issues[0].span.line - 1]
    assert line[issues[0].span.col - 1 :].startswith("(OK")


def test_a_pattern_must_be_written_in_quotes() -> None:
    """A pattern read from the answer itself is refused: only patterns written in the file run."""
    _, issues, _ = compiled(
        """
        response:
          rules:
            - if: "matches(message, pattern)"
              outcome: accepted
        """
    )
    assert [(i.code, i.message) for i in issues] == [
        ("LP303", "the pattern of matches() must be written as text in single quotes")
    ]


def test_regex_functions_take_two_arguments() -> None:
    """matches() with one argument is LP303, like any JMESPath function."""
    _, issues, _ = compiled(
        """
        response:
          rules:
            - {if: "matches(message)", outcome: accepted}
        """
    )
    assert [i.code for i in issues] == ["LP303"]
    assert "takes 2 arguments, not 1" in issues[0].message


def test_an_uncompiled_pattern_is_our_error() -> None:
    """A function table without the pattern says so (never a bare KeyError)."""
    functions = LeadpostFunctions()
    with pytest.raises(Exception, match="was not compiled"):
        functions.call_function("matches", ["x", "x"])


# -- several wildcards ---------------------------------------------------------------------------

NESTED = {
    "offers": {
        "a": {"errors": {"e1": {"message": "renter"}, "e2": {"message": "bad zip"}}},
        "b": {"errors": {"e3": {"message": "no demand"}}},
    },
    "items": [{"errors": [{"message": "one"}, {"message": "two"}]}, {"errors": [{"message": "3"}]}],
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("offers.*.errors.*.message", ["renter", "bad zip", "no demand"]),
        ("items[*].errors[*].message", ["one", "two", "3"]),
        ("items[].errors[].message", ["one", "two", "3"]),
        ("offers.*.errors.*.message | length(@)", 3),
        ("contains(items[*].errors[*].message, 'two')", True),
        ("items[?errors].errors[*].message", ["one", "two", "3"]),
        ("offers.a.errors.*.message", ["renter", "bad zip"]),
    ],
)
def test_several_wildcards_give_one_flat_list(expr: str, expected: Any) -> None:
    """a.*.b.*.c and a[*].b[*].c give every c (plain JMESPath: null, or a list of lists)."""
    assert search(expr, NESTED) == expected


def test_several_wildcards_in_a_reason() -> None:
    """Every message under every offer becomes one reason."""
    plan = plan_for(
        """
        response:
          rules:
            - {if: "status == 'rejected'", outcome: rejected}
          extract: {reason: "offers.*.errors.*.message"}
        """
    )
    body = '{"status": "rejected", "offers": {"a": {"errors": {"x": {"message": "renter"}}},'
    body += ' "b": {"errors": {"y": {"message": "bad zip"}}}}}'
    assert read(plan, body).reason == "renter; bad zip"


# -- reasons -------------------------------------------------------------------------------------

OTHERWISE = """
    response:
      rules:
        - {{if: "status == 'rejected'", outcome: rejected}}
      otherwise: {otherwise}
      extract: {{reason: message}}
    """


@pytest.mark.parametrize(
    ("otherwise", "body", "reason"),
    [
        ("accepted", '{"status": "ok"}', None),
        ("accepted", '{"status": "ok", "message": "thanks"}', "thanks"),
        ("rejected", '{"status": "??"}', NO_RULE),
        ("rejected", '{"status": "??", "message": "  "}', NO_RULE),
        ("rejected", '{"status": "??", "message": "no"}', "no"),
        ("error", '{"status": "??"}', NO_RULE),
        ("error", '{"status": "??", "message": "later"}', f"{NO_RULE}: later"),
        ("error", '{"status": "rejected", "message": ""}', None),
        ("error", '{"status": "rejected", "message": "  "}', None),
    ],
)
def test_reasons(otherwise: str, body: str, reason: str | None) -> None:
    """'matched no rule' only when no rule matched and the outcome is not accepted; a blank
    extracted reason is no reason."""
    plan = plan_for(OTHERWISE.format(otherwise=otherwise))
    r = read(plan, body)
    assert r.reason == reason
    if reason in (None, NO_RULE):
        assert "reason" not in r.values


def test_a_blank_rule_reason_is_no_reason() -> None:
    """`reason: " "` on a rule gives way to the extracted reason."""
    plan = plan_for(
        """
        response:
          rules:
            - {if: "status == 'rejected'", outcome: rejected, reason: " "}
          extract: {reason: message}
        """
    )
    assert read(plan, '{"status": "rejected", "message": "renter"}').reason == "renter"


# -- CSS -----------------------------------------------------------------------------------------


def test_css_contains_works() -> None:
    """:contains('text') picks elements by their text."""
    plan = plan_for(
        """
        response:
          body: html
          rules:
            - {select: "div.result:contains('Thank you')", outcome: accepted}
            - {select: div.result, outcome: rejected}
        """
    )
    assert read(plan, '<div class="result">Thank you!</div>').decision == "accepted"
    assert read(plan, '<div class="result">Sorry</div>').decision == "rejected"


def test_soup_contains_points_to_contains() -> None:
    """BeautifulSoup's :-soup-contains() is refused with the spelling leadpost reads."""
    _, issues, text = compiled(
        """
        response:
          body: html
          rules:
            - {select: "div:-soup-contains('OK')", outcome: accepted}
        """
    )
    assert [i.code for i in issues] == ["LP307"]
    assert issues[0].hint is not None and ":contains('text')" in issues[0].hint
    assert issues[0].span is not None
    line = text.splitlines()[issues[0].span.line - 1]
    assert line[issues[0].span.col - 1 :].startswith(":-soup-contains(")


# -- properties ----------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.text(), scalars))
FUNCTIONS = [
    "matches(@, '^a')",
    "capture(@, '(a+)')",
    "equals_ignore_case(@, 'A')",
    "contains_ignore_case(@, 'a')",
    "lower(@)",
    "upper(@)",
    "trim(@)",
    "contains(@, 'a')",
]


@pytest.mark.parametrize("expr", FUNCTIONS)
@given(value=values)
def test_functions_never_raise_on_any_value(expr: str, value: Any) -> None:
    """Whatever the buyer sends, leadpost's functions give a value (contains() may still refuse
    a number or an object, as JMESPath does)."""
    try:
        search(expr, value)
    except Exception as exc:
        assert expr.startswith("contains(") and isinstance(value, bool | int | dict), exc

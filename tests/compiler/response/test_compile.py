"""Compiling a `response:` section: every expression checked once, problems pinned to positions."""

from __future__ import annotations

import pytest

from engine.compiler.context import CompileContext
from engine.compiler.response import compile_response, describe, extracted_names
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import ResponseSpec
from engine.errors import Issue
from engine.plan import ResponsePlan


def compile_text(text: str) -> tuple[ResponsePlan | None, list[Issue], str]:
    doc = load_yaml_text(text, "b.yaml")
    ctx = CompileContext(doc.source)
    plan = compile_response(ResponseSpec.model_validate(doc.data["response"]), ("response",), ctx)
    return plan, ctx.issues, text


def rendered(text: str) -> list[str]:
    """Each issue as the user sees it: position, code, message, hint and caret line."""
    plan, issues, source = compile_text(text)
    if any(i.severity == "error" for i in issues):
        assert plan is None
    return [i.render(source) for i in issues]


def test_invalid_jmespath_condition_points_at_the_problem() -> None:
    """LP303 names the unclosed quote and puts the caret on it."""
    text = 'response:\n  rules:\n    - if: "status == \'ok"\n      outcome: accepted\n'
    assert rendered(text) == [
        "b.yaml:3:22: LP303 this condition is not valid JMESPath: the ' opened here is never "
        "closed (character 11)\n"
        "  hint: write text in single quotes (status == 'ok'), numbers and true/false in "
        "backquotes (success == `true`), and wrap a condition that starts with a quote or [ in "
        "double quotes\n"
        '   3 |     - if: "status == \'ok"\n'
        "                            ^"
    ]


def test_incomplete_jmespath_extract() -> None:
    """An extract that stops mid-way is LP303 'ends too early', at the end of the expression."""
    text = "response:\n  extract:\n    price: bid.\n"
    assert rendered(text)[0].splitlines()[0] == (
        "b.yaml:3:16: LP303 this expression is not valid JMESPath: the expression ends too early "
        "(character 5)"
    )


def test_unknown_jmespath_function_suggests_the_right_one() -> None:
    """A misspelt function is caught at compile time, not on the first lead."""
    text = 'response:\n  rules:\n    - if: "lenght(errors) > `0`"\n      outcome: rejected\n'
    assert rendered(text) == [
        "b.yaml:3:12: LP303 unknown JMESPath function 'lenght'\n"
        "  hint: did you mean 'length'?\n"
        '   3 |     - if: "lenght(errors) > `0`"\n'
        "                  ^"
    ]


def test_jmespath_function_argument_count() -> None:
    """A function given the wrong number of arguments is LP303."""
    text = 'response:\n  extract:\n    price: "to_number(a, b)"\n'
    assert rendered(text)[0].splitlines()[0] == (
        "b.yaml:3:13: LP303 the JMESPath function 'to_number' takes 1 argument, not 2"
    )


def test_invalid_regex_points_at_the_problem() -> None:
    """LP305 gives the regex's own message and the character."""
    text = "response:\n  body: text\n  rules:\n    - match: 'OK(\\d+'\n      outcome: accepted\n"
    assert rendered(text) == [
        "b.yaml:4:17: LP305 invalid regular expression: a group opened here is never closed "
        "with ) (character 3)\n"
        "  hint: write a backslash before characters meant literally, e.g. \\| or \\(\n"
        "   4 |     - match: 'OK(\\d+'\n"
        "                       ^"
    ]


def test_invalid_regex_extract() -> None:
    """A text extract is a regex: LP305 when it does not compile."""
    text = "response:\n  body: text\n  extract:\n    reason: 'ERROR|(.*'\n"
    assert rendered(text)[0].startswith("b.yaml:4:20: LP305 invalid regular expression: ")


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            "div[",
            "b.yaml:4:20: LP307 'div[' is not a valid CSS selector: the selector ends too early",
        ),
        ("p..x", "b.yaml:4:18: LP307 'p..x' is not a valid CSS selector: '.' is not expected here"),
        (
            "p:foo",
            "b.yaml:4:16: LP307 'p:foo' is not a valid CSS selector: "
            "The pseudo-class :foo is unknown",
        ),
    ],
)
def test_invalid_css_selector(selector: str, message: str) -> None:
    """LP307 for a selector cssselect cannot read."""
    text = (
        f"response:\n  body: html\n  rules:\n    - select: '{selector}'\n      outcome: accepted\n"
    )
    assert rendered(text)[0].splitlines()[0] == message


def test_condition_that_cannot_apply_to_the_body_kind() -> None:
    """`select` on JSON and `if` on text are LP312, pointing at the key."""
    text = "response:\n  body: json\n  rules:\n    - select: div.ok\n      outcome: accepted\n"
    assert rendered(text) == [
        "b.yaml:4:7: LP312 'select' reads an HTML body, but this response is read as json "
        "(body: json)\n"
        "  hint: use 'match' or 'contains' on text, 'if' on JSON or XML, 'select' on HTML, or "
        "change 'body:'\n"
        "   4 |     - select: div.ok\n"
        "             ^"
    ]
    text = "response:\n  body: text\n  rules:\n    - if: ok\n      outcome: accepted\n"
    assert rendered(text)[0].splitlines()[0] == (
        "b.yaml:4:7: LP312 'if' reads a JSON or XML body, but this response is read as text "
        "(body: text)"
    )


def test_lenient_xml_on_another_body_is_a_warning() -> None:
    """lenient_xml with body json is only a warning: the plan still compiles."""
    plan, issues, _ = compile_text("response:\n  body: json\n  lenient_xml: true\n")
    assert plan is not None
    assert [(i.code, i.severity) for i in issues] == [("LP312", "warning")]


def test_catch_all_rule_must_be_last() -> None:
    """A rule without conditions before other rules is LP312."""
    text = "response:\n  rules:\n    - outcome: rejected\n    - if: ok\n      outcome: accepted\n"
    assert rendered(text)[0].splitlines()[:2] == [
        "b.yaml:3:7: LP312 this rule has no condition, so it decides every 2xx response and the "
        "rules after it are never tried",
        "  hint: move it to the end of the rules, or give it a condition",
    ]


def test_catch_all_last_is_fine() -> None:
    """The last rule may have no condition."""
    plan, issues, _ = compile_text(
        "response:\n  rules:\n    - if: ok\n      outcome: accepted\n    - outcome: rejected\n"
    )
    assert plan is not None and issues == []


@pytest.mark.parametrize(
    ("status", "where"),
    [("[200, 2x]", "3:21"), ("99", "3:15"), ("600", "3:15"), ("ok", "3:15")],
)
def test_invalid_status(status: str, where: str) -> None:
    """A status that is not a code or class is LP204 at the bad item."""
    text = f"response:\n  rules:\n    - status: {status}\n      outcome: accepted\n"
    first = rendered(text)[0].splitlines()[:2]
    bad = status.strip("[]").split(", ")[-1]
    assert first == [
        f"b.yaml:{where}: LP204 '{bad}' is not an HTTP status",
        "  hint: write a code such as 200 or 409, a class such as 2xx or 4xx, or a list",
    ]


def test_empty_conditions_and_expressions_are_refused() -> None:
    """An empty `contains` would match everything; an empty extract reads nothing."""
    text = (
        'response:\n  rules:\n    - contains: ""\n      outcome: accepted\n  extract:\n    id: ""\n'
    )
    assert [line.splitlines()[0] for line in rendered(text)] == [
        "b.yaml:3:17: LP204 'contains' is empty",
        "b.yaml:6:9: LP204 the expression for 'id' is empty",
    ]


def test_extract_name_must_be_usable_by_later_stages() -> None:
    """A name later stages cannot refer to (with a space) is LP204 at the key."""
    text = "response:\n  extract:\n    lead id: id\n"
    assert rendered(text)[0].splitlines()[0] == (
        "b.yaml:3:5: LP204 'lead id' cannot name an extracted value"
    )


def test_all_problems_are_reported_at_once() -> None:
    """Every bad expression of the section is reported in one go."""
    text = (
        "response:\n  rules:\n    - if: 'a =='\n      outcome: accepted\n"
        "    - match: '('\n      outcome: rejected\n  extract:\n    id: 'x['\n"
    )
    assert [i.code for i in compile_text(text)[1]] == ["LP303", "LP305", "LP303"]


def test_extracted_names_include_named_captures() -> None:
    """Later stages may use extract keys and the named groups of `match` rules."""
    spec = ResponseSpec.model_validate(
        {
            "body": "text",
            "rules": [
                {"match": r"^OK\|(?P<ping_id>\d+)\|(?P<price>[\d.]+)", "outcome": "accepted"},
                {"match": "(", "outcome": "rejected"},
                {"contains": "no", "outcome": "rejected"},
            ],
            "extract": {"token": "token=(\\w+)"},
        }
    )
    assert extracted_names(spec) == frozenset({"ping_id", "price", "token"})


def test_description_is_plain_english() -> None:
    """The plan's description lists the rules and extracts for `leadpost explain`."""
    spec = ResponseSpec.model_validate(
        {"rules": [{"if": "ok", "outcome": "accepted"}], "extract": {"buyer_lead_id": "id"}}
    )
    assert describe(spec) == (
        "body read as json; rule 1: status 2xx and if 'ok' -> accepted; "
        "any other 2xx -> error; extracts buyer_lead_id"
    )

"""Compile errors of transform steps: codes, plain messages, hints and exact positions."""

from __future__ import annotations

import pytest

from engine.compiler.context import CompileContext
from engine.dsl.loader import load_yaml_text
from engine.errors import Issue
from engine.transforms import compile_step


def problems(step_yaml: str) -> list[Issue]:
    """Compile one step written on line 2 (``steps:`` / ``  - <step>``); the issues reported."""
    doc = load_yaml_text(f"steps:\n  - {step_yaml}\n", "t.yaml")
    ctx = CompileContext(doc.source)
    result = compile_step(doc.data["steps"][0], ("steps", 0), ctx)
    assert (result is None) == bool(ctx.issues)
    return ctx.issues


ERRORS = [
    ("unknown-name", "uper", "LP301", "unknown transform 'uper'", "did you mean 'upper'?", 5),
    (
        "unknown-name-in-mapping",
        "{phnoe: dashes}",
        "LP301",
        "unknown transform 'phnoe'",
        "did you mean 'phone'?",
        6,
    ),
    (
        "no-args-allowed",
        "{upper: yes}",
        "LP302",
        "upper takes no settings",
        "write it as '- upper'",
        13,
    ),
    (
        "two-names",
        "{upper: , lower: }",
        "LP302",
        "each step names one transform, like 'upper' or 'phone: dashes'",
        "put each transform on its own '- ' line",
        5,
    ),
    (
        "bad-choice",
        "{phone: dash}",
        "LP302",
        "phone: 'style' must be 'digits', 'e164', 'dashes', 'parentheses' or 'dots'",
        "did you mean 'dashes'?",
        13,
    ),
    ("missing-arg", "phone", "LP302", "phone: 'style' is required", "e.g. - phone: dashes", 5),
    (
        "unknown-arg",
        "{replace: {find: '-', wiht: ''}}",
        "LP302",
        "replace: unknown setting 'wiht'",
        "did you mean 'with'?",
        27,
    ),
    (
        "find-and-pattern",
        "{replace: {find: '-', pattern: '-'}}",
        "LP302",
        "replace: replace needs exactly one of 'find' (exact text) or 'pattern'",
        None,
        15,
    ),
    (
        "bad-regex",
        "{replace: {pattern: '(', with: ''}}",
        "LP305",
        "replace: invalid regular expression: a group opened here is never closed with )",
        None,
        25,
    ),
    (
        "bad-group",
        "{replace: {pattern: 'a', with: '\\2'}}",
        "LP302",
        "replace: the replacement refers to group 2, but the pattern has 0 groups",
        "write \\1 for the first group, \\g<name> for a group (?P<name>…)",
        36,
    ),
    (
        "range-reversed",
        "{range: {min: 5, max: 1}}",
        "LP302",
        "range: 'min' (5) is larger than 'max' (1)",
        None,
        13,
    ),
    ("range-empty", "{range: {}}", "LP302", "range: give 'min', 'max' or both", None, 13),
    (
        "range-not-a-number",
        "{range: {min: lots}}",
        "LP302",
        "range: 'min' must be a number, like 18 or 99.5",
        None,
        19,
    ),
    (
        "not-a-number",
        "{substring: {start: first}}",
        "LP302",
        "substring: 'start' must be a whole number, like 3",
        None,
        25,
    ),
    (
        "zero-start",
        "{substring: {start: 0}}",
        "LP302",
        "substring: 'start' counts from 1 (the first character); -1 is the last one",
        None,
        17,
    ),
    (
        "negative-length",
        "{substring: {length: -1}}",
        "LP302",
        "substring: 'length' must be at least 0",
        None,
        26,
    ),
    (
        "zero-part",
        "{split: {part: 0}}",
        "LP302",
        "split: 'part' counts from 1 (the first part); -1 is the last one",
        None,
        13,
    ),
    (
        "bad-zone",
        "{date: {timezone: America/Chicgo}}",
        "LP302",
        "date: unknown time zone 'America/Chicgo'",
        "did you mean 'America/Chicago'?",
        23,
    ),
    (
        "format-without-codes",
        "{date: MM/DD/YYYY}",
        "LP302",
        "date: the format 'MM/DD/YYYY' has no % codes, so every lead would get exactly that text",
        "write %m/%d/%Y for 12/15/2024, %Y-%m-%d for 2024-12-15",
        12,
    ),
    (
        "bool-arg",
        "{currency: {cents: maybe}}",
        "LP302",
        "currency: 'cents' must be true or false",
        None,
        24,
    ),
    (
        "boolean-three",
        "{boolean: [Y, N, U]}",
        "LP302",
        "boolean: write the two texts as a list [for true, for false], e.g. [Y, N]",
        None,
        15,
    ),
    (
        "translate-no-map",
        "{translate: {default: X}}",
        "LP302",
        "translate: 'map' is required",
        "e.g. - translate: {map: {own: Y, rent: N}}",
        17,
    ),
    (
        "translate-not-mapping",
        "{translate: own}",
        "LP302",
        "translate: its settings must be written as 'name: value' pairs",
        "e.g. - translate: {map: {own: Y, rent: N}}",
        17,
    ),
    (
        "hash-choice",
        "{hash: sha265}",
        "LP302",
        "hash: 'algorithm' must be 'sha256' or 'md5'",
        "did you mean 'sha256'?",
        12,
    ),
    ("number-too-many", "{number: 40}", "LP302", "number: 'decimals' must be at most 10", None, 14),
]


@pytest.mark.parametrize(
    ("step", "code", "message", "hint", "col"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_step_error(step: str, code: str, message: str, hint: str | None, col: int) -> None:
    """A wrong step is reported once, in plain words, pointing at the offending node."""
    issues = problems(step)
    assert [(i.code, i.message, i.hint) for i in issues] == [(code, message, hint)]
    span = issues[0].span
    assert span is not None and (span.line, span.col) == (2, col)


def test_several_argument_problems_all_reported() -> None:
    """Every wrong setting of one step is reported."""
    issues = problems("{substring: {start: x, length: y}}")
    assert [i.message for i in issues] == [
        "substring: 'start' must be a whole number, like 3",
        "substring: 'length' must be a whole number, like 3",
    ]


def test_messages_do_not_leak_pydantic_wording() -> None:
    """No message mentions pydantic, 'Input should' or Python type names."""
    for step in ("{substring: {start: [1]}}", "{replace: {find: {a: 1}}}", "{phone: [a]}"):
        for issue in problems(step):
            text = issue.message + (issue.hint or "")
            assert "Input should" not in text and "pydantic" not in text and "type=" not in text

"""Unit tests of every transform: typical results, run-time refusals, documented examples."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from engine.compiler.context import CompileContext
from engine.dsl.loader import load_yaml_text
from engine.errors import MappingError
from engine.plan import RenderContext, Transform
from engine.transforms import TRANSFORMS, compile_step, limit_length, to_type, truncate

NOW = datetime(2024, 12, 15, 14, 30, tzinfo=UTC)
SHA256_JOHN = "d0c648bc36f12061bec770df216cea2ab95851b9350fd54b658de53b0407767a"


def build(step_yaml: str) -> Transform:
    """Compile one step written as in a buyer file (``phone: dashes``); it must compile cleanly."""
    doc = load_yaml_text(f"steps:\n  - {step_yaml}\n", "t.yaml")
    ctx = CompileContext(doc.source)
    compiled = compile_step(doc.data["steps"][0], ("steps", 0), ctx)
    assert not ctx.issues, [i.render() for i in ctx.issues]
    assert compiled is not None
    return compiled[0]


def apply(step_yaml: str, value: Any) -> Any:
    return build(step_yaml)(value, RenderContext(lead={}, now=NOW))


CASES = [
    ("upper", "upper", "Austin", "AUSTIN"),
    ("upper-number", "upper", 12, "12"),
    ("lower", "lower", "John.Smith@Gmail.COM", "john.smith@gmail.com"),
    ("title", "title", "mary-ann  SMITH", "Mary-Ann  Smith"),
    ("title-apostrophe", "title", "o'brien d’angelo rock'n", "O'Brien D’Angelo Rock'n"),
    ("trim", "trim", "  Austin \t", "Austin"),
    ("digits", "digits", "(512) 555-0142 ext. ٣", "5125550142"),
    ("digits-number", "digits", 78701, "78701"),
    ("replace-find", "{replace: {find: '.', with: '-'}}", "512.555.0142", "512-555-0142"),
    ("replace-remove", "{replace: {find: ' '}}", "78 701", "78701"),
    ("replace-pattern", "{replace: {pattern: '\\s+', with: ' '}}", "123   Main\tSt", "123 Main St"),
    (
        "replace-group",
        "{replace: {pattern: '(\\d{5})-\\d{4}', with: '\\1'}}",
        "78701-1234",
        "78701",
    ),
    ("substring-first3", "{substring: {start: 1, length: 3}}", "5125550142", "512"),
    ("substring-from", "{substring: {start: 4}}", "5125550142", "5550142"),
    ("substring-last4", "{substring: {start: -4}}", "5125550142", "0142"),
    ("substring-past-end", "{substring: {start: 20, length: 3}}", "short", ""),
    ("split-first", "{split: {part: 1}}", "John  Smith", "John"),
    ("split-last", "{split: {part: -1}}", "Mary Ann Smith", "Smith"),
    ("split-separator", "{split: {separator: '@', part: 2}}", "john@gmail.com", "gmail.com"),
    ("split-pattern", "{split: {pattern: '[,;]', part: 2}}", "a;b,c", "b"),
    ("split-missing-part", "{split: {separator: ',', part: 3}}", "a,b", ""),
    ("before-default-space", "before", "Mary Ann", "Mary"),
    ("before-at", "{before: '@'}", "john@gmail.com", "john"),
    ("before-absent", "{before: '@'}", "nobody", "nobody"),
    ("after-at", "{after: '@'}", "john@gmail.com", "gmail.com"),
    ("after-absent", "{after: '@'}", "nobody", ""),
    ("translate", "{translate: {map: {own: Y, rent: N}}}", "rent", "N"),
    ("translate-short", "{translate: {own: Y, rent: N}}", "own", "Y"),
    ("translate-case", "{translate: {Own: Y}}", "own", "Y"),
    ("translate-bool", "{translate: {true: Yes, false: No}}", False, "No"),
    ("translate-number", "{translate: {1: one, 2.5: two and a half}}", 2.5, "two and a half"),
    ("translate-default", "{translate: {map: {own: Y}, default: U}}", "condo", "U"),
    ("translate-keep", "{translate: {map: {own: Y}, unmapped: keep}}", "condo", "condo"),
    ("phone-digits", "{phone: digits}", "(512) 555-0142", "5125550142"),
    ("phone-e164", "{phone: e164}", "512.555.0142", "+15125550142"),
    ("phone-dashes", "{phone: dashes}", "+1 512 555 0142", "512-555-0142"),
    ("phone-parentheses", "{phone: parentheses}", 5125550142, "(512) 555-0142"),
    ("phone-dots", "{phone: dots}", "5125550142", "512.555.0142"),
    ("date", "{date: '%m/%d/%Y'}", "1985-04-12", "04/12/1985"),
    (
        "date-of-timestamp",
        "{date: {format: '%m/%d/%Y', timezone: America/Chicago}}",
        "2024-12-16T03:00:00Z",
        "12/15/2024",
    ),
    ("date-default-format", "date", "2024-12-15T14:30:00Z", "2024-12-15"),
    (
        "datetime-zone",
        "{datetime: {format: '%Y-%m-%d %H:%M', timezone: America/New_York}}",
        "2024-12-15T14:30:00Z",
        "2024-12-15 09:30",
    ),
    (
        "datetime-iso",
        "{datetime: {timezone: America/Chicago}}",
        "2024-12-15T14:30:00Z",
        "2024-12-15T08:30:00-06:00",
    ),
    ("datetime-naive-is-utc", "{datetime: '%H:%M %z'}", "2024-12-15T14:30:00", "14:30 +0000"),
    ("currency", "currency", 350000, "$350,000"),
    ("currency-cents", "{currency: {cents: true}}", "350000", "$350,000.00"),
    ("currency-rounds", "currency", 142.5, "$143"),
    ("currency-text", "{currency: {symbol: 'USD '}}", "$350,000.00", "USD 350,000"),
    ("currency-negative", "currency", -5, "-$5"),
    ("number-decimals", "{number: 2}", 142.5, "142.50"),
    ("number-thousands", "{number: {thousands: true}}", 350000, "350,000"),
    ("number-plain", "number", "1,234.50", "1234.5"),
    ("number-integral", "number", Decimal("50.00"), "50"),
    ("boolean-list", "{boolean: [Y, N]}", True, "Y"),
    ("boolean-mapping", "{boolean: {true: '1', false: '0'}}", "no", "0"),
    ("boolean-default", "boolean", "Yes", "true"),
    ("hash-sha256", "hash", " John.Smith@Gmail.com ", SHA256_JOHN),
    ("hash-md5", "{hash: md5}", "john.smith@gmail.com", "1c874909e198bf87d38b50ef7e4d3163"),
    ("age", "age", "1985-04-12", 39),
    ("age-birthday-today", "age", "2000-12-15", 24),
    ("age-day-before-birthday", "age", "2000-12-16", 23),
    ("range-inside", "{range: {min: 18, max: 120}}", 18, 18),
    ("range-text", "{range: {max: 100000}}", "$99,999", "$99,999"),
]


@pytest.mark.parametrize(
    ("step", "value", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_transform_result(step: str, value: Any, expected: Any) -> None:
    """Each transform turns a typical input into the documented output."""
    assert apply(step, value) == expected


REFUSALS = [
    ("phone-short", "{phone: dashes}", "555-0142", "'555-0142' is not a 10-digit US phone number"),
    ("phone-list", "{phone: dashes}", ["5125550142"], "expects a single value, not a list"),
    ("upper-object", "upper", {"a": 1}, "expects a single value, not an object"),
    (
        "translate-unmapped",
        "{translate: {own: Y, rent: N}}",
        "condo",
        "'condo' is not in the translate map (it has: own, rent)",
    ),
    (
        "date-bad",
        "{date: '%m/%d/%Y'}",
        "12/15/2024",
        "'12/15/2024' is not a date; expected one like 2024-12-15 or 2024-12-15T14:30:00Z",
    ),
    (
        "datetime-of-date",
        "datetime",
        "1985-04-12",
        "'1985-04-12' is a date without a time of day; use the date transform for it",
    ),
    ("currency-word", "currency", "lots", "'lots' is not a number"),
    ("currency-bool", "currency", True, "expects a number, not true"),
    ("number-huge", "number", "1e40", "'1e40' is too large or too small a number"),
    (
        "boolean-word",
        "{boolean: [Y, N]}",
        "maybe",
        "'maybe' is not a yes/no value (expected true/false, yes/no, y/n, t/f, 1/0 or on/off)",
    ),
    ("age-future", "age", "2030-01-01", "'2030-01-01' is after the lead's date, so it has no age"),
    ("range-low", "{range: {min: 18}}", 17, "17 is below 18, the least this buyer accepts"),
    (
        "range-high",
        "{range: {max: 2099}}",
        "2100",
        "'2100' is above 2099, the most this buyer accepts",
    ),
    ("range-text", "{range: {min: 0}}", "n/a", "'n/a' is not a number"),
]


@pytest.mark.parametrize(
    ("step", "value", "reason"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS]
)
def test_transform_refuses_with_reason(step: str, value: Any, reason: str) -> None:
    """A value a transform cannot handle raises MappingError with a plain reason."""
    with pytest.raises(MappingError) as info:
        apply(step, value)
    assert info.value.reason == reason


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_documented_example_holds(name: str) -> None:
    """Every transform's registry example (input, argument, output) is true."""
    definition = TRANSFORMS[name]
    value, arg, expected = definition.example
    step: Any = name if arg is None else {name: arg}
    doc = load_yaml_text("x: 1\n", "t.yaml")
    ctx = CompileContext(doc.source)
    compiled = compile_step(step, ("x",), ctx)
    assert compiled is not None and not ctx.issues
    assert compiled[0](value, RenderContext(lead={}, now=NOW)) == expected
    assert definition.summary
    assert definition.args is None or definition.args.__doc__


@pytest.mark.parametrize("style", ["digits", "e164", "dashes", "parentheses", "dots"])
def test_phone_is_idempotent(style: str) -> None:
    """Formatting an already formatted number gives the same text."""
    once = apply(f"{{phone: {style}}}", "(512) 555-0142")
    assert apply(f"{{phone: {style}}}", once) == once


def test_currency_is_idempotent() -> None:
    """Formatting '$350,000' as money again keeps it."""
    assert apply("currency", "$350,000") == "$350,000"


# -- the final steps: length and type -------------------------------------------------------------

TYPE_CASES = [
    ("int-to-string", 123, "string", "123"),
    ("decimal-to-string", Decimal("50.00"), "string", "50.00"),
    ("bool-to-string", True, "string", "true"),
    ("text-to-integer", " 123 ", "integer", 123),
    ("integral-text-to-integer", "12.0", "integer", 12),
    ("float-to-integer", 7.0, "integer", 7),
    ("bool-to-integer", False, "integer", 0),
    ("text-to-number", "12.50", "number", 12.5),
    ("integral-number", "50.00", "number", 50),
    ("decimal-number", Decimal("142.5"), "number", 142.5),
    ("text-to-boolean", "Yes", "boolean", True),
    ("zero-to-boolean", 0, "boolean", False),
]


@pytest.mark.parametrize(
    ("value", "kind", "expected"), [c[1:] for c in TYPE_CASES], ids=[c[0] for c in TYPE_CASES]
)
def test_to_type(value: Any, kind: Any, expected: Any) -> None:
    """`type:` converts values; a number is an int when whole, else a float."""
    result = to_type(value, kind)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "kind", "reason"),
    [
        ("12.5", "integer", "'12.5' is not a whole number"),
        ("abc", "number", "'abc' cannot be sent as a number"),
        (True, "number", "true cannot be sent as a number"),
        ([1], "string", "a list [...] cannot be sent as text"),
        (
            "perhaps",
            "boolean",
            "'perhaps' is not a yes/no value"
            " (expected true/false, yes/no, y/n, t/f, 1/0 or on/off)",
        ),
    ],
    ids=["fraction-integer", "word-number", "bool-number", "list-string", "word-boolean"],
)
def test_to_type_refuses(value: Any, kind: Any, reason: str) -> None:
    """A value that does not fit the type is a MappingError naming it."""
    with pytest.raises(MappingError) as info:
        to_type(value, kind)
    assert info.value.reason == reason


def test_truncate_never_ends_in_space() -> None:
    """Cutting at a space drops the trailing spaces."""
    assert truncate("123 Main  Street", 10) == "123 Main"
    assert truncate("Austin", 10) == "Austin"


def test_limit_length() -> None:
    """Short values pass unchanged (even numbers); long ones are cut or refused."""
    assert limit_length(78701, 5, reject=True) == 78701
    assert limit_length("Jonathan", 4, reject=False) == "Jona"
    with pytest.raises(MappingError) as info:
        limit_length("Jonathan", 4, reject=True)
    assert info.value.reason == "'Jonathan' is 8 characters long; this buyer accepts at most 4"

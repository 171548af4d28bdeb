"""Hypothesis properties of transforms: any input gives a value or our MappingError only."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compiler.context import CompileContext
from engine.dsl.loader import load_yaml_text
from engine.errors import MappingError
from engine.lead.normalize import InvalidValue, normalize_phone
from engine.plan import RenderContext, Transform
from engine.transforms import TRANSFORMS, compile_step, limit_length, to_type, truncate
from tests.props import fewer

CTX = RenderContext(lead={}, now=datetime(2024, 12, 15, 14, 30, tzinfo=UTC))
FAST = settings()
PER_STEP = fewer(2)  # run once per step: 35 steps

#: At least one compiled variant of every transform, written as in a buyer file.
STEPS = [
    "upper",
    "lower",
    "title",
    "trim",
    "digits",
    "{replace: {find: '-', with: ''}}",
    "{replace: {pattern: '(\\d)', with: '<\\1>'}}",
    "{substring: {start: 2, length: 3}}",
    "{substring: {start: -4}}",
    "{split: {part: 2}}",
    "{split: {separator: ',', part: -1}}",
    "{split: {pattern: '\\W', part: 1}}",
    "before",
    "{after: '@'}",
    "{translate: {own: Y, rent: N}}",
    "{translate: {map: {own: Y}, unmapped: keep}}",
    "state_name",
    "state_code",
    "{phone: digits}",
    "{phone: e164}",
    "{phone: dashes}",
    "{phone: parentheses}",
    "{phone: dots}",
    "{phone: {style: dashes, require_valid: true}}",
    "{date: '%m/%d/%Y'}",
    "{date: {format: '%d.%m.%Y', timezone: Pacific/Kiritimati}}",
    "datetime",
    "{datetime: {format: '%H:%M', timezone: America/Chicago}}",
    "currency",
    "{currency: {cents: true}}",
    "{number: 2}",
    "{number: {thousands: true}}",
    "number",
    "{boolean: [Y, N]}",
    "boolean",
    "hash",
    "{hash: md5}",
    "age",
    "{since: days}",
    "{since: {unit: months, timezone: America/Chicago}}",
    "{within: 5y}",
    "birth_year",
    "{age_band: [18, 25, 35, 50, 65]}",
    "zip3",
    "email_domain",
    "area_code",
    "{within: {span: 30d, timezone: Pacific/Kiritimati}}",
    "{range: {min: 18, max: 120}}",
    "{range: {max: '-0.5'}}",
]


def compile_yaml(step_yaml: str) -> Transform:
    doc = load_yaml_text(f"steps:\n  - {step_yaml}\n", "t.yaml")
    ctx = CompileContext(doc.source)
    compiled = compile_step(doc.data["steps"][0], ("steps", 0), ctx)
    assert compiled is not None, [i.render() for i in ctx.issues]
    return compiled[0]


COMPILED = {s: compile_yaml(s) for s in STEPS}

scalars = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.booleans(),
    st.decimals(allow_nan=True, allow_infinity=True),
    # text shaped like the values transforms expect, to reach past the first checks
    st.from_regex(r"\A[+(]?1? ?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\Z"),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.from_regex(r"\A-?\$?\d{1,3}(,\d{3})*(\.\d+)?\Z"),
    st.sampled_from(["yes", "N", "0", "own", "rent", "", " ", "1e400", "NaN", "-0", "٣"]),
)
json_ish = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


def test_every_transform_is_exercised() -> None:
    """The property below covers every registered transform."""
    used = {s.strip("{").split(":")[0].split("}")[0] for s in STEPS}
    assert used == set(TRANSFORMS)


@pytest.mark.parametrize("step", STEPS)
@PER_STEP
@given(value=json_ish)
def test_any_input_gives_value_or_mapping_error(step: str, value: Any) -> None:
    """Whatever a lead holds, a transform returns a value or raises MappingError only."""
    try:
        result = COMPILED[step](value, CTX)
    except MappingError as exc:
        assert exc.reason
    else:
        assert isinstance(result, str | int | float | Decimal) or (
            step.startswith("{translate") and result is None
        )


@FAST
@given(value=json_ish, kind=st.sampled_from(["string", "integer", "number", "boolean"]))
def test_type_conversion_gives_value_or_mapping_error(value: Any, kind: Any) -> None:
    """`type:` conversion never fails with anything but MappingError."""
    try:
        result = to_type(value, kind)
    except MappingError:
        return
    assert isinstance(result, str | int | float | bool)


phone_digits = st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z")
styles = st.sampled_from(["digits", "e164", "dashes", "parentheses", "dots"])


@FAST
@given(digits=phone_digits, first=styles, second=styles)
def test_phone_formatting_is_idempotent_and_lossless(digits: str, first: str, second: str) -> None:
    """Formatting twice changes nothing; any style can be re-read into any other."""
    once = COMPILED[f"{{phone: {first}}}"](digits, CTX)
    assert COMPILED[f"{{phone: {first}}}"](once, CTX) == once
    assert COMPILED["{phone: digits}"](COMPILED[f"{{phone: {second}}}"](once, CTX), CTX) == digits


@FAST
@given(value=json_ish, value2=json_ish)
def test_phone_any_formatted_output_is_a_fixed_point(value: Any, value2: Any) -> None:
    """Whenever the phone transform accepts a value, its output formats to itself."""
    for style in ("digits", "e164", "dashes", "parentheses", "dots"):
        run = COMPILED[f"{{phone: {style}}}"]
        try:
            out = run(value, CTX)
        except MappingError:
            continue
        assert run(out, CTX) == out


@FAST
@given(
    mapping=st.dictionaries(
        st.text(min_size=1, max_size=8), st.text(max_size=8), min_size=1, max_size=5
    ),
    default=st.text(max_size=8),
    value=json_ish,
)
def test_translate_with_default_is_total(mapping: dict[str, str], default: str, value: Any) -> None:
    """With a default, translate gives a result for every input."""
    definition = TRANSFORMS["translate"]
    assert definition.args is not None
    args = definition.args.model_validate({"map": mapping, "default": default})
    result = definition.build(args)(value, CTX)
    assert result == default or result in mapping.values()


@FAST
@given(text=st.text(max_size=60), limit=st.integers(min_value=1, max_value=50))
def test_truncation_within_limit_never_ends_in_space(text: str, limit: int) -> None:
    """Truncation keeps a prefix of at most the limit that does not end in a space."""
    cut = truncate(text, limit)
    assert len(cut) <= limit and text.startswith(cut)
    assert not cut or not cut[-1].isspace()
    assert limit_length(text, limit, reject=False) == (text if len(text) <= limit else cut)


@FAST
@given(number=st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_currency_is_idempotent(number: Decimal) -> None:
    """Money formatted once formats to itself."""
    for step in ("currency", "{currency: {cents: true}}"):
        once = COMPILED[step](number, CTX)
        assert COMPILED[step](once, CTX) == once


@FAST
@given(value=st.one_of(st.integers(-(10**6), 10**6), st.decimals(-1000, 1000, places=3)))
def test_range_passes_values_inside_unchanged_and_refuses_the_rest(value: Any) -> None:
    """A number within [18, 120] comes out as it went in; any other is refused, never changed."""
    try:
        result = COMPILED["{range: {min: 18, max: 120}}"](value, CTX)
    except MappingError as exc:
        assert not 18 <= value <= 120
        assert "this buyer accepts" in exc.reason
    else:
        assert 18 <= value <= 120 and result is value


@FAST
@given(digits=phone_digits, form=st.sampled_from(["({}) {}-{}", "+1 {}.{}.{}", "{}{}{}"]))
def test_phone_require_valid_refuses_exactly_what_intake_calls_invalid(
    digits: str, form: str
) -> None:
    """``require_valid`` passes a number when the lead schema would call it valid, and
    refuses it otherwise with a reason that does not repeat it; without it, any 10 digits pass."""
    text = form.format(digits[:3], digits[3:6], digits[6:])
    strict = COMPILED["{phone: {style: dashes, require_valid: true}}"]
    loose = COMPILED["{phone: dashes}"]
    try:
        normalize_phone(text)
    except InvalidValue:
        with pytest.raises(MappingError) as caught:
            strict(text, CTX)
        assert digits[-4:] not in caught.value.reason
        assert loose(text, CTX) == f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    else:
        assert strict(text, CTX) == loose(text, CTX)

"""Dates relative to the lead, held to dateutil.relativedelta over random dates (leap days too)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler.context import CompileContext
from engine.dsl.loader import load_yaml_text
from engine.errors import MappingError
from engine.plan import RenderContext
from engine.transforms import compile_step
from engine.transforms.spans import SpanError, between, parse_span, shift, within

#: Dates around leap days are over-represented: that is where the rules differ.
LEAP_DAYS = st.sampled_from(
    [date(2000, 2, 29), date(2024, 2, 29), date(1996, 2, 29), date(2023, 3, 1), date(2024, 1, 31)]
)
dates = st.one_of(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)), LEAP_DAYS)


def reference(a: date, b: date) -> relativedelta:
    return relativedelta(b, a)


@given(dates, dates)
def test_whole_units_between_agree_with_relativedelta(a: date, b: date) -> None:
    """Years, months (whole, toward zero) and days from a to b, as relativedelta counts them."""
    r = reference(a, b)
    assert between(a, b, "years") == r.years
    assert between(a, b, "months") == r.years * 12 + r.months
    assert between(a, b, "days") == (b - a).days


@given(dates, st.integers(-600, 600))
def test_moving_by_months_agrees_with_relativedelta(day: date, months: int) -> None:
    """Moving keeps the day or cuts it to the month's end: 2024-02-29 - 1y is 2023-02-28."""
    assert shift(day, months, "months") == day + relativedelta(months=months)
    assert shift(day, months // 12, "years") == day + relativedelta(years=months // 12)


@given(dates, dates, st.integers(0, 50), st.sampled_from(["y", "m", "w", "d"]))
def test_within_is_the_closed_span_before_the_reference(
    day: date, ref: date, amount: int, unit: str
) -> None:
    """within(d, N unit, ref) holds exactly when ref - N unit <= d <= ref."""
    delta = {
        "y": relativedelta(years=amount),
        "m": relativedelta(months=amount),
        "w": relativedelta(weeks=amount),
        "d": relativedelta(days=amount),
    }[unit]
    n, u = parse_span(f"{amount}{unit}")
    assert within(day, n, u, ref) == (ref - delta <= day <= ref)


@pytest.mark.parametrize(
    ("born", "on", "years"),
    [
        ("2000-02-29", "2001-02-28", 1),
        ("2000-02-29", "2001-02-27", 0),
        ("2000-03-01", "2001-02-28", 0),
        ("2000-02-29", "2004-02-29", 4),
        ("1990-06-15", "2024-06-14", 33),
        ("1990-06-15", "2024-06-15", 34),
    ],
)
def test_leap_day_birthdays(born: str, on: str, years: int) -> None:
    """A year after February 29 is February 28 (the month's last day), as relativedelta says."""
    assert between(date.fromisoformat(born), date.fromisoformat(on), "years") == years


def run(step: Any, value: Any, now: datetime) -> Any:
    doc = load_yaml_text("x: 1\n", "t.yaml")
    ctx = CompileContext(doc.source)
    compiled = compile_step(step, ("x",), ctx)
    assert compiled is not None, [i.render() for i in ctx.issues]
    return compiled[0](value, RenderContext(lead={}, now=now))


def test_within_5y_of_the_lead_counts_from_the_leads_date() -> None:
    """5 years before a 2024-06-01 lead starts on 2019-06-01; a day earlier is outside."""
    now = datetime(2024, 6, 1, 15, tzinfo=UTC)
    assert run({"within": "5y"}, "2019-06-01", now) is True
    assert run({"within": "5y"}, "2019-05-31", now) is False
    assert run({"within": "5y"}, "2024-06-02", now) is False  # after the lead: not within


def test_the_leads_date_follows_the_named_time_zone() -> None:
    """At 02:00 UTC on June 1 it is still May 31 in Chicago: the lead's date moves with it."""
    now = datetime(2024, 6, 1, 2, tzinfo=UTC)
    assert run({"since": "days"}, "2024-05-31", now) == 1
    assert run({"since": {"unit": "days", "timezone": "America/Chicago"}}, "2024-05-31", now) == 0
    stamp = datetime(2024, 5, 31, 23, tzinfo=timezone(-timedelta(hours=5))).isoformat()
    assert run({"since": "days"}, stamp, now) == 0  # 23:00-05:00 is June 1 in UTC


@given(dates, st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
def test_since_years_is_relativedelta_to_the_leads_date(day: date, now: datetime) -> None:
    moment = now.replace(tzinfo=UTC)
    expected = relativedelta(moment.date(), day).years
    assert run({"since": "years"}, day.isoformat(), moment) == expected


@pytest.mark.parametrize("span", ["5", "y5", "5 decades", "", "-1y"])
def test_unreadable_spans(span: str) -> None:
    with pytest.raises(SpanError, match="write a number and a unit"):
        parse_span(span)


def test_a_bad_span_is_a_compile_error_with_a_hint() -> None:
    doc = load_yaml_text("x: 1\n", "t.yaml")
    ctx = CompileContext(doc.source)
    assert compile_step({"within": "5 decades"}, ("x",), ctx) is None
    assert ctx.issues[0].message.startswith("within: '5 decades' is not a span of time")


def test_a_value_that_is_not_a_date_is_refused() -> None:
    with pytest.raises(MappingError, match="is not a date"):
        run({"within": "5y"}, "soon", datetime(2024, 1, 1, tzinfo=UTC))


# -- the same rules in conditions (JMESPath functions) -------------------------------------------


def condition(expr: str) -> Any:
    from engine.compiler.response_exprs import compile_expression

    doc = load_yaml_text("x: 1\n", "t.yaml")
    ctx = CompileContext(doc.source)
    compiled = compile_expression(expr, ("x",), ctx)
    return compiled, [i.message for i in ctx.issues]


@given(dates, dates)
def test_condition_functions_agree_with_the_transforms(a: date, b: date) -> None:
    found, _ = condition("[years_between(a, b), months_between(a, b), days_between(a, b)]")
    r = relativedelta(b, a)
    doc = {"a": a.isoformat(), "b": f"{b.isoformat()}T12:00:00Z"}
    assert found.search(doc) == [r.years, r.years * 12 + r.months, (b - a).days]
    both, _ = condition("[before(a, b), after(a, b), within(a, '1y', b)]")
    assert both.search(doc) == [a < b, a > b, b - relativedelta(years=1) <= a <= b]


@given(st.one_of(st.none(), st.text(max_size=30), st.integers(), st.booleans()))
def test_condition_functions_take_any_value(value: Any) -> None:
    """A missing or unreadable date gives null (between) or false (within, before, after)."""
    found, _ = condition(
        "[years_between(v, '2024-01-01'), within(v, '5y', '2024-01-01'), before(v, '2024-01-01')]"
    )
    got = found.search({"v": value})
    assert got[0] is None or isinstance(got[0], int)
    assert isinstance(got[1], bool) and isinstance(got[2], bool)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("within(a, '5 decades', timestamp)", "within(): '5 decades' is not a span of time"),
        ("within(a, b, timestamp)", "within() takes its span as text, like '5y'"),
        ("years_between(a)", "the JMESPath function 'years_between' takes 2 arguments, not 1"),
    ],
)
def test_condition_mistakes_are_found_when_the_file_loads(expr: str, message: str) -> None:
    found, issues = condition(expr)
    assert found is None and issues[0].startswith(message)

"""Calendar arithmetic relative to the lead: whole years, months or days between two dates, and
whether a date lies within a span (``5y``) before another.

The rules, the ones people use and ``dateutil.relativedelta`` implements (tests hold these
functions to it over random dates, leap years included):

* moving a date by months or years keeps its day, or takes the month's last day when the month
  is shorter: 2024-02-29 minus 1 year is 2023-02-28; 2024-01-31 plus 1 month is 2024-02-29;
* the whole months from ``a`` to ``b`` are the most ``m`` with ``a`` moved by ``m`` months not
  after ``b`` (counted toward zero when ``b`` is before ``a``); whole years are whole months
  divided by 12, toward zero. So 2000-02-29 to 2001-02-28 is 1 whole year (2000-02-29 moved by
  a year is 2001-02-28). The ``age`` transform counts birthdays instead, as the law does for a
  person born on February 29: one year old on 2001-03-01;
* ``within(d, 5y, ref)`` holds when ``ref`` moved back 5 years ≤ ``d`` ≤ ``ref``: both ends
  count, and a date after ``ref`` is not within;
* a timestamp counts as its calendar date in UTC (leads' timestamps are kept in UTC), or in the
  time zone a transform names with ``timezone:``.

Written here rather than taken from dateutil: the standard library has no month arithmetic, and
these few lines state the documented rule exactly, without a runtime dependency.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

Unit = Literal["years", "months", "weeks", "days"]

#: ``5y``, ``18 months``, ``30d``, ``2w``: a number and a unit.
_SPAN = re.compile(r"^\s*(\d{1,4})\s*(y|years?|m|months?|w|weeks?|d|days?)\s*$", re.IGNORECASE)
_UNITS: dict[str, Unit] = {"y": "years", "m": "months", "w": "weeks", "d": "days"}


class SpanError(ValueError):
    """A span written in a way leadpost does not read."""


def parse_span(text: str) -> tuple[int, Unit]:
    """``'5y'`` -> ``(5, 'years')``; SpanError saying how to write one otherwise."""
    m = _SPAN.match(text)
    if m is None:
        raise SpanError(
            f"'{text}' is not a span of time; write a number and a unit: 5y, 6m, 2w or 30d"
        )
    return int(m.group(1)), _UNITS[m.group(2)[0].lower()]


def shift_months(day: date, months: int) -> date:
    """``day`` moved by whole months, its day kept or cut to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("the date leaves the calendar (years 1 to 9999)")
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def shift(day: date, amount: int, unit: Unit) -> date:
    """``day`` moved by ``amount`` units (negative: back in time)."""
    if unit == "years":
        return shift_months(day, 12 * amount)
    if unit == "months":
        return shift_months(day, amount)
    return day + timedelta(days=amount * (7 if unit == "weeks" else 1))


def months_between(a: date, b: date) -> int:
    """Whole months from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    months = (b.year - a.year) * 12 + (b.month - a.month)
    step = -1 if b >= a else 1
    moved = shift_months(a, months)
    while (moved > b) if b >= a else (moved < b):
        months += step
        moved = shift_months(a, months)
    return months


def between(a: date, b: date, unit: Unit) -> int:
    """Whole ``unit`` from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    if unit == "days":
        return (b - a).days
    if unit == "weeks":
        days = (b - a).days
        return days // 7 if days >= 0 else -((-days) // 7)
    months = months_between(a, b)
    if unit == "months":
        return months
    return months // 12 if months >= 0 else -((-months) // 12)


def within(day: date, amount: int, unit: Unit, ref: date) -> bool:
    """True when ``day`` lies in the ``amount`` units up to and including ``ref``."""
    try:
        start = shift(ref, -amount, unit)
    except (OverflowError, ValueError):
        start = date.min
    return start <= day <= ref


def as_date(moment: date | datetime, zone: tzinfo | None = None) -> date:
    """A calendar date: a date as it is, a timestamp's date in ``zone`` (default UTC)."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(zone or UTC).date()
    return moment

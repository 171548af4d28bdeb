"""Date transforms: reading ISO dates and timestamps, time zones, strftime formats."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal

from engine.dsl.suggest import hint_for
from engine.errors import MappingError
from engine.plan import RenderContext, Transform
from engine.transforms.base import ArgError, Args, Text, TransformDef, as_text, show
from engine.transforms.spans import SpanError, as_date, between, parse_span, within


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone(name: str, arg: str = "timezone") -> tzinfo:
    """The time zone called ``name`` (America/Chicago); ArgError with a suggestion if unknown."""
    if name in ("UTC", "Z"):
        return UTC
    if name in _zone_names():
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ArgError(
        f"unknown time zone '{name}'",
        arg=arg,
        hint=hint_for(name, _zone_names()) or "write a zone name like America/New_York or UTC",
    )


def check_format(fmt: str, arg: str = "format") -> None:
    """Refuse a date format without any % code (``MM/DD/YYYY`` would be sent as written)."""
    if "%" not in fmt:
        raise ArgError(
            f"the format '{fmt}' has no % codes, so every lead would get exactly that text",
            arg=arg,
            hint="write %m/%d/%Y for 12/15/2024, %Y-%m-%d for 2024-12-15",
        )
    try:
        datetime(2024, 12, 15, 14, 30, tzinfo=UTC).strftime(fmt)
    except ValueError as exc:
        raise ArgError(f"the format '{fmt}' cannot be used: {exc}", arg=arg) from None


def parse_moment(value: Any) -> date | datetime:
    """An ISO date (``1985-04-12``) or timestamp (``2024-12-15T14:30:00Z``; UTC when no zone)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    text = as_text(value).strip()
    bad = f"{show(value)} is not a date; expected one like 2024-12-15 or 2024-12-15T14:30:00Z"
    if len(text) > 40 or len(text) < 10:
        raise MappingError(bad)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError(bad) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _strftime(moment: date, fmt: str) -> str:
    try:
        return moment.strftime(fmt)
    except (ValueError, OverflowError) as exc:
        raise MappingError(
            f"the date {moment.isoformat()} cannot be written as '{fmt}': {exc}"
        ) from None


class DateArgs(Args):
    """``format`` (strftime codes; default %Y-%m-%d) and ``timezone`` for timestamps."""

    format: Text = "%Y-%m-%d"
    timezone: Text | None = None

    @property
    def zone_text(self) -> str:
        return f" in {self.timezone}" if self.timezone else ""


class DatetimeArgs(Args):
    """``format`` (strftime codes; default ISO 8601 with offset) and ``timezone``."""

    format: Text | None = None
    timezone: Text | None = None

    @property
    def shown(self) -> str:
        return self.format or "ISO 8601"

    @property
    def zone_text(self) -> str:
        return f" in {self.timezone}" if self.timezone else ""


def _date(args: DateArgs) -> Transform:
    fmt = args.format
    check_format(fmt)
    tz = zone(args.timezone) if args.timezone else None

    def run(value: Any, ctx: RenderContext) -> Any:
        if type(value) is str and len(value) == 10:  # the lead schema's ISO date
            try:
                return date.fromisoformat(value).strftime(fmt)
            except (ValueError, OverflowError):
                pass  # the careful path below says what is wrong
        moment = parse_moment(value)
        if isinstance(moment, datetime):
            try:
                moment = (moment.astimezone(tz) if tz is not None else moment).date()
            except (OverflowError, ValueError):
                raise MappingError(f"{show(value)} is out of the range of dates") from None
        return _strftime(moment, fmt)

    return run


def _datetime(args: DatetimeArgs) -> Transform:
    fmt = args.format
    if fmt is not None:
        check_format(fmt)
    tz = zone(args.timezone) if args.timezone else None

    def run(value: Any, ctx: RenderContext) -> Any:
        if type(value) is str and len(value) == 20 and value[-1] == "Z":  # normalized UTC time
            try:
                fast = datetime.fromisoformat(value)
                if tz is not None:
                    fast = fast.astimezone(tz)
                return fast.strftime(fmt) if fmt is not None else fast.isoformat("T", "seconds")
            except (ValueError, OverflowError):
                pass  # the careful path below says what is wrong
        moment = parse_moment(value)
        if not isinstance(moment, datetime):
            raise MappingError(
                f"{show(value)} is a date without a time of day; use the date transform for it"
            )
        if tz is not None:
            try:
                moment = moment.astimezone(tz)
            except (OverflowError, ValueError):
                raise MappingError(f"{show(value)} is out of the range of dates") from None
        if fmt is None:
            return moment.isoformat(timespec="seconds")
        return _strftime(moment, fmt)

    return run


DATE = TransformDef(
    "date",
    DateArgs,
    "format",
    _date,
    "as a date written {format}{zone_text}",
    ("1985-04-12", "%m/%d/%Y", "04/12/1985"),
)
DATETIME = TransformDef(
    "datetime",
    DatetimeArgs,
    "format",
    _datetime,
    "as a time written {shown}{zone_text}",
    (
        "2024-12-15T14:30:00Z",
        {"format": "%m/%d/%Y %H:%M", "timezone": "America/Chicago"},
        "12/15/2024 08:30",
    ),
)


# -- dates relative to the lead (spans.py states the calendar rules) -----------------------------


class SinceArgs(Args):
    """``unit`` (years, months, weeks or days) and ``timezone`` of the lead's date."""

    unit: Literal["years", "months", "weeks", "days"] = "years"
    timezone: Text | None = None

    @property
    def zone_text(self) -> str:
        return f" (the lead's date in {self.timezone})" if self.timezone else ""


def _lead_date(ctx: RenderContext, tz: tzinfo | None) -> date:
    return as_date(ctx.now, tz)


def _day(value: Any, tz: tzinfo | None) -> date:
    try:
        return as_date(parse_moment(value), tz)
    except (OverflowError, ValueError):
        raise MappingError(f"{show(value)} is out of the range of dates") from None


def _since(args: SinceArgs) -> Transform:
    unit = args.unit
    tz = zone(args.timezone) if args.timezone else None

    def run(value: Any, ctx: RenderContext) -> Any:
        return between(_day(value, tz), _lead_date(ctx, tz), unit)

    return run


class WithinArgs(Args):
    """``span`` (5y, 6m, 2w, 30d) before the lead's date, and its ``timezone``."""

    span: Text
    timezone: Text | None = None

    @property
    def zone_text(self) -> str:
        return f" (the lead's date in {self.timezone})" if self.timezone else ""


def _within(args: WithinArgs) -> Transform:
    try:
        amount, unit = parse_span(args.span)
    except SpanError as exc:
        raise ArgError(str(exc), arg="span", hint="e.g. within: 5y") from None
    tz = zone(args.timezone) if args.timezone else None

    def run(value: Any, ctx: RenderContext) -> Any:
        return within(_day(value, tz), amount, unit, _lead_date(ctx, tz))

    return run


SINCE = TransformDef(
    "since",
    SinceArgs,
    "unit",
    _since,
    "as the whole {unit} from it to the lead's date{zone_text}",
    ("2019-06-15", "years", 5),
    ping_safe=True,
)
WITHIN = TransformDef(
    "within",
    WithinArgs,
    "span",
    _within,
    "true when it lies within {span} before the lead's date{zone_text}, else false",
    ("2020-01-10", "5y", True),
    ping_safe=True,
)

#: This family's transforms, in the order the reference lists them.
DATES = (DATE, DATETIME, SINCE, WITHIN)

"""Whether one buyer of a campaign may be offered one lead now: filters, schedule, breaker, caps.

:func:`eligibility` returns None when the buyer is eligible, else the reason it is not, checked
cheapest first: the buyer's filters and the campaign's ``require_valid``, its schedule (days and
hours in the buyer's time zone at ``clock.wall()``), its circuit breaker, then its caps counted
in the store.

Caps are counted in UTC calendar units, not rolling windows: "per hour" is the current clock hour
(from :00 UTC), "per day" and "spend per day" the current UTC day (from midnight UTC), "per month"
the current UTC calendar month (from the 1st, 00:00 UTC). Counts come from ``store.sales``, which
the router updates with ``store.record_sale`` after every sale. A spend cap excludes a buyer once
the day's spend has reached it, or as soon as the buyer's fixed price would take it past the cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engine.campaigns.plan import CampaignBuyer
from engine.clock import Clock
from engine.plan import CapsPlan, SchedulePlan
from engine.store.base import Store, epoch
from engine.store.ops import Limit

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: A buyer without caps (compared against, not built, per lead).
_NO_CAPS = CapsPlan()
BREAKER_OPEN = "the buyer's circuit breaker is open (too many recent failures): it is paused"


def eligibility(
    buyer: CampaignBuyer,
    lead: Mapping[str, Any],
    *,
    store: Store,
    clock: Clock,
    breaker_open: bool,
) -> str | None:
    """None when ``buyer`` may be offered ``lead`` now, else the reason it may not."""
    plan = buyer.integration
    if plan.filters is not None:
        reason = plan.filters.check(lead)
        if reason is not None:
            return reason
    if buyer.requirement is not None and (reason := buyer.requirement(lead)) is not None:
        return reason  # the campaign's require_valid
    now = clock.wall()
    if plan.schedule is not None:
        reason = schedule_reason(plan.schedule, now)
        if reason is not None:
            return reason
    if breaker_open:
        return BREAKER_OPEN
    return caps_reason(plan.caps, buyer.buyer, buyer.price, store, now)


def schedule_open(schedule: SchedulePlan, at: datetime) -> bool:
    """True when ``at`` falls on an open day, inside an open window, in the schedule's zone."""
    local = at.astimezone(ZoneInfo(schedule.timezone))
    minute = local.hour * 60 + local.minute
    in_hours = any(start <= minute < end for start, end in schedule.windows)
    return local.weekday() in schedule.days and in_hours


def schedule_reason(schedule: SchedulePlan, at: datetime) -> str | None:
    """None when the schedule is open at ``at``, else why not (the buyer's local day and time)."""
    if schedule_open(schedule, at):
        return None
    local = at.astimezone(ZoneInfo(schedule.timezone))
    when = f"{_DAY_NAMES[local.weekday()]} {local:%H:%M}"
    return f"outside the buyer's schedule: it is {when} in {schedule.timezone}"


def cap_windows(at: datetime) -> tuple[datetime, datetime, datetime]:
    """The starts of the current UTC hour, day and month at ``at``."""
    utc = at.astimezone(UTC)
    hour = utc.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    return hour, day, day.replace(day=1)


def caps_reason(
    caps: CapsPlan, buyer: str, price: Decimal | None, store: Store, now: datetime
) -> str | None:
    """None while every cap of ``buyer`` has room at ``now``, else the first cap reached."""
    if caps == _NO_CAPS:
        return None
    hour, day, month = cap_windows(now)
    if caps.per_hour is not None:
        count, _ = store.sales(buyer, hour)
        if count >= caps.per_hour:
            return f"hourly cap reached: {count} of {caps.per_hour} leads sold this hour (UTC)"
    today: tuple[int, Decimal] | None = None
    if caps.per_day is not None:
        today = store.sales(buyer, day)
        if today[0] >= caps.per_day:
            return f"daily cap reached: {today[0]} of {caps.per_day} leads sold today (UTC)"
    if caps.per_month is not None:
        count, _ = store.sales(buyer, month)
        if count >= caps.per_month:
            return f"monthly cap reached: {count} of {caps.per_month} leads sold this month (UTC)"
    if caps.spend_per_day is not None:
        _, spent = today if today is not None else store.sales(buyer, day)
        cap = caps.spend_per_day
        if spent >= cap:
            return f"daily spend cap reached: ${spent:.2f} of ${cap:.2f} spent today (UTC)"
        if price is not None and spent + price > cap:
            return (
                f"daily spend cap: ${spent:.2f} spent today (UTC) plus this lead's "
                f"${price:.2f} would pass the ${cap:.2f} cap"
            )
    return None


def cap_limits(caps: CapsPlan, now: datetime) -> list[Limit]:
    """The caps as the store checks them when it reserves a hold (counted across processes)."""
    if caps == _NO_CAPS:
        return []
    hour, day, month = cap_windows(now)
    out = []
    if caps.per_hour is not None:
        out.append(Limit(epoch(hour), caps.per_hour, None, "hourly cap", "this hour"))
    if caps.per_day is not None:
        out.append(Limit(epoch(day), caps.per_day, None, "daily cap", "today"))
    if caps.per_month is not None:
        out.append(Limit(epoch(month), caps.per_month, None, "monthly cap", "this month"))
    if caps.spend_per_day is not None:
        out.append(Limit(epoch(day), None, caps.spend_per_day, "daily spend cap", "today"))
    return out

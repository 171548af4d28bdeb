"""Compile the buyer-wide settings: environments, auth, retry, breaker, eligibility, price."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from engine.compiler.context import CompileContext, Path
from engine.compiler.response_exprs import compile_expression
from engine.compiler.validity import require_valid
from engine.dsl import models as m
from engine.dsl.suggest import hint_for
from engine.lead.validity import describe as describe_validity
from engine.plan import (
    ApiKeyAuth,
    AuthPlan,
    BasicAuth,
    BearerAuth,
    BreakerPlan,
    CapsPlan,
    EnvironmentPlan,
    FilterPlan,
    ForcedFailure,
    NoAuth,
    OAuth2Auth,
    RetryPlan,
    SchedulePlan,
    WsseAuth,
)

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def url(ctx: CompileContext, text: str, at: Path) -> str:
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError as exc:  # an unclosed [ or a port that is not a number
        ctx.error(
            "LP204",
            f"'{text}' is not a web address: its host or port cannot be read ({exc})",
            at,
            hint="write https://host/path, an IPv6 address in brackets: https://[2001:db8::1]/",
        )
        return text
    if parts.scheme not in ("http", "https") or not parts.hostname:
        ctx.error("LP204", f"'{text}' is not a web address", at, hint="write https://host/path")
    return text


def environments(spec: m.IntegrationSpec, ctx: CompileContext) -> dict[str, EnvironmentPlan]:
    out: dict[str, EnvironmentPlan] = {}
    for name, env in spec.environments.items():
        at: Path = ("environments", name)
        out[name] = EnvironmentPlan(
            name=name,
            url=url(ctx, env.url, (*at, "url")),
            tls_verify=env.tls_verify,
            http2=env.http2,
            proxy=env.proxy,
            source_address=env.source_address,
            token_url=url(ctx, env.token_url, (*at, "token_url")) if env.token_url else None,
            force_failure=tuple(
                forced_failure(spec, f, ctx, (*at, "force_failure", i))
                for i, f in enumerate(env.force_failure)
            ),
            allow_private=env.allow_private,
        )
    return out


def forced_failure(
    spec: m.IntegrationSpec, f: m.ForceFailureSpec, ctx: CompileContext, at: Path
) -> ForcedFailure:
    """One ``force_failure`` entry; its stage must be one the file has."""
    if f.stage is not None and getattr(spec.stages, f.stage) is None:
        ctx.error(
            "LP205",
            f"this buyer has no {f.stage} stage to force a failure on",
            (*at, "stage"),
            hint="leave 'stage' out to use the post",
        )
    return ForcedFailure(
        headers=tuple(f.headers.items()),
        query=tuple(f.query.items()),
        stage=f.stage,
        expect=f.expect,
        span=ctx.source.at(at),
    )


def auth(spec: m.IntegrationSpec, ctx: CompileContext) -> AuthPlan:
    a = spec.auth
    at: Path = ("auth",)
    match a:
        case m.ApiKeySpec():
            key = ctx.template(a.key, (*at, "key"))
            if a.header is not None:
                return ApiKeyAuth("header", a.header, key, a.prefix)
            return ApiKeyAuth("query", a.query or "", key, a.prefix)
        case m.BasicSpec():
            return BasicAuth(
                ctx.template(a.username, (*at, "username")),
                ctx.template(a.password, (*at, "password")),
            )
        case m.BearerSpec():
            return BearerAuth(ctx.template(a.token, (*at, "token")))
        case m.WsseSpec():
            ttl = ctx.duration(a.timestamp, (*at, "timestamp"), 0.0) if a.timestamp else None
            if ttl is not None and ttl <= 0:
                ctx.error("LP204", "the timestamp must last longer than zero", (*at, "timestamp"))
            return WsseAuth(
                ctx.template(a.username, (*at, "username")),
                ctx.template(a.password, (*at, "password")),
                digest=a.digest,
                timestamp=ttl,
                must_understand=a.must_understand,
            )
        case m.OAuth2Spec():
            return OAuth2Auth(
                token_url=url(ctx, a.token_url, (*at, "token_url")),
                client_id=ctx.template(a.client_id, (*at, "client_id")),
                client_secret=ctx.template(a.client_secret, (*at, "client_secret")),
                scopes=tuple(a.scopes),
                client_auth=a.client_auth,
            )
        case _:
            return NoAuth()


def retry(spec: m.RetrySpec, ctx: CompileContext) -> RetryPlan:
    at: Path = ("retry",)
    return RetryPlan(
        max_attempts=spec.max_attempts,
        interval=ctx.duration(spec.interval, (*at, "interval"), 2.0),
        backoff_rate=spec.backoff_rate,
        max_delay=ctx.duration(spec.max_delay, (*at, "max_delay"), 60.0),
        jitter=spec.jitter,
        retry_on=frozenset(spec.retry_on),
        on_timeout=spec.on_timeout,
        max_wait=ctx.duration(spec.max_wait, (*at, "max_wait"), 5.0),
        give_up_after=ctx.duration(spec.give_up_after, (*at, "give_up_after"), 3600.0),
    )


def ratio(ctx: CompileContext, text: str, at: Path) -> float:
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        ctx.error("LP204", f"'{text}' is not a rate", at, hint="write a percentage such as 50%")
        return 0.5
    return value


def breaker(spec: m.BreakerSpec, ctx: CompileContext) -> BreakerPlan:
    at: Path = ("circuit_breaker",)
    return BreakerPlan(
        consecutive_failures=spec.consecutive_failures,
        failure_rate=ratio(ctx, spec.failure_rate, (*at, "failure_rate")),
        window=ctx.duration(spec.window, (*at, "window"), 300.0),
        min_requests=spec.min_requests,
        cooldown=ctx.duration(spec.cooldown, (*at, "cooldown"), 60.0),
    )


def money(ctx: CompileContext, text: str | None, at: Path) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        ctx.error("LP204", f"'{text}' is not an amount of money", at, hint="write e.g. 35.00")
        return None
    return value


def _dig(lead: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    cur: Any = lead
    for k in keys:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(k)
    return cur


def filters(spec: m.FilterSpec | None, ctx: CompileContext) -> FilterPlan | None:
    if spec is None:
        return None
    at: Path = ("filters",)
    states = frozenset(s.strip().upper() for s in spec.states) if spec.states is not None else None
    zips = frozenset(z.strip()[:5] for z in spec.zips) if spec.zips is not None else None
    cond = (
        compile_expression(spec.when, (*at, "when"), ctx, "this condition")
        if spec.when is not None
        else None
    )
    state_key = ("lead", "address", "state")
    zip_key = ("lead", "address", "zip")
    described: list[str] = []
    if states is not None:
        described.append(f"only leads in {', '.join(sorted(states))}")
    if zips is not None:
        described.append(f"only {len(zips)} listed ZIP codes")
    if spec.when is not None:
        described.append(f"only leads where {spec.when}")
    valid = require_valid(spec.require_valid, (*at, "require_valid"), ctx, "the buyer")
    if valid is not None and spec.require_valid:
        described.append(describe_validity([p.strip() for p in spec.require_valid]))

    def check(lead: Mapping[str, Any]) -> str | None:
        if states is not None:
            state = _dig(lead, state_key)
            if state not in states:
                return f"state {state or '(none)'} is outside the buyer's states"
        if zips is not None:
            z = str(_dig(lead, zip_key) or "")[:5]
            if z not in zips:
                return f"ZIP {z or '(none)'} is not on the buyer's ZIP list"
        if cond is not None and not cond.search(lead):
            return f"lead does not satisfy: {spec.when}"
        return None if valid is None else valid(lead)

    return FilterPlan(check, tuple(described))


def caps(spec: m.CapsSpec | None, ctx: CompileContext) -> CapsPlan:
    if spec is None:
        return CapsPlan()
    return CapsPlan(
        per_hour=spec.per_hour,
        per_day=spec.per_day,
        per_month=spec.per_month,
        spend_per_day=money(ctx, spec.spend_per_day, ("caps", "spend_per_day")),
    )


def schedule(spec: m.ScheduleSpec | None, ctx: CompileContext) -> SchedulePlan | None:
    if spec is None:
        return None
    at: Path = ("schedule",)
    zone(ctx, spec.timezone, (*at, "timezone"))
    windows: list[tuple[int, int]] = []
    for i, text in enumerate(spec.hours):
        mt = _HOURS.match(text)
        start = end = -1
        if mt:
            h1, m1, h2, m2 = (int(g) for g in mt.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
        if not mt or not 0 <= start < end <= 24 * 60 or m1 > 59 or m2 > 59:
            ctx.error(
                "LP204",
                f"'{text}' is not a time range",
                (*at, "hours", i),
                hint="write opening hours as 08:00-20:00 (24-hour clock)",
            )
            continue
        windows.append((start, end))
    return SchedulePlan(
        timezone=spec.timezone,
        days=frozenset(_DAYS.index(d) for d in spec.days),
        windows=tuple(windows),
    )


def zone(ctx: CompileContext, name: str, at: Path) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.error(
            "LP311",
            f"unknown time zone '{name}'",
            at,
            hint=hint_for(name, available_timezones()) or "e.g. America/New_York",
        )

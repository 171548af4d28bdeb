"""Plain-English changes of a buyer file's settings: identity, environments, auth, resilience.

Compared on the validated models and the compiled plans, never on the text: comments, layout
and key order make no change. Stages, fields, responses and tests are in :mod:`.stages`.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.authoring.explain import describe_auth
from engine.diff.changes import Change, Collector
from engine.diff.stages import stage_changes, test_changes
from engine.diff.wording import arrow, duration, other_keys, set_change, shown
from engine.dsl import models as m
from engine.dsl.loader import SourceMap
from engine.plan import (
    BreakerPlan,
    EnvironmentPlan,
    IntegrationPlan,
    OAuth2Auth,
    RetryPlan,
    SchedulePlan,
)

SETTINGS = "settings"
AUTH_KINDS = {
    "none": "no auth",
    "api_key": "API key",
    "basic": "HTTP Basic auth",
    "bearer": "bearer token",
    "oauth2": "OAuth 2.0",
    "wsse_username_token": "WS-Security UsernameToken",
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class BuyerVersion:
    """One side of a buyer file: its validated model, compiled plan and source positions."""

    spec: m.IntegrationSpec
    plan: IntegrationPlan
    source: SourceMap


def buyer_changes(base: BuyerVersion, head: BuyerVersion) -> list[Change]:
    """Every behavioural (and documentation) change from ``base`` to ``head``, in area order."""
    out = Collector(head.source)
    _identity(base, head, out)
    _environments(base, head, out)
    _auth(base.plan, head.plan, out)
    _headers(base.spec.headers, head.spec.headers, out, SETTINGS, ("headers",))
    _simple(base, head, out)
    _retry(base.plan.retry, head.plan.retry, out)
    _breaker(base.plan.breaker, head.plan.breaker, out)
    _filters(base.spec.filters, head.spec.filters, out)
    _caps(base, head, out)
    _schedule(base.plan.schedule, head.plan.schedule, out)
    for key, text in other_keys(base.spec, head.spec, _TOP_KEYS):
        out.add(SETTINGS, f"{key.replace('_', ' ')}: {text}", (key,))
    stage_changes(base.spec, base.plan, head.spec, head.plan, out)
    test_changes(base.spec.tests, head.spec.tests, out)
    return out.changes


def _identity(base: BuyerVersion, head: BuyerVersion, out: Collector) -> None:
    a, b = base.spec, head.spec
    if a.buyer != b.buyer:
        out.add(SETTINGS, f"buyer id {arrow(a.buyer, b.buyer)}", ("buyer",))
    if a.name != b.name:
        out.add(SETTINGS, f"name {arrow(a.name, b.name)}", ("name",), behavioural=False)
    if a.version != b.version:
        out.add(SETTINGS, f"version {arrow(a.version, b.version)}", ("version",), behavioural=False)
    if " ".join((a.description or "").split()) != " ".join((b.description or "").split()):
        out.add(SETTINGS, "description changed", ("description",), behavioural=False)


def _environments(base: BuyerVersion, head: BuyerVersion, out: Collector) -> None:
    old, new = base.plan.environments, head.plan.environments
    for name, env in new.items():
        at = ("environments", name)
        if name not in old:
            out.add(SETTINGS, f"environment {name} added: {env.url}", at)
            continue
        _environment(old[name], env, out)
        a, b = base.spec.environments.get(name), head.spec.environments.get(name)
        for key, text in other_keys(a, b, _ENV_KEYS):
            # forced failures are asked for by preflight only, never when selling a lead
            sold = key != "force_failure"
            words = f"{name} {key.replace('_', ' ')}: {text}"
            out.add(SETTINGS, words, (*at, key), behavioural=sold)
    for name in old:
        if name not in new:
            out.add(
                SETTINGS, f"environment {name} removed (was {old[name].url})", ("environments",)
            )


_ENV_KEYS = frozenset({"url", "tls_verify", "http2", "proxy", "source_address", "token_url"})
_TOP_KEYS = frozenset(
    [
        "buyer",
        "name",
        "version",
        "description",
        "environments",
        "auth",
        "headers",
        "idempotency_header",
        "delivery",
        "concurrency",
        "price",
        "retry",
        "circuit_breaker",
        "filters",
        "caps",
        "schedule",
        "stages",
        "tests",
    ]
)


def _environment(a: EnvironmentPlan, b: EnvironmentPlan, out: Collector) -> None:
    at = ("environments", b.name)
    if a.url != b.url:
        out.add(SETTINGS, f"{b.name} URL changed: {a.url} → {b.url}", (*at, "url"))
    if a.tls_verify != b.tls_verify:
        state = "on" if b.tls_verify else "OFF"
        out.add(SETTINGS, f"TLS certificate checks now {state} in {b.name}", (*at, "tls_verify"))
    if a.http2 != b.http2:
        out.add(SETTINGS, f"HTTP/2 now {'on' if b.http2 else 'off'} in {b.name}", (*at, "http2"))
    for key in ("proxy", "source_address", "token_url"):
        old, new = getattr(a, key), getattr(b, key)
        if old != new:
            out.add(SETTINGS, f"{b.name} {key.replace('_', ' ')} {arrow(old, new)}", (*at, key))


def _auth(base: IntegrationPlan, head: IntegrationPlan, out: Collector) -> None:
    a, b = base.auth, head.auth
    if a == b:
        return
    if a.kind != b.kind:
        label = AUTH_KINDS[b.kind]
        text = f"auth changed from {AUTH_KINDS[a.kind]} to {label}"
        if b.kind != "none":
            text += f" ({describe_auth(b).removeprefix(label).strip()})"
        out.add(SETTINGS, text, ("auth", "type"))
    elif describe_auth(a) != describe_auth(b):
        out.add(SETTINGS, f"auth: {describe_auth(a)} → {describe_auth(b)}", ("auth",))
    elif isinstance(a, OAuth2Auth) and isinstance(b, OAuth2Auth):
        how = arrow(a.client_auth, b.client_auth)
        out.add(SETTINGS, f"auth: client credentials sent in {how}", ("auth", "client_auth"))


def _headers(
    old: dict[str, str], new: dict[str, str], out: Collector, area: str, at: tuple[str, ...]
) -> None:
    for name, value in new.items():
        if name not in old:
            out.add(area, f"header {name} added: {value}", (*at, name))
        elif old[name] != value:
            out.add(area, f"header {name} {arrow(old[name], value)}", (*at, name))
    for name, value in old.items():
        if name not in new:
            out.add(area, f"header {name} removed (was {value})", at)


def _simple(base: BuyerVersion, head: BuyerVersion, out: Collector) -> None:
    a, b = base.plan, head.plan
    if a.idempotency_header != b.idempotency_header:
        what = arrow(a.idempotency_header, b.idempotency_header)
        out.add(SETTINGS, f"idempotency header {what}", ("idempotency_header",))
    if a.delivery != b.delivery:
        what = arrow(a.delivery, b.delivery)
        out.add(SETTINGS, f"delivery guarantee {what}", ("delivery",))
    if a.concurrency != b.concurrency:
        what = arrow(a.concurrency, b.concurrency)
        out.add(SETTINGS, f"concurrency {what} requests at once", ("concurrency",))
    if a.price != b.price:
        out.add(SETTINGS, f"price per accepted lead {arrow(a.price, b.price)}", ("price",))


_RETRY: dict[str, str] = {
    "interval": "retry: first wait {}",
    "max_delay": "retry: longest wait {}",
    "max_wait": "retry: longest wait awaited in line {}",
    "give_up_after": "retry: gives up {} after the lead arrived",
}


def _retry(a: RetryPlan, b: RetryPlan, out: Collector) -> None:
    def at(key: str) -> tuple[str, ...]:
        return ("retry", key)

    if a.max_attempts != b.max_attempts:
        out.add(
            SETTINGS, f"retry attempts {arrow(a.max_attempts, b.max_attempts)}", at("max_attempts")
        )
    for key, label in _RETRY.items():
        old, new = getattr(a, key), getattr(b, key)
        if old != new:
            out.add(SETTINGS, label.format(f"{duration(old)} → {duration(new)}"), at(key))
    if a.backoff_rate != b.backoff_rate:
        what = f"x{a.backoff_rate:g} → x{b.backoff_rate:g}"
        out.add(SETTINGS, f"retry: wait grows {what} each time", at("backoff_rate"))
    if a.jitter != b.jitter:
        out.add(SETTINGS, f"retry jitter {arrow(a.jitter, b.jitter)}", at("jitter"))
    if a.retry_on != b.retry_on:
        now = sorted(b.retry_on)
        out.add(SETTINGS, f"retry on {set_change(sorted(a.retry_on), now)}", at("retry_on"))
    if a.on_timeout != b.on_timeout:
        what = f"{b.on_timeout} (was {a.on_timeout})"
        out.add(SETTINGS, f"a timed-out post now counts as {what}", at("on_timeout"))


def _breaker(a: BreakerPlan, b: BreakerPlan, out: Collector) -> None:
    def add(key: str, text: str) -> None:
        out.add(SETTINGS, f"circuit breaker {text}", ("circuit_breaker", key))

    if a.consecutive_failures != b.consecutive_failures:
        add(
            "consecutive_failures",
            f"opens after {b.consecutive_failures} failures in a row "
            f"(was {a.consecutive_failures})",
        )
    if a.failure_rate != b.failure_rate:
        add("failure_rate", f"failure rate {a.failure_rate:.0%} → {b.failure_rate:.0%}")
    if a.window != b.window:
        add("window", f"window {duration(a.window)} → {duration(b.window)}")
    if a.min_requests != b.min_requests:
        add("min_requests", f"minimum requests {arrow(a.min_requests, b.min_requests)}")
    if a.cooldown != b.cooldown:
        add("cooldown", f"cooldown {duration(a.cooldown)} → {duration(b.cooldown)}")


def _filters(a: m.FilterSpec | None, b: m.FilterSpec | None, out: Collector) -> None:
    old = a or m.FilterSpec()
    new = b or m.FilterSpec()
    for key, label in (("states", "states"), ("zips", "ZIP codes")):
        was, now = getattr(old, key), getattr(new, key)
        if was == now:
            continue
        at = ("filters", key)
        if now is None:
            out.add(SETTINGS, f"filters: any {label} now (was only {', '.join(was)})", at)
        elif was is None:
            out.add(SETTINGS, f"filters: only {label} {', '.join(now)} now (was any)", at)
        else:
            out.add(SETTINGS, f"filters: {label} now {set_change(was, now)}", at)
    if old.when != new.when:
        out.add(SETTINGS, f"filters: condition {arrow(old.when, new.when)}", ("filters", "when"))
    if (old.require_valid or []) != (new.require_valid or []):
        was, now = _valid_list(old.require_valid), _valid_list(new.require_valid)
        out.add(
            SETTINGS, f"filters: valid {arrow(was, now)} required", ("filters", "require_valid")
        )


def _valid_list(paths: list[str] | None) -> str:
    return ", ".join(p.strip() for p in paths) if paths else "nothing"


def _caps(base: BuyerVersion, head: BuyerVersion, out: Collector) -> None:
    a, b = base.plan.caps, head.plan.caps
    for key in ("per_hour", "per_day", "per_month", "spend_per_day"):
        old, new = getattr(a, key), getattr(b, key)
        if old != new:
            was = "no limit" if old is None else shown(old)
            now = "no limit" if new is None else shown(new)
            out.add(SETTINGS, f"caps {key} {was} → {now}", ("caps", key))


def _schedule_text(s: SchedulePlan | None) -> str:
    if s is None:
        return "always open"
    days = ", ".join(_DAYS[d] for d in sorted(s.days))
    hours = ", ".join(
        f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in s.windows
    )
    return f"{days} {hours} ({s.timezone})"


def _schedule(a: SchedulePlan | None, b: SchedulePlan | None, out: Collector) -> None:
    if a != b:
        out.add(SETTINGS, f"schedule: {_schedule_text(a)} → {_schedule_text(b)}", ("schedule",))

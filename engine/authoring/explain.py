"""``leadpost explain`` and ``leadpost render``: a buyer file in plain English, and its requests.

``explain`` summarises a compiled plan for reviewers (no secrets: they are shown as
``${env:NAME}``); given a lead it adds, per output field, the final value, the lead fields it
came from, every step applied and the YAML line. ``render`` shows the exact HTTP request.
Both return text; the CLI prints it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from engine.authoring.explain_campaign import explain_campaign
from engine.authoring.leadfile import lead_from_text
from engine.campaigns.compile import load_campaign
from engine.compiler.integration import compile_document
from engine.dsl.loader import load_yaml
from engine.errors import AuthoringError, LeadpostError, MappingError
from engine.files import MAX_LEAD_BYTES, read_limited
from engine.lead import LeadSchema
from engine.loading import display_name, schema_for
from engine.plan import (
    OMIT,
    ApiKeyAuth,
    AuthPlan,
    BasicAuth,
    BearerAuth,
    IntegrationPlan,
    OAuth2Auth,
    RenderContext,
    RetryPlan,
    StagePlan,
    TraceStep,
    WsseAuth,
)
from engine.runtime.render import MaskedEnviron, RenderedRequest, render_request

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WIDTH = 120


#: The delivery guarantee in plain words.
DELIVERY = {
    "at_most_once": "delivery: at most once (a post whose answer was lost when leadpost stopped is"
    " parked for an operator, never sent again nor sold to another buyer)",
    "at_least_once": "delivery: at least once (a post whose answer was lost when leadpost stopped"
    " is sent again with the same idempotency key; the buyer must ignore a repeat)",
}


def lead_context(
    lead_text: str | bytes,
    schema: LeadSchema | None,
    plan: IntegrationPlan,
    *,
    trace: bool,
    lead_file: str = "the lead",
) -> RenderContext:
    """Parse and validate a lead file's text. Raises LeadError (positions in ``lead_file``)."""
    lead, now = lead_from_text(lead_text, schema, lead_file)
    return RenderContext(lead, now, {}, MaskedEnviron(), [] if trace else None)


class CommandError(LeadpostError):
    """A command-line argument names something the buyer file does not have."""


def pick(kind: str, wanted: str | None, available: Iterable[str], default: str) -> str:
    """``wanted`` if the file has it (else CommandError listing the choices), or ``default``."""
    options = list(available)
    choice = wanted if wanted is not None else (default if default in options else options[0])
    if choice not in options:
        raise CommandError(f"this buyer has no {kind} '{choice}'; it has: {', '.join(options)}")
    return choice


# -- the summary ---------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if value >= size and value % size == 0:
            return f"{int(value // size)}{unit}"
    return f"{value * 1000:g}ms" if value < 1 else f"{value:g}s"


def describe_auth(auth: AuthPlan) -> str:
    """The kind of credentials, where they go and which variables hold them (never values)."""
    if isinstance(auth, ApiKeyAuth):
        where = (
            f"the {auth.name} header"
            if auth.location == "header"
            else f"the {auth.name} query parameter"
        )
        return f"API key {auth.prefix}{auth.key.masked()} in {where}"
    if isinstance(auth, BasicAuth):
        return f"HTTP Basic auth as {auth.username.masked()} with password {auth.password.masked()}"
    if isinstance(auth, BearerAuth):
        return f"bearer token {auth.token.masked()}"
    if isinstance(auth, OAuth2Auth):
        scopes = f", scopes {' '.join(auth.scopes)}" if auth.scopes else ""
        return (
            f"OAuth 2.0 client credentials from {auth.token_url} "
            f"(client {auth.client_id.masked()}, secret {auth.client_secret.masked()}{scopes})"
        )
    if isinstance(auth, WsseAuth):
        how = (
            "PasswordDigest (a fresh nonce and time each request)"
            if auth.digest
            else ("PasswordText")
        )
        extra = f", wsu:Timestamp valid {_seconds(auth.timestamp)}" if auth.timestamp else ""
        return (
            f"WS-Security UsernameToken in the SOAP header as {auth.username.masked()} with "
            f"password {auth.password.masked()}, sent as {how}{extra}"
        )
    return "none"


def describe_retry(retry: RetryPlan) -> str:
    on = ", ".join(sorted(retry.retry_on)) or "nothing"
    return (
        f"up to {retry.max_attempts} attempts on {on}, waiting {_seconds(retry.interval)} "
        f"then x{retry.backoff_rate:g} each time (at most {_seconds(retry.max_delay)}, "
        f"{'random jitter' if retry.jitter == 'full' else 'no jitter'}); a timed-out post counts "
        f"as {retry.on_timeout}; no attempts {_seconds(retry.give_up_after)} after the lead arrived"
    )


def _stage_lines(plan: IntegrationPlan, stage: StagePlan) -> list[str]:
    req = stage.request
    where = "in the query string" if req.in_query else f"as {req.encoder.content_type}"
    t = req.timeouts
    lines = [
        f"{stage.name}: {req.method} {req.path or '/'} {where}, timeout {_seconds(t.total)}",
        "  fields:",
    ]
    lines += [f"    {f.name}: {f.description}" for f in req.fields]
    if req.headers:
        shown = ", ".join(f"{n}: {v.masked()}" for n, v in req.headers)
        lines.append(f"  headers: {shown}")
    lines.append("  response:")
    lines += [f"    {part}" for part in (stage.response.description or "default rules").split("; ")]
    return lines


def explain_plan(plan: IntegrationPlan, description: str | None = None) -> str:
    """The whole buyer file in plain English."""
    out = [f"{plan.name} (buyer '{plan.buyer}', version {plan.version}) — {plan.file}"]
    if description:
        out.append(" ".join(description.split()))
    kind = "ping/post" if plan.is_ping_post else "direct post"
    out.append(
        f"kind: {kind}" + (f", fixed price {plan.price} per accepted lead" if plan.price else "")
    )
    out.append("environments:")
    for env in plan.environments.values():
        notes = [
            n for n, on in (("TLS checks OFF", not env.tls_verify), ("HTTP/2", env.http2)) if on
        ]
        extra = f" ({', '.join(notes)})" if notes else ""
        out.append(f"  {env.name}: {env.url}{extra}")
    out.append(f"auth: {describe_auth(plan.auth)}")
    out.append("stages:")
    for stage in plan.stages.values():
        out += ["  " + line for line in _stage_lines(plan, stage)]
    out.append(f"retry: {describe_retry(plan.retry)}")
    b = plan.breaker
    out.append(
        f"circuit breaker: opens after {b.consecutive_failures} failures in a row or "
        f"{b.failure_rate:.0%} failures over {_seconds(b.window)} (at least {b.min_requests} "
        f"requests); tries again after {_seconds(b.cooldown)}"
    )
    out.append(f"concurrency: at most {plan.concurrency} requests at once")
    idem = plan.idempotency_header
    out.append(f"idempotency header: {idem}" if idem else "idempotency header: none")
    out.append(DELIVERY[plan.delivery])
    if plan.filters is not None and plan.filters.description:
        out.append("filters: " + "; ".join(plan.filters.description))
    caps = [
        f"{v} {label}"
        for v, label in (
            (plan.caps.per_hour, "per hour"),
            (plan.caps.per_day, "per day"),
            (plan.caps.per_month, "per month"),
        )
        if v is not None
    ]
    if plan.caps.spend_per_day is not None:
        caps.append(f"spend at most {plan.caps.spend_per_day} per day")
    out.append("caps: " + (", ".join(caps) if caps else "none"))
    if plan.schedule is not None:
        s = plan.schedule
        days = ", ".join(_DAYS[d] for d in sorted(s.days))
        hours = ", ".join(
            f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in s.windows
        )
        out.append(f"schedule: {days} {hours} ({s.timezone})")
    else:
        out.append("schedule: always open")
    out.append(f"tests: {len(plan.tests)} embedded test case(s)")
    return "\n".join(out)


# -- the per-field trace -------------------------------------------------------------------------


def show_value(value: Any) -> str:
    """A value as a reader should see it: text in quotes, numbers plain, left-out fields named."""
    if value is OMIT:
        return "(left out)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def trace_table(plan: IntegrationPlan, stage: str, ctx: RenderContext, width: int = WIDTH) -> str:
    """One row per output field: final value, where it came from, each step, the YAML line."""
    table = Table(box=box.SIMPLE_HEAD, expand=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold", max_width=30)
    table.add_column("from", overflow="fold", max_width=32)
    table.add_column("steps", overflow="fold")
    table.add_column("line", no_wrap=True)
    for field in plan.stages[stage].request.fields:
        trace: list[TraceStep] = []
        ctx.trace = trace
        try:
            value = show_value(field.compute(ctx))
        except MappingError as exc:
            value = f"REFUSED: {exc.reason}"
        source = f"{trace[0].step} = {show_value(trace[0].value)}" if trace else "-"
        steps = "\n".join(f"{t.step} → {show_value(t.value)}" for t in trace[1:]) or "-"
        where = f"{Path(field.span.file).name}:{field.span.line}"
        table.add_row(field.name, value, source, steps, where)
    ctx.trace = None
    return _to_text(table, width)


def _to_text(renderable: Any, width: int) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, color_system=None, force_terminal=False, highlight=False
    )
    console.print(renderable)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    return "\n".join(lines).strip("\n") + "\n"


def explain(
    plan: IntegrationPlan,
    *,
    description: str | None = None,
    lead_text: str | bytes | None = None,
    schema: LeadSchema | None = None,
    width: int = WIDTH,
    lead_file: str = "the lead",
) -> str:
    """The summary, plus a trace table per stage when a lead is given. Raises LeadError."""
    out = explain_plan(plan, description)
    if lead_text is None:
        return out
    ctx = lead_context(lead_text, schema, plan, trace=True, lead_file=lead_file)
    for name in plan.stages:
        out += f"\n\n{name} fields for this lead:\n" + trace_table(plan, name, ctx, width)
    return out.rstrip("\n")


# -- render --------------------------------------------------------------------------------------


def render_preview(
    plan: IntegrationPlan,
    lead_text: str | bytes,
    schema: LeadSchema | None,
    *,
    stage: str | None = None,
    env: str | None = None,
    prior: Mapping[str, Mapping[str, Any]] | None = None,
    lead_file: str = "the lead",
) -> RenderedRequest:
    """The exact request for a lead, secrets masked. Raises LeadError or MappingError."""
    stage = pick("stage", stage, plan.stages, "post")
    chosen = pick("environment", env, plan.environments, "test")
    ctx = lead_context(lead_text, schema, plan, trace=False, lead_file=lead_file)
    if prior:
        ctx.prior = prior
    return render_request(plan, stage, ctx, chosen, mask=True, with_auth=True)


def request_text(request: RenderedRequest) -> str:
    """The request as an HTTP message: request line, headers, blank line, body."""
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    charset = "utf-8"
    if request.content_type and "charset=" in request.content_type.lower():
        charset = request.content_type.lower().split("charset=")[1].split(";")[0].strip()
    try:
        body = request.body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        body = request.body.decode("utf-8", "backslashreplace")
    return "\n".join(lines) + "\n\n" + body


# -- from files ----------------------------------------------------------------------------------


def _load(path: str | Path) -> tuple[IntegrationPlan, str | None, LeadSchema | None]:
    """The compiled plan, the file's description and its lead schema. Raises AuthoringError."""
    p = Path(path)
    doc = load_yaml(p, display_name(p))
    schema = schema_for(p)
    plan, issues = compile_document(doc, schema, base_dir=str(p.resolve().parent))
    if plan is None:
        raise AuthoringError(issues, doc.source.text)
    data = doc.data if isinstance(doc.data, dict) else {}
    description = data.get("description")
    return plan, description if isinstance(description, str) else None, schema


def read_lead(path: str | Path) -> bytes:
    """The bytes of a lead file; CommandError when it cannot be read."""
    try:
        return read_limited(path, MAX_LEAD_BYTES)
    except OSError as exc:
        raise CommandError(f"cannot read the lead file {path}: {exc.strerror or exc}") from None


def explain_file(path: str | Path, lead: str | Path | None = None, *, width: int = WIDTH) -> str:
    """``leadpost explain``: the summary of a buyer (or campaign) file, with a lead's trace."""
    if _is_campaign(path):
        return _explain_campaign_file(path, lead)
    plan, description, schema = _load(path)
    lead_text = read_lead(lead) if lead is not None else None
    return explain(
        plan,
        description=description,
        lead_text=lead_text,
        schema=schema,
        width=width,
        lead_file=str(lead),
    )


def _is_campaign(path: str | Path) -> bool:
    doc = load_yaml(Path(path), display_name(Path(path)))
    return isinstance(doc.data, dict) and "campaign" in doc.data


def _explain_campaign_file(path: str | Path, lead: str | Path | None) -> str:
    campaign = load_campaign(path)
    if lead is None:
        return explain_campaign(campaign)
    normalized, _ = lead_from_text(read_lead(lead), schema_for(Path(path)), str(lead))
    return explain_campaign(campaign, normalized)


def render_file(
    path: str | Path, lead: str | Path, *, stage: str | None = None, env: str | None = None
) -> str:
    """``leadpost render``: the exact HTTP request for a lead, secrets masked."""
    plan, _, schema = _load(path)
    preview = render_preview(
        plan, read_lead(lead), schema, stage=stage, env=env, lead_file=str(lead)
    )
    return request_text(preview)

"""The checklist items that talk to the buyer: reach it, get a token, send leads, force failures.

Everything goes through the real :class:`~engine.runtime.executor.Runtime` (its shared client,
token cache, masking and outcome classes), one attempt per send as ``leadpost post`` does, so
what the report shows is what a live delivery would see. Nothing here prints or reads files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import anyio
import httpx

from engine.authoring.cases import excluded_problem, exclusion
from engine.clock import Clock
from engine.errors import AuthFailure, LeadError, MappingError
from engine.lead import LeadSchema, lead_timestamp, validate_lead
from engine.plan import ForcedFailure, IntegrationPlan, OAuth2Auth, RenderContext, Template
from engine.plan import TestCasePlan as Case
from engine.preflight.checks import Item, Status, TokenCheck, ms
from engine.runtime.auth import build_auth
from engine.runtime.classify import Verdict, apply_on_timeout
from engine.runtime.executor import Runtime
from engine.runtime.masking import Scrubber
from engine.runtime.outcome import Outcome
from engine.runtime.render import render_request
from engine.runtime.retry import decide
from engine.runtime.single import format_outcome
from engine.runtime.timing import Phases
from engine.runtime.wire import WireError, WireRequest

_KINDS = {"error": "bad_response"}


@dataclass(frozen=True, slots=True)
class Reach:
    """Whether the endpoint took a connection, and how long connecting took (seconds)."""

    item: Item
    reachable: bool
    connect: float | None


async def reach(runtime: Runtime, plan: IntegrationPlan, env: str, clock: Clock) -> Reach:
    """Open a connection to the environment's endpoint through the wire leads go through (a
    ``HEAD``, as prewarming does), within the shortest connect timeout of the stages. Any HTTP
    answer counts: only connecting is checked here."""
    environment = plan.environments[env]
    t = min((s.request.timeouts for s in plan.stages.values()), key=lambda x: x.connect)
    wire = runtime.wire_for(environment)
    phases = Phases()
    started = clock.now()
    failure: WireError | None = None
    with anyio.move_on_after(t.connect + t.read) as scope:
        try:
            await wire.send(
                WireRequest("HEAD", environment.url, (), b"", t.connect, t.read), phases
            )
        except WireError as exc:
            failure = exc
    took = phases.connect + (phases.dns or 0.0) if phases.connect is not None else None
    took = took if took is not None else clock.now() - started
    where = _origin(environment.url)
    if failure is not None and failure.kind in ("transport", "invalid"):
        detail = f"no connection to {where} within {ms(t.connect)}: {failure.reason}"
        return Reach(Item("endpoint reachable", "fail", detail), False, None)
    if scope.cancelled_caught and phases.connect_end is None:
        detail = f"no connection to {where} within {ms(t.connect)}"
        return Reach(Item("endpoint reachable", "fail", detail), False, None)
    detail = f"connected to {where} in {ms(took)} (connect timeout {ms(t.connect)})"
    return Reach(
        Item("endpoint reachable", "pass" if took <= t.connect else "fail", detail), True, took
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def fetch_token(runtime: Runtime, plan: IntegrationPlan, env: str) -> TokenCheck | None:
    """For OAuth 2.0: get an access token from the token URL (kept in the runtime's cache for
    the test leads). None for other kinds of credentials."""
    if not isinstance(plan.auth, OAuth2Auth):
        return None
    environment = plan.environments[env]
    url = environment.token_url or plan.auth.token_url
    client = runtime.client_for(environment)
    auth = build_auth(
        plan.auth, runtime.environ, client=client, cache=runtime.tokens, environment=environment
    )
    flow = auth.async_auth_flow(httpx.Request("POST", environment.url))
    started = runtime.clock.now()
    try:
        await flow.__anext__()
    except AuthFailure as exc:
        return TokenCheck(False, exc.reason)
    finally:
        await flow.aclose()
    took = runtime.clock.now() - started
    return TokenCheck(True, f"OAuth 2.0 token obtained from {url} in {ms(took)}")


# -- test leads ----------------------------------------------------------------------------------


def case_context(
    case: Case, schema: LeadSchema | None, environ: Mapping[str, str]
) -> RenderContext | str:
    """The render context of a test case's lead, or why the lead cannot be used."""
    if schema is None:
        return "no lead-schema.yaml was found in this file's folder or above it"
    try:
        lead = validate_lead(schema, case.lead)
        return RenderContext(lead, lead_timestamp(lead), dict(case.prior), environ)
    except LeadError as exc:
        return "the test lead does not match the lead schema: " + "; ".join(exc.reasons)


@dataclass(frozen=True, slots=True)
class Sent:
    """One test lead or forced failure: its checklist line and every attempt made."""

    item: Item
    lead_id: str
    outcomes: tuple[Outcome, ...] = ()
    name: str = ""
    """The test case's name (test leads)."""

    @property
    def last(self) -> Outcome | None:
        return self.outcomes[-1] if self.outcomes else None


def expected_kind(case: Case) -> str:
    """The outcome class a case expects: its ``expect: outcome``, else accepted."""
    return (
        _KINDS.get(case.expect_outcome, case.expect_outcome) if case.expect_outcome else "accepted"
    )


def _step(o: Outcome) -> str:
    price = "bid" if o.stage == "ping" else "price"
    shown = (("price", price), ("buyer_lead_id", "buyer lead id"))
    extra = [f"{label} {o.values[k]}" for k, label in shown if k in o.values]
    more = f" ({', '.join(extra)})" if extra else ""
    why = f": {o.reason}" if o.reason and not o.ok else ""
    return f"{o.stage} {o.kind} in {ms(o.timings.total)}{more}{why}"


def _notes(outcomes: tuple[Outcome, ...]) -> tuple[str, ...]:
    return tuple(line for o in outcomes for line in format_outcome(o).splitlines())


async def _ping_first(
    runtime: Runtime, plan: IntegrationPlan, ctx: RenderContext, env: str, lead_id: str
) -> tuple[Outcome, RenderContext]:
    """Send the ping; the post's context then carries what the ping's answer gave."""
    alone = dataclasses.replace(ctx, prior={})
    ping = await runtime.send(plan, "ping", alone, env=env, lead_id=lead_id)
    prior = {**ctx.prior, "ping": ping.values} if ping.ok else dict(ctx.prior)
    return ping, dataclasses.replace(ctx, prior=prior)


def _refused(plan: IntegrationPlan, case: Case, ctx: RenderContext, env: str) -> tuple[Status, str]:
    """A case expecting its lead to be refused: rendered only, never sent."""
    assert case.expect_reject is not None
    try:
        render_request(plan, case.stage, ctx, env, mask=True)
    except MappingError as exc:
        reason = Scrubber.for_stage(plan.stages[case.stage], ctx)(exc.reason)
        if case.expect_reject.casefold() in exc.reason.casefold():
            return "pass", f"refused before sending: {reason}"
        return "fail", f"refused, but not for '{case.expect_reject}': {reason}"
    return "fail", f"expected to be refused ('{case.expect_reject}'), but it rendered (not sent)"


async def send_case(
    runtime: Runtime,
    plan: IntegrationPlan,
    env: str,
    case: Case,
    schema: LeadSchema | None,
    lead_id: str,
) -> Sent:
    """Send a test case's lead for real (the ping first for a ping/post buyer) and compare the
    final outcome with the case's expectation."""
    name = f"test lead '{case.name}'"

    def done(status: Status, detail: str, sent: tuple[Outcome, ...] = ()) -> Sent:
        notes = _notes(sent) if status == "fail" else ()
        return Sent(Item(name, status, detail, notes), lead_id, sent, case.name)

    ctx = case_context(case, schema, runtime.environ)
    if isinstance(ctx, str):
        return done("fail", ctx)
    if case.expect_reject is not None:
        return done(*_refused(plan, case, ctx, env))
    if case.expect_excluded is not None:
        reason = exclusion(plan, ctx)
        problem = excluded_problem(case.expect_excluded, reason)
        return done("fail", problem) if problem else done("pass", f"not sent: {reason}")
    outcomes: list[Outcome] = []
    if case.stage == "post" and plan.is_ping_post:
        ping, ctx = await _ping_first(runtime, plan, ctx, env, lead_id)
        outcomes.append(ping)
        if not ping.ok:
            return done("fail", f"{_step(ping)}; the post was not sent", (ping,))
    outcomes.append(await runtime.send(plan, case.stage, ctx, env=env, lead_id=lead_id))
    sent = tuple(outcomes)
    steps = ", ".join(_step(o) for o in sent)
    want = expected_kind(case)
    if sent[-1].kind == want:
        return done("pass", steps, sent)
    return done("fail", f"expected {want}, got {steps}", sent)


# -- forced failures -----------------------------------------------------------------------------


def forced_label(forced: ForcedFailure) -> str:
    """``X-Sandbox-Force: 500`` — how the failure is asked for."""
    asked = [f"{k}: {v}" for k, v in forced.headers] + [f"?{k}={v}" for k, v in forced.query]
    return ", ".join(asked)


def with_force(
    plan: IntegrationPlan, env: str, forced: ForcedFailure, stage: str
) -> IntegrationPlan:
    """``plan`` whose ``stage`` also sends the forced failure's headers and query parameters."""
    stage_plan = plan.stages[stage]
    request = stage_plan.request
    headers = (*request.headers, *((k, Template((v,))) for k, v in forced.headers))
    request = dataclasses.replace(request, headers=headers)
    environments = dict(plan.environments)
    if forced.query:
        extra = urlencode(list(forced.query))
        if request.path:
            joiner = "&" if "?" in request.path else "?"
            request = dataclasses.replace(request, path=request.path + joiner + extra)
        else:
            environment = environments[env]
            parts = urlsplit(environment.url)
            query = "&".join(p for p in (parts.query, extra) if p)
            url = urlunsplit(parts._replace(query=query))
            environments[env] = dataclasses.replace(environment, url=url)
    stages = {**plan.stages, stage: dataclasses.replace(stage_plan, request=request)}
    return dataclasses.replace(plan, stages=stages, environments=environments)


def expected_kinds(plan: IntegrationPlan, forced: ForcedFailure, stage: str) -> tuple[str, ...]:
    """The outcome classes that fulfil a forced failure's ``expect``: a timeout is ``unknown``
    as changed by ``on_timeout`` (a ping cut short by its total time is ``late``)."""
    if forced.expect != "timeout":
        return (forced.expect,)
    kind = apply_on_timeout(Verdict("unknown", None), plan.retry).kind
    return (kind, "late") if stage == "ping" else (kind,)


def _retry_text(plan: IntegrationPlan, outcome: Outcome) -> tuple[bool, str]:
    decision = decide(plan.retry, outcome.kind, 1, 0.0, 1.0, outcome.retry_after)
    if decision.retry:
        return True, f"the retry policy would {decision.reason}"
    return False, f"the retry policy would not retry it: {decision.reason}"


async def send_forced(
    runtime: Runtime,
    plan: IntegrationPlan,
    env: str,
    forced: ForcedFailure,
    ctx: RenderContext,
    lead_id: str,
) -> Sent:
    """Ask the buyer's test environment for a failure and check how the runtime classified it
    and whether the retry policy would try again."""
    stage = forced.stage or "post"
    timeout = forced.expect == "timeout"
    name = f"forced {'timeout' if timeout else 'failure'} ({forced_label(forced)})"
    outcomes: list[Outcome] = []
    if stage == "post" and plan.is_ping_post:
        ping, ctx = await _ping_first(runtime, plan, ctx, env, lead_id)
        outcomes.append(ping)
    outcome = await runtime.send(
        with_force(plan, env, forced, stage), stage, ctx, env=env, lead_id=lead_id
    )
    outcomes.append(outcome)
    wanted = expected_kinds(plan, forced, stage)
    retried, retry = _retry_text(plan, outcome)
    got = f"{stage} {outcome.kind} in {ms(outcome.timings.total)}"
    if outcome.kind not in wanted:
        why = f": {outcome.reason}" if outcome.reason else ""
        detail = f"expected {' or '.join(wanted)}, got {got}{why}"
        return Sent(Item(name, "fail", detail, _notes((outcome,))), lead_id, tuple(outcomes))
    detail = f"{got} as declared; {retry}"
    if timeout:
        detail += f" (on_timeout: {plan.retry.on_timeout})"
        if retried and stage == "post" and plan.idempotency_header is None:
            why = "a timed-out post would be sent again without an idempotency header"
            return Sent(Item(name, "fail", f"{why}: {detail}"), lead_id, tuple(outcomes))
    return Sent(Item(name, "pass", detail), lead_id, tuple(outcomes))


def not_offered(kind: str, hint: str) -> Item:
    """The line for a check the buyer's test environment cannot be asked for."""
    return Item(f"forced {kind}", "skip", f"not offered by this buyer ({hint})")

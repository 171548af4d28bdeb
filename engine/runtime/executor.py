"""The delivery executor: send one stage of one lead to one buyer, classify it, retry it.

:class:`Runtime` owns the shared HTTP clients, the OAuth token cache, the per-endpoint circuit
breakers, a concurrency limit per buyer and the retry :class:`~engine.runtime.scheduler.Scheduler`.
``send`` makes exactly one attempt and never raises for a buyer's or a lead's problem: it returns
an :class:`~engine.runtime.outcome.Outcome` whose ``kind`` is one of the guide's classes.
``deliver`` adds retries per the buyer's retry policy; in real-time mode a long wait is handed to
the scheduler instead of being awaited.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from urllib.parse import urlencode

import anyio
import httpx
from anyio.abc import TaskGroup

from engine.clock import Clock, SystemClock
from engine.errors import AuthFailure, MappingError
from engine.plan import (
    OMIT,
    EnvironmentPlan,
    FieldPlan,
    IntegrationPlan,
    OAuth2Auth,
    RenderContext,
    StagePlan,
    WsseAuth,
)
from engine.runtime.attempt import Record, log_outcome
from engine.runtime.auth import TokenCache, build_auth
from engine.runtime.breaker import BreakerRegistry, CircuitBreaker
from engine.runtime.classify import (
    Verdict,
    apply_on_timeout,
    breaker_verdict,
    classify_answer,
)
from engine.runtime.journal import AttemptJournal
from engine.runtime.masking import Scrubber
from engine.runtime.outcome import Delivery, Outcome
from engine.runtime.render import idempotency_key, render_request, render_values
from engine.runtime.retry import decide, parse_retry_after
from engine.runtime.scheduler import Job, Scheduler
from engine.runtime.slots import Slots
from engine.runtime.target import Target
from engine.runtime.timing import Phases
from engine.runtime.transport import ClientPool, ClientSettings, prewarm
from engine.runtime.wire import AddressCheck, Wire, WireError, WireRequest
from engine.runtime.wire_httpx import HttpxWire
from engine.runtime.wsse import ClockStamp

log = logging.getLogger("leadpost.delivery")

#: Prepared targets kept before the cache starts over (plans reloaded many times).
_MAX_TARGETS = 4096
#: Seconds added to an attempt's timer on an event loop whose timers keep whole milliseconds
#: (uvloop, which ``leadpost serve`` runs on): it rounds a delay to the millisecond and reads
#: a clock cut to the millisecond, so a timer fires up to 1.5 ms early (0.8 and 1.3 ms seen),
#: which cut a buyer that answered in the last millisecond before its deadline. The timer fires
#: late by up to this much instead: nothing is sent after the deadline (checked before a request
#: leaves), a ping answered after it is still discarded (the ping phase reads the clock), and
#: asyncio's own loops, whose timers fire on time, add nothing.
COARSE_TIMER_SLACK = 0.002


def timer_slack(loop: asyncio.AbstractEventLoop) -> float:
    """What to add to a deadline's timer on ``loop`` (see COARSE_TIMER_SLACK)."""
    return 0.0 if isinstance(loop, asyncio.BaseEventLoop) else COARSE_TIMER_SLACK


class _HideHttpxRequestLines(logging.Filter):
    """httpx logs each request's full URL, which may carry an API key in its query string;
    leadpost.delivery logs every attempt with secrets masked instead (HTTP/2 buyers and token
    requests go through httpx)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("HTTP Request:"))


_HTTPX_FILTER = _HideHttpxRequestLines()


def pii_in_ping(fields: Sequence[FieldPlan], ctx: RenderContext) -> list[str]:
    """Names of the personal-data ``fields`` that would send a value (checked for pings).

    A field whose computation fails counts as not sending (rendering reports that failure)."""
    found = []
    for f in fields:
        if not f.pii:
            continue
        try:
            value = f.compute(ctx)
        except Exception:  # the render step reports the failure as "invalid"
            continue
        if value is not OMIT:
            found.append(f.name)
    return found


class Runtime:
    """Runs plans for leads. Use as ``async with Runtime(...) as runtime:``."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        breakers: BreakerRegistry | None = None,
        rand: Callable[[], float] = random.random,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        logger: logging.Logger | None = None,
        settings: ClientSettings | None = None,
        journal: AttemptJournal | None = None,
        check: AddressCheck | None = None,
        wire: Wire | None = None,
    ) -> None:
        self.journal = journal
        """Where each post's intent is committed before it leaves (see engine.runtime.journal)."""
        self.clock: Clock = clock or SystemClock()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.breakers = breakers if breakers is not None else BreakerRegistry(self.clock)
        self.rand = rand
        self.stamp = ClockStamp(self.clock, random_bytes)
        """Per-send values (a WS-Security nonce and Created): this runtime's clock, and
        ``random_bytes`` (``secrets.token_bytes``; a test may pin it) for the nonce."""
        self.log = logger or log
        self.tokens = TokenCache(self.clock)
        """OAuth access tokens shared by every lead of the same credentials."""
        self.scheduler = Scheduler(self.clock, self._run_job)
        """Deliveries waiting for a retry; set ``scheduler.on_result`` to receive their ends."""
        self._client = client
        if wire is None and client is not None:
            wire = HttpxWire(client, owned=False)
        self._injected = wire
        """Where every lead's request goes when given: ``wire`` (e.g. an in-process one in a
        benchmark), else the injected client's. OAuth tokens still go through ``client`` or
        the pool."""
        self._pool = ClientPool(settings, check=check) if client is None else None
        """Wires and clients per network setting; ``check`` is applied to every address
        dialled (after DNS)."""
        self._auths: dict[tuple[object, EnvironmentPlan], httpx.Auth] = {}
        self._limiters: dict[str, Slots] = {}
        self._targets: dict[tuple[int, str, str], Target] = {}
        self._tg: TaskGroup | None = None
        httpx_log = logging.getLogger("httpx")
        if _HTTPX_FILTER not in httpx_log.filters:
            httpx_log.addFilter(_HTTPX_FILTER)

    async def __aenter__(self) -> Runtime:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self.scheduler.run)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tg, self._tg = self._tg, None
        try:
            if tg is not None:
                tg.cancel_scope.cancel()
                await tg.__aexit__(None, None, None)
        finally:
            if self.scheduler.pending:
                self.log.warning(
                    "stopping with %d deliveries still waiting for a retry (kept in"
                    " runtime.scheduler.pending)",
                    len(self.scheduler),
                )
            if self._pool is not None:
                await self._pool.aclose()

    # -- per buyer and endpoint -------------------------------------------------------------

    def breaker_for(self, plan: IntegrationPlan, env: str) -> CircuitBreaker:
        """The circuit breaker of the buyer's endpoint in environment ``env``."""
        return self.breakers.get(f"{plan.buyer}/{env}", plan.breaker)

    def _limiter(self, plan: IntegrationPlan) -> Slots:
        limit = max(plan.concurrency, 1)
        limiter = self._limiters.get(plan.buyer)
        if limiter is None:
            limiter = self._limiters[plan.buyer] = Slots(limit)
        elif limiter.total != limit:
            limiter.resize(limit)
        return limiter

    def client_for(self, environment: EnvironmentPlan) -> httpx.AsyncClient:
        """The httpx client for an environment's requests that are not leads (OAuth tokens):
        the injected one, or one per network setting."""
        if self._client is not None:
            return self._client
        assert self._pool is not None
        return self._pool.client_for(environment)

    def wire_for(self, environment: EnvironmentPlan) -> Wire:
        """The wire an environment's leads go through (the injected client's, or one per
        network setting)."""
        if self._injected is not None:
            return self._injected
        assert self._pool is not None
        return self._pool.wire_for(environment)

    async def prewarm(
        self, plans: Iterable[IntegrationPlan], env: str, *, timeout: float = 1.0
    ) -> int:
        """Open a connection to each buyer's host before the first lead, as a running engine
        should for its ping buyers (a 100 ms ping has no time to connect). Returns how many
        hosts answered; failures are ignored (the first real request will report them)."""
        groups: dict[int, tuple[Wire, list[str]]] = {}
        for plan in plans:
            environment = plan.environments.get(env)
            if environment is not None:
                wire = self.wire_for(environment)
                groups.setdefault(id(wire), (wire, []))[1].append(environment.url)
        answered = 0

        async def warm(wire: Wire, urls: list[str]) -> None:
            nonlocal answered
            answered += await prewarm(wire, urls, timeout=timeout)

        async with anyio.create_task_group() as tg:
            for wire, urls in groups.values():
                tg.start_soon(warm, wire, urls)
        return answered

    def _auth(self, plan: IntegrationPlan, environment: EnvironmentPlan) -> httpx.Auth:
        """The credentials of a buyer in an environment (one object per pair: static headers
        are built once, OAuth tokens come from the shared cache)."""
        key = (plan.auth, environment)
        auth = self._auths.get(key)
        if auth is None:
            oauth = isinstance(plan.auth, OAuth2Auth)
            client = self.client_for(environment) if oauth else None
            auth = build_auth(
                plan.auth, self.environ, client=client, cache=self.tokens, environment=environment
            )
            self._auths[key] = auth
        return auth

    def _target(self, plan: IntegrationPlan, stage: str, env: str) -> Target | None:
        """The prepared stage of ``plan`` in ``env`` (None when the plan has no such stage or
        environment), built at first use."""
        key = (id(plan), stage, env)
        target = self._targets.get(key)
        if target is not None and target.plan is plan:
            return target
        stage_plan = plan.stages.get(stage)
        environment = plan.environments.get(env)
        if stage_plan is None or environment is None:
            return None
        auth = self._auth(plan, environment)
        target = Target.build(plan, stage_plan, environment, self.wire_for(environment), auth)
        if len(self._targets) >= _MAX_TARGETS:
            self._targets.clear()
        self._targets[key] = target
        return target

    # -- one attempt ------------------------------------------------------------------------

    async def send(
        self,
        plan: IntegrationPlan,
        stage: str,
        ctx: RenderContext,
        *,
        env: str,
        lead_id: str,
        attempt: int = 1,
        deadline: float | None = None,
    ) -> Outcome:
        """One attempt to send ``stage`` of a lead; ``deadline`` is an absolute ``clock.now()``
        time. Returns by the deadline (or the stage's total timeout) whatever the buyer does (on
        uvloop up to COARSE_TIMER_SLACK after it; nothing is sent after it).
        ``${env:NAME}`` values are read from ``ctx.environ``, or the runtime's when it is empty."""
        if not ctx.environ and self.environ:  # the router's contexts carry it (not per ping)
            ctx = dataclasses.replace(ctx, environ=self.environ)
        record = Record(plan, stage, lead_id, attempt)
        outcome = await self._attempt(record, ctx, env, deadline)
        log_outcome(self.log, lead_id, outcome)
        if self.journal is not None and stage != "ping":
            self.journal.answered(lead_id, outcome)
        return outcome

    async def _attempt(
        self, record: Record, ctx: RenderContext, env: str, deadline: float | None
    ) -> Outcome:
        plan, stage = record.plan, record.stage
        target = self._target(plan, stage, env)
        if target is None:
            what = f"stage '{stage}'" if stage not in plan.stages else f"environment '{env}'"
            return record.outcome("invalid", f"the buyer file of {plan.buyer} has no {what}")
        record.target = target
        stage_plan = target.stage
        if stage == "ping" and (leaks := pii_in_ping(target.pii_fields, ctx)):
            names = ", ".join(leaks)
            why = f"the ping would send personal data ({names}); remove these fields from the ping"
            return record.outcome("invalid", f"{why}, nothing was sent")
        if target.insecure is not None:
            return record.outcome("invalid", f"{target.insecure}; nothing was sent")
        if (name := target.missing_secret(self.environ)) is not None:
            why = f"the environment variable {name} is not set; set it to the buyer's credentials"
            return record.outcome("auth", f"{why} and restart leadpost (nothing was sent)")
        breaker = self.breakers.get(target.breaker_name, plan.breaker)
        if breaker.state == "open" and (breaker.retry_at or 0.0) > self.clock.now():
            return record.outcome("circuit_open", self._open_reason(breaker))
        if ctx.stamp is None and isinstance(plan.auth, WsseAuth):  # only a SOAP login uses it
            ctx = dataclasses.replace(ctx, stamp=self.stamp)
        try:
            if target.pii_fields:
                record.values = render_values(plan, stage, ctx)
            record.rendered = render_request(
                plan, stage, ctx, env, lead_id=record.lead_id, values=record.values
            )
        except MappingError as exc:  # its text may quote the lead: scrubbed of what it read
            record.scrub = Scrubber.for_stage(stage_plan, ctx, record.values)
            return record.outcome("invalid", str(exc))
        except Exception as exc:
            self.log.exception("building the request for %s failed", plan.buyer)
            record.scrub = Scrubber.for_stage(stage_plan, ctx, record.values)
            return record.outcome("invalid", f"the request could not be built: {exc}")
        if record.values is not None:  # one scrubber per attempt: the lead's and sent values
            record.scrub = Scrubber.for_stage(stage_plan, ctx, record.values)
        return await self._exchange(record, target, breaker, deadline)

    def _open_reason(self, breaker: CircuitBreaker) -> str:
        left = (breaker.retry_at or self.clock.now()) - self.clock.now()
        return f"the buyer failed repeatedly; nothing is sent for {max(left, 0):.3g} more seconds"

    async def _exchange(
        self, record: Record, target: Target, breaker: CircuitBreaker, deadline: float | None
    ) -> Outcome:
        timeouts = target.stage.request.timeouts
        budget, limit = timeouts.total, f"the stage's total time of {timeouts.total:g} s"
        if deadline is not None and deadline - self.clock.now() < budget:
            budget, limit = deadline - self.clock.now(), "the deadline"
        if budget <= 0:
            return record.outcome("late", "the deadline had passed before sending; nothing sent")
        verdict: Verdict | None = None
        token_failed = allowed = False
        limiter = self._limiter(record.plan)
        # The attempt's one deadline. asyncio's own timeout, not an anyio cancel scope: the
        # runtime runs on asyncio only (aiohttp), and a scope cost about 10% of the CPU of a
        # ping (measured, scripts/bench/auction.py).
        deadline_cm = asyncio.timeout(budget + timer_slack(asyncio.get_running_loop()))
        cut_short = False
        try:
            async with deadline_cm:
                if not limiter.take_nowait():  # uncontended: no trip through the event loop
                    await limiter.take()
                try:
                    if deadline is not None and self.clock.now() >= deadline:
                        # The slot came after the deadline (inside the timer's slack).
                        why = "the deadline passed before the request could leave; nothing sent"
                        return record.outcome("late", why)
                    if not breaker.allow():
                        return record.outcome("circuit_open", self._open_reason(breaker))
                    allowed = True
                    if self.journal is not None and record.stage != "ping":
                        key = idempotency_key(record.lead_id, record.plan.buyer, record.stage)
                        await self.journal.sending(
                            record.lead_id, record.plan.buyer, record.stage, record.attempt, key
                        )
                    try:
                        if target.oauth is None and target.static is None:
                            # The common case inline (one coroutine frame fewer per request).
                            rendered = record.rendered
                            assert rendered is not None
                            timeouts = target.stage.request.timeouts
                            record.request = request = WireRequest(
                                rendered.method, rendered.url, rendered.headers, rendered.body,
                                timeouts.connect, timeouts.read,
                            )  # fmt: skip
                            record.answer = await target.wire.send(request, record.phases)
                        else:
                            await self._roundtrip(record, target)
                    except AuthFailure as exc:
                        verdict, token_failed = Verdict("auth", exc.reason), True
                    except WireError as exc:
                        verdict = Verdict(exc.kind, exc.reason)
                        if record.phases.sent is None and verdict.kind == "unknown":
                            verdict = Verdict("transport", f"{verdict.reason}; nothing was sent")
                finally:
                    limiter.release()
        except TimeoutError:
            if not deadline_cm.expired():
                raise
            cut_short = True

        if cut_short:
            verdict = self._cut_short(record, limit)
        if verdict is None:
            return self._answer(record, target.stage, breaker)
        if allowed:
            failed = True if token_failed else breaker_verdict(verdict.kind)
            self._record(breaker, failed)
        final = apply_on_timeout(verdict, record.plan.retry)
        return record.outcome(final.kind, final.reason)

    @staticmethod
    async def _roundtrip(record: Record, target: Target) -> None:
        """Send the request with its credentials and read the whole answer into ``record``.
        OAuth: the bearer header comes from the token cache; a 401 drops that token, and the
        request goes once more with a new one."""
        rendered = record.rendered
        assert rendered is not None
        headers, url = rendered.headers, rendered.url
        if target.static is not None:
            extra, params = target.static.parts()
            if extra:
                headers = (*headers, *extra.items())
            if params:
                url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        timeouts = target.stage.request.timeouts
        if target.oauth is None:
            request = WireRequest(
                rendered.method, url, headers, rendered.body, timeouts.connect, timeouts.read
            )
            record.request = request
            record.answer = await target.wire.send(request, record.phases)
            return
        for resend in (False, True):
            key, token = await target.oauth.token()
            bearer = (*headers, ("Authorization", f"Bearer {token.value}"))
            request = WireRequest(
                rendered.method, url, bearer, rendered.body, timeouts.connect, timeouts.read
            )
            record.request = request
            if resend:
                record.phases = Phases()
            record.answer = answer = await target.wire.send(request, record.phases)
            if answer.status != 401 or resend:
                return
            target.oauth.refused(key, token)

    def _cut_short(self, record: Record, limit: str) -> Verdict:
        record.answer = None
        if record.stage == "ping":
            return Verdict("late", f"no answer within {limit}; a later answer is discarded")
        if record.phases.sent is None:
            return Verdict("late", f"{limit} passed before the request was sent; nothing sent")
        return Verdict("unknown", f"no complete answer within {limit} after the lead was sent")

    def _answer(self, record: Record, stage_plan: StagePlan, breaker: CircuitBreaker) -> Outcome:
        answer = record.answer
        assert answer is not None
        headers = {k.lower(): v for k, v in answer.headers}
        status = answer.status
        interpretation = stage_plan.response.interpret(status, headers, answer.body)
        verdict = classify_answer(status, interpretation)
        self._record(breaker, breaker_verdict(verdict.kind))
        retry_after = None
        if verdict.kind in ("rate_limited", "server_error") and "retry-after" in headers:
            retry_after = parse_retry_after(headers["retry-after"], self.clock.wall())
        return record.outcome(
            verdict.kind,
            verdict.reason,
            status=status,
            values=interpretation.values,
            retry_after=retry_after,
        )

    @staticmethod
    def _record(breaker: CircuitBreaker, failed: bool | None) -> None:
        if failed is True:
            breaker.record_failure()
        elif failed is False:
            breaker.record_success()

    # -- retries ----------------------------------------------------------------------------

    def _next(
        self, plan: IntegrationPlan, outcome: Outcome, attempt: int, ctx: RenderContext
    ) -> tuple[float | None, bool, str | None]:
        """(delay, scheduled, why not) after a failed attempt: delay None means stop."""
        if not outcome.retryable:
            return None, False, None
        age = (self.clock.wall() - ctx.now).total_seconds()
        decision = decide(plan.retry, outcome.kind, attempt, age, self.rand(), outcome.retry_after)
        if not decision.retry or decision.delay is None:
            return None, False, decision.reason
        return decision.delay.seconds, decision.delay.scheduled, None

    async def deliver(
        self,
        plan: IntegrationPlan,
        stage: str,
        ctx: RenderContext,
        *,
        env: str,
        lead_id: str,
        deadline: float | None = None,
        realtime: bool = True,
    ) -> Delivery:
        """Attempts with retries per ``plan.retry``. In real-time mode a wait longer than
        ``max_wait`` or past the deadline is scheduled and the Delivery returns at once (with a
        journal, only ``scheduled_at`` says so: the router keeps the retry as a store job);
        otherwise waits are spent on the clock and attempts stop at the deadline."""
        attempts: list[Outcome] = []
        attempt = 1
        while True:
            outcome = await self.send(
                plan, stage, ctx, env=env, lead_id=lead_id, attempt=attempt, deadline=deadline
            )
            attempts.append(outcome)
            delay, long_wait, why = self._next(plan, outcome, attempt, ctx)
            if delay is None:
                return Delivery(outcome, tuple(attempts), gave_up=why)
            due = self.clock.now() + delay
            past_deadline = deadline is not None and due >= deadline
            if realtime and (long_wait or past_deadline):
                if self.journal is not None:
                    # The caller keeps the retry as a job in the store (it outlives this
                    # process); queueing it here too would send the same attempt twice.
                    return Delivery(outcome, tuple(attempts), scheduled_at=due)
                self.scheduler.add(
                    plan=plan,
                    stage=stage,
                    ctx=ctx,
                    env=env,
                    lead_id=lead_id,
                    attempt=attempt + 1,
                    due=due,
                    previous=tuple(attempts),
                )
                return Delivery(outcome, tuple(attempts), scheduled_at=due)
            if past_deadline:
                why = "the deadline would pass before the next attempt"
                return Delivery(outcome, tuple(attempts), gave_up=why)
            await self.clock.sleep(delay)
            attempt += 1

    async def _run_job(self, job: Job) -> Job | Delivery:
        """One scheduled attempt: the job again (retry later) or the final Delivery."""
        outcome = await self.send(
            job.plan, job.stage, job.ctx, env=job.env, lead_id=job.lead_id, attempt=job.attempt
        )
        attempts = (*job.previous, outcome)
        delay, _, why = self._next(job.plan, outcome, job.attempt, job.ctx)
        if delay is None:
            return Delivery(outcome, attempts, gave_up=why)
        return job.later(self.clock.now() + delay, attempts)

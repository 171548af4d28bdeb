"""The delivery executor: send one stage of one lead to one buyer, classify it, retry it.

:class:`Runtime` owns the shared HTTP clients, the OAuth token cache, the per-endpoint circuit
breakers, a concurrency limit per buyer and the retry :class:`~engine.runtime.scheduler.Scheduler`.
``send`` makes exactly one attempt and never raises for a buyer's or a lead's problem: it returns
an :class:`~engine.runtime.outcome.Outcome` whose ``kind`` is one of the guide's classes.
``deliver`` adds retries per the buyer's retry policy; in real-time mode a long wait is handed to
the scheduler instead of being awaited.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType

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
    RenderContext,
    StagePlan,
)
from engine.runtime.attempt import Record, TrackedAuth, log_outcome
from engine.runtime.auth import TokenCache, build_auth
from engine.runtime.breaker import BreakerRegistry, CircuitBreaker
from engine.runtime.classify import (
    Verdict,
    apply_on_timeout,
    breaker_verdict,
    classify_answer,
    classify_exception,
)
from engine.runtime.journal import AttemptJournal
from engine.runtime.masking import Scrubber
from engine.runtime.outcome import Delivery, Outcome
from engine.runtime.render import idempotency_key, render_request, render_values
from engine.runtime.retry import decide, parse_retry_after
from engine.runtime.scheduler import Job, Scheduler
from engine.runtime.target import Target
from engine.runtime.timing import CURRENT
from engine.runtime.transport import ClientPool, ClientSettings, prewarm

log = logging.getLogger("leadpost.delivery")

#: Longest time spent closing a response whose reading was cut short.
_CLOSE_GRACE = 1.0
#: Prepared targets kept before the cache starts over (plans reloaded many times).
_MAX_TARGETS = 4096


class _HideHttpxRequestLines(logging.Filter):
    """httpx logs each request's full URL, which may carry an API key in its query string;
    leadpost.delivery logs every attempt with secrets masked instead."""

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
        logger: logging.Logger | None = None,
        settings: ClientSettings | None = None,
        journal: AttemptJournal | None = None,
    ) -> None:
        self.journal = journal
        """Where each post's intent is committed before it leaves (see engine.runtime.journal)."""
        self.clock: Clock = clock or SystemClock()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.breakers = breakers if breakers is not None else BreakerRegistry(self.clock)
        self.rand = rand
        self.log = logger or log
        self.tokens = TokenCache(self.clock)
        """OAuth access tokens shared by every lead of the same credentials."""
        self.scheduler = Scheduler(self.clock, self._run_job)
        """Deliveries waiting for a retry; set ``scheduler.on_result`` to receive their ends."""
        self._client = client
        self._pool = ClientPool(settings) if client is None else None
        self._auths: dict[tuple[int, object, EnvironmentPlan], httpx.Auth] = {}
        self._limiters: dict[str, anyio.CapacityLimiter] = {}
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

    def _limiter(self, plan: IntegrationPlan) -> anyio.CapacityLimiter:
        limit = max(plan.concurrency, 1)
        limiter = self._limiters.get(plan.buyer)
        if limiter is None:
            limiter = self._limiters[plan.buyer] = anyio.CapacityLimiter(limit)
        elif limiter.total_tokens != limit:
            limiter.total_tokens = limit
        return limiter

    def client_for(self, environment: EnvironmentPlan) -> httpx.AsyncClient:
        """The HTTP client for an environment (the injected one, or one per network setting)."""
        if self._client is not None:
            return self._client
        assert self._pool is not None
        return self._pool.for_environment(environment)

    async def prewarm(
        self, plans: Iterable[IntegrationPlan], env: str, *, timeout: float = 1.0
    ) -> int:
        """Open a connection to each buyer's host before the first lead, as a running engine
        should for its ping buyers (a 100 ms ping has no time to connect). Returns how many
        hosts answered; failures are ignored (the first real request will report them)."""
        groups: dict[int, tuple[httpx.AsyncClient, list[str]]] = {}
        for plan in plans:
            environment = plan.environments.get(env)
            if environment is not None:
                client = self.client_for(environment)
                groups.setdefault(id(client), (client, []))[1].append(environment.url)
        answered = 0

        async def warm(client: httpx.AsyncClient, urls: list[str]) -> None:
            nonlocal answered
            answered += await prewarm(client, urls, timeout=timeout)

        async with anyio.create_task_group() as tg:
            for client, urls in groups.values():
                tg.start_soon(warm, client, urls)
        return answered

    def _auth(
        self, plan: IntegrationPlan, environment: EnvironmentPlan, client: httpx.AsyncClient
    ) -> httpx.Auth:
        key = (id(client), plan.auth, environment)
        auth = self._auths.get(key)
        if auth is None:
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
        client = self.client_for(environment)
        auth = self._auth(plan, environment, client)
        target = Target.build(plan, stage_plan, environment, client, auth)
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
        time. Returns by the deadline (or the stage's total timeout) whatever the buyer does.
        ``${env:NAME}`` values are read from ``ctx.environ``, or the runtime's when it is empty."""
        if not ctx.environ:
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
        if target.pii_fields:
            record.scrub = Scrubber.for_stage(stage_plan, ctx)
        if (name := target.missing_secret(self.environ)) is not None:
            why = f"the environment variable {name} is not set; set it to the buyer's credentials"
            return record.outcome("auth", f"{why} and restart leadpost (nothing was sent)")
        breaker = self.breakers.get(target.breaker_name, plan.breaker)
        if breaker.state == "open" and (breaker.retry_at or 0.0) > self.clock.now():
            return record.outcome("circuit_open", self._open_reason(breaker))
        try:
            if target.pii_fields:
                record.values = render_values(plan, stage, ctx)
            record.rendered = render_request(
                plan, stage, ctx, env, lead_id=record.lead_id, values=record.values
            )
        except MappingError as exc:
            return record.outcome("invalid", str(exc))
        except Exception as exc:
            self.log.exception("building the request for %s failed", plan.buyer)
            return record.outcome("invalid", f"the request could not be built: {exc}")
        if record.values is not None:
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
        rendered = record.rendered
        assert rendered is not None
        try:
            record.request = target.client.build_request(
                rendered.method,
                target.url(rendered.url),
                headers=rendered.headers,
                content=rendered.body,
                extensions=target.extensions,
            )
        except (httpx.InvalidURL, ValueError) as exc:
            return record.outcome("invalid", f"the request cannot be sent as built: {exc}")
        verdict: Verdict | None = None
        token_failed = allowed = False
        limiter = self._limiter(record.plan)
        with anyio.move_on_after(budget) as scope:
            try:  # an uncontended limiter is taken without a trip through the event loop
                limiter.acquire_nowait()
            except anyio.WouldBlock:
                await limiter.acquire()
            try:
                if not breaker.allow():
                    return record.outcome("circuit_open", self._open_reason(breaker))
                allowed = True
                if self.journal is not None and record.stage != "ping":
                    key = idempotency_key(record.lead_id, record.plan.buyer, record.stage)
                    await self.journal.sending(
                        record.lead_id, record.plan.buyer, record.stage, record.attempt, key
                    )
                try:
                    await self._roundtrip(record, target)
                except AuthFailure as exc:
                    verdict, token_failed = Verdict("auth", exc.reason), True
                except (httpx.HTTPError, OSError) as exc:
                    verdict = classify_exception(exc)
                    if record.sent_at is None and verdict.kind == "unknown":
                        verdict = Verdict("transport", f"{verdict.reason}; nothing was sent")
            finally:
                limiter.release()
        if scope.cancelled_caught:
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
        """Send the request and read the whole answer; ``record.sent_at`` is set once the
        request is handed to the connection (after any OAuth token fetch)."""
        request = record.request
        assert request is not None
        token = CURRENT.set(record.phases)
        try:
            await Runtime._send_and_read(record, target, request)
        finally:
            CURRENT.reset(token)

    @staticmethod
    async def _send_and_read(record: Record, target: Target, request: httpx.Request) -> None:
        if target.tracked:
            auth = TrackedAuth(target.auth)
            try:
                response = await target.client.send(request, auth=auth, stream=True)
            finally:
                record.sent_at = auth.sent_at
        else:
            if target.static is not None:
                target.static.apply(request)
            record.sent_at = time.perf_counter()
            response = await target.client.send(request, auth=target.auth, stream=True)
        record.response = response
        record.head_at = time.perf_counter()
        try:
            record.body = await response.aread()
            record.done_at = time.perf_counter()
        finally:
            if not response.is_closed:  # reading was cut short; a complete read closes it
                with anyio.CancelScope(shield=True), anyio.move_on_after(_CLOSE_GRACE):
                    await response.aclose()

    def _cut_short(self, record: Record, limit: str) -> Verdict:
        record.response = None
        if record.stage == "ping":
            return Verdict("late", f"no answer within {limit}; a later answer is discarded")
        if record.sent_at is None:
            return Verdict("late", f"{limit} passed before the request was sent; nothing sent")
        return Verdict("unknown", f"no complete answer within {limit} after the lead was sent")

    def _answer(self, record: Record, stage_plan: StagePlan, breaker: CircuitBreaker) -> Outcome:
        response = record.response
        assert response is not None
        headers = {k.lower(): v for k, v in response.headers.items()}
        status = response.status_code
        interpretation = stage_plan.response.interpret(status, headers, record.body)
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

"""The Starlette application of ``leadpost serve``: intake, lead lookup, health, metrics.

:class:`Service` owns what lives as long as the process: the runtime (OAuth tokens, breakers,
limiters, warm connections shared by every lead), the router, the worker that runs due retries
and recovers leads of dead nodes, admission control and metrics. Its ``lifespan`` starts them
with the server and, on shutdown, lets leads being sold in the background finish (bounded by
their deadlines) before stopping.

A lead is answered only once its disposition is committed (``?wait=false``: once the lead itself
is committed), so a lead that got a 2xx is never lost: if the process dies after that, the
worker of another node (or of this one, restarted) finishes it from the journal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.auction.result import RouteResult
from engine.auction.run import Router, new_lead_id
from engine.auction.worker import Worker
from engine.campaigns.plan import without
from engine.clock import Clock, SystemClock
from engine.errors import Issue
from engine.runtime.breaker import BreakerEvent, BreakerRegistry
from engine.runtime.executor import Runtime
from engine.runtime.tuning import tune_gc
from engine.service import upkeep
from engine.service.admission import Admission
from engine.service.alerts import AlertBook, Fired, Rules
from engine.service.auth import Sources
from engine.service.catalog import Catalog, Entry
from engine.service.dashboard import PAGE, snapshot
from engine.service.health import HealthChecks
from engine.service.intake import (
    ANSWER,
    MAX_BODY,
    Refusal,
    answer,
    check_content_type,
    read_lead,
    too_large,
)
from engine.service.metrics import CONTENT_TYPE, Metrics
from engine.service.operator import Operator
from engine.store.audit import lead_history
from engine.store.journal import DurableStore

log = logging.getLogger("leadpost.service")

OPENAPI = Path(__file__).with_name("openapi.yaml")


def refusal_response(refusal: Refusal) -> JSONResponse:
    return JSONResponse(refusal.body(), refusal.status, headers=dict(refusal.headers))


def late_by(result: RouteResult, entry: Entry) -> float:
    """Seconds the sale's ping phase ended after the ping deadline (its bids known: a busy
    event loop shows here), or the sale after the total deadline when it pinged nobody; <= 0
    when on time."""
    if result.pinged is not None:
        return result.pinged / 1000.0 - entry.plan.ping_deadline
    return result.elapsed / 1000.0 - entry.plan.total_deadline


class Service:
    """One process's service; ``app()`` is its Starlette application."""

    def __init__(
        self,
        store: DurableStore,
        catalog: Catalog,
        *,
        env: str = "test",
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        admission: Admission | None = None,
        max_body: int = MAX_BODY,
        loader: Callable[[], Catalog] | None = None,
        rules: Rules | None = None,
        rules_path: str | Path | None = None,
        alert_interval: float = 5.0,
        webhook: str | None = None,
        close_store: bool = False,
        watch: Sequence[str | Path] = (),
        debounce_ms: int = 1600,
        health: HealthChecks | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.env = env
        self.environ: Mapping[str, str] = {} if environ is None else environ
        self.clock: Clock = clock or SystemClock()
        self.admission = admission or Admission(self.clock)
        self.max_body = max_body
        self.loader = loader
        """Loads the catalog again (SIGHUP); None: the catalog is fixed."""
        self.rules = rules
        self.rules_path = rules_path
        """Where the rules are read again on reload (None: they are fixed)."""
        self.alert_interval = alert_interval
        self.webhook = webhook
        self.close_store = close_store
        """True: the store is closed when the application stops (a worker process's own)."""
        self.watch = tuple(Path(p) for p in watch)
        """Folders whose YAML files, when changed, reload the campaigns and rules."""
        self.debounce_ms = debounce_ms
        self.health = health
        """Scheduled health checks of the buyers' test environments, or None."""
        self.alerts = AlertBook()
        self.sources = Sources(store, self.clock)
        self.metrics = Metrics()
        self.breakers = BreakerRegistry(self.clock, self._breaker_event)
        self.paused: frozenset[str] = frozenset()
        """Buyers an operator paused (read from the store every few seconds)."""
        self.operator = Operator(self)
        self.runtime: Runtime | None = None
        self.router: Router | None = None
        self.worker: Worker | None = None
        self._tg: TaskGroup | None = None
        self.background = 0
        """Leads taken with ?wait=false (or queued under overload) and still being sold."""
        self.overflow = 0
        """Leads queued under overload (``when_overloaded: queue``) not yet sold."""
        self._calm = anyio.CapacityLimiter(8)
        """How many queued leads are sold at once when the load drops."""
        self.metrics.watch(
            lambda: dict(self.breakers.states()),
            self.queue_depth,
            lambda: self.admission.in_flight,
            lambda: self.admission.lag,
            self._tokens,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def _tokens(self) -> tuple[int, int]:
        tokens = self.runtime.tokens if self.runtime is not None else None
        return (tokens.fetched, tokens.failed) if tokens is not None else (0, 0)

    def _breaker_event(self, event: BreakerEvent) -> None:
        self.metrics.breaker(event)
        log.warning("breaker %s: %s -> %s (%s)", event.name, event.old, event.new, event.reason)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        runtime = Runtime(
            journal=self.store, environ=self.environ, clock=self.clock, breakers=self.breakers
        )
        async with runtime, anyio.create_task_group() as tg:
            self._tg = tg
            self.runtime = runtime
            self.router = Router(runtime, self.store, self.clock, env=self.env)
            self.worker = Worker(self.router, self.catalog.plans())
            tg.start_soon(self.worker.run)
            tg.start_soon(self.admission.monitor)
            upkeep.start(self, tg)
            await runtime.prewarm(self._bidders(), self.env)
            tune_gc()  # plans compiled, connections open: no collector pauses inside auctions
            try:
                yield
            finally:
                await self._drain()
                tg.cancel_scope.cancel()
                self._tg = None
        if self.close_store:
            self.store.close()

    def reload(self) -> bool:
        """Load the campaigns and alert rules again (see :func:`engine.service.upkeep.reload`)."""
        return upkeep.reload(self)

    async def check_alerts(self) -> list[Fired]:
        """Judge the alert rules now (see :func:`engine.service.upkeep.check_alerts`)."""
        return await upkeep.check_alerts(self)

    def _bidders(self) -> list[Any]:
        plans = []
        for e in self.catalog.campaigns.values():
            if e.plan.mode == "auction":
                plans += [b.integration for b in e.plan.buyers if b.integration.is_ping_post]
        return plans

    async def _drain(self) -> None:
        """Wait for the leads sold in the background (at most their longest deadline)."""
        longest = max((e.plan.total_deadline for e in self.catalog.campaigns.values()),
                      default=0.0)  # fmt: skip
        with anyio.move_on_after(longest + 1.0):
            while self.background:
                await anyio.sleep(0.01)

    def queue_depth(self) -> int:
        rows = self.store.backend.read("SELECT COUNT(*) FROM jobs")
        return int(rows[0][0]) if rows else 0

    # -- selling -----------------------------------------------------------------------------

    async def sell(self, entry: Entry, lead: Mapping[str, Any], lead_id: str) -> RouteResult:
        """Route one stored lead and count how it ended."""
        assert self.router is not None, "the service is not started"
        started = self.clock.now()
        self.admission.in_flight += 1
        try:
            # Shielded: a client that hangs up, or a shutdown, never leaves a sale half done
            # (the route is bounded by the campaign's deadlines anyway).
            with anyio.CancelScope(shield=True):
                result = await self.router.route(
                    without(entry.plan, self.paused), lead, lead_id=lead_id, resume=frozenset()
                )
        except Exception:
            log.exception("lead %s: selling it failed; parked for an operator", lead_id)
            await self._park(entry, lead_id)
            raise
        finally:
            self.admission.in_flight -= 1
        self.admission.finished(late_by(result, entry))
        self.metrics.ended(result, self.clock.now() - started)
        log.info(
            "lead %s (%s): %s%s in %.0f ms", lead_id, entry.plan.campaign, result.disposition,
            f" to {result.buyer}" if result.sold else "", result.elapsed,
        )  # fmt: skip
        return result

    async def _park(self, entry: Entry, lead_id: str) -> None:
        """A lead whose sale failed inside leadpost: ended ``unknown`` (a buyer may have it),
        so nobody sells it twice and an operator can offer it again (leadpost redeliver)."""
        why = "leadpost failed while selling it: parked for an operator (leadpost redeliver)"
        result: dict[str, Any] = {
            "lead_id": lead_id, "campaign": entry.plan.campaign, "disposition": "unknown",
            "reason": why, "buyer": None, "price": None, "reasons": {}, "trace": [],
        }  # fmt: skip
        with contextlib.suppress(Exception):
            await self.store.finish(lead_id, result)

    async def _sell_when_calm(self, entry: Entry, lead: Mapping[str, Any], lead_id: str) -> None:
        """A lead queued under overload (``when_overloaded: queue``): once new sales would meet
        their deadlines again, sold by waterfall — its bidders one at a time, no auction."""
        try:
            async with self._calm:
                while self.admission.refuse(entry.tightest) is not None:
                    await self.clock.sleep(self.admission.interval)
                waterfall = dataclasses.replace(
                    entry.plan, mode="waterfall", buyers=(*entry.plan.buyers, *entry.plan.fallback),
                    fallback=(),
                )  # fmt: skip
                await self.sell(dataclasses.replace(entry, plan=waterfall), lead, lead_id)
        except Exception:
            log.exception("lead %s: selling it after the overload failed", lead_id)
        finally:
            self.overflow -= 1
            self.background -= 1

    async def _sell_later(self, entry: Entry, lead: Mapping[str, Any], lead_id: str) -> None:
        try:
            await self.sell(entry, lead, lead_id)
        except Exception:
            log.exception("lead %s: selling it in the background failed", lead_id)
        finally:
            self.background -= 1

    # -- handlers ----------------------------------------------------------------------------

    async def post_lead(self, request: Request) -> Response:
        try:
            return await self._post_lead(request)
        except Refusal as refusal:
            self.metrics.refused.labels(str(refusal.status)).inc()
            return refusal_response(refusal)

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise too_large(self.max_body)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise too_large(self.max_body)
            chunks.append(chunk)
        return b"".join(chunks)

    def _entry(self, request: Request) -> Entry:
        name = request.query_params.get("campaign", "")
        if not name:
            why = "name the campaign: POST /v1/leads?campaign=NAME"
            raise Refusal(422, why, (Issue("LP552", why),))
        entry = self.catalog.campaigns.get(name)
        if entry is None:
            known = ", ".join(sorted(self.catalog.campaigns))
            why = f"there is no campaign {name!r} here; the campaigns are: {known}"
            raise Refusal(404, why, (Issue("LP552", why),))
        return entry

    async def _post_lead(self, request: Request) -> Response:
        # Who is asking, before anything is told about the campaigns.
        source = await self.sources.identify(request.headers)
        entry = self._entry(request)
        self.sources.allowed(source, entry.plan.campaign)
        if self._tg is None:
            raise Refusal(503, "the service is starting or stopping", (), (("Retry-After", "1"),))
        # Before the body is read and checked: under overload a refusal must cost little.
        refused = self.admission.refuse(entry.tightest)
        queue = refused is not None and entry.plan.when_overloaded == "queue"
        if refused is not None and not queue:
            why, wait_s = refused
            self.admission.refused += 1
            raise Refusal(503, why, (Issue("LP555", why),), (("Retry-After", str(wait_s)),))
        check_content_type(request.headers.get("content-type"))
        body = await self._body(request)
        lead, _ = read_lead(body, entry.schema)
        lead_id = new_lead_id()
        campaign = entry.plan.campaign
        self.metrics.received.labels(source.name, campaign).inc()
        wait = request.query_params.get("wait", "true").lower() not in ("false", "0", "no")
        if queue or not wait:
            await self.store.open_lead(lead_id, campaign, lead, wait=True, source=source.name)
            self.background += 1
            if queue:
                self.overflow += 1
                self._tg.start_soon(self._sell_when_calm, entry, lead, lead_id)
            else:
                self._tg.start_soon(self._sell_later, entry, lead, lead_id)
            body_out = {"lead_id": lead_id, "campaign": campaign, "disposition": "queued",
                        "status": None, "href": f"/v1/leads/{lead_id}"}  # fmt: skip
            return JSONResponse(body_out, 202, headers={"Location": f"/v1/leads/{lead_id}"})
        # Queued, not awaited: the first post's intent (or the disposition) commits it.
        await self.store.open_lead(lead_id, campaign, lead, wait=False, source=source.name)
        try:
            result = await self.sell(entry, lead, lead_id)
        except Exception:
            why = "leadpost failed while selling the lead; it is parked for an operator"
            body_err = {"error": why, "status": 500, "problems": [], "lead_id": lead_id}
            return JSONResponse(body_err, 500)
        return JSONResponse(answer(result.to_dict()), 200)

    async def get_lead(self, request: Request) -> Response:
        lead_id = request.path_params["lead_id"]
        try:
            key_holder = await self.sources.identify(request.headers)
        except Refusal as refusal:
            return refusal_response(refusal)
        history, result = await anyio.to_thread.run_sync(self._history, lead_id)
        if history is None or history.get("source") != key_holder.name:
            why = f"there is no lead {lead_id} from source {key_holder.name}"
            return JSONResponse({"error": why, "status": 404, "problems": []}, 404)
        status = history["disposition"]
        return JSONResponse(
            {
                "lead_id": lead_id,
                "campaign": history["campaign"],
                "source": history["source"],
                "disposition": ANSWER.get(status, "queued"),
                "status": status,
                "buyer": history["buyer"],
                "price": history["price"],
                "reason": history["reason"],
                "received_at": history["received_at"],
                "finished_at": history["finished_at"],
                "trace": list(result.get("trace") or []),
                "attempts": history["attempts"],
            }
        )

    def _history(self, lead_id: str) -> tuple[dict[str, Any] | None, Mapping[str, Any]]:
        """The lead's masked history and its committed result (read in a thread)."""
        history = lead_history(self.store, lead_id)
        result = self.store.get_result(lead_id) if history is not None else None
        return history, result or {}

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        problems = []
        try:
            await anyio.to_thread.run_sync(self.store.backend.read, "SELECT 1")
        except Exception as exc:
            problems.append(f"the store is not reachable: {exc}")
        if not self.catalog.campaigns:
            problems.append("no campaign is loaded")
        if self._tg is None:
            problems.append("the service is starting or stopping")
        pings = [e.tightest for e in self.catalog.campaigns.values()]
        refused = self.admission.refuse(min(pings, default=1.0))
        if refused is not None:
            problems.append(f"{refused[0]}: new leads are refused")
        status = 200 if not problems else 503
        body = {"status": "ready" if not problems else "not ready", "problems": problems,
                "campaigns": sorted(self.catalog.campaigns)}  # fmt: skip
        return JSONResponse(body, status)

    async def metrics_page(self, request: Request) -> Response:
        data = await anyio.to_thread.run_sync(self.metrics.render)
        return Response(data, media_type=CONTENT_TYPE)

    def alerts_now(self) -> list[dict[str, Any]]:
        """The alerts firing now."""
        return self.alerts.current()

    async def dashboard(self, request: Request) -> Response:
        return Response(PAGE.read_bytes(), media_type="text/html; charset=utf-8")

    async def dashboard_data(self, request: Request) -> Response:
        data = await anyio.to_thread.run_sync(
            lambda: snapshot(
                self.store, self.clock.epoch(), breakers=dict(self.breakers.states()),
                alerts=self.alerts_now(), in_flight=self.admission.in_flight,
                paused=self.paused, health=self.health.current() if self.health else [],
            )
        )  # fmt: skip
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def openapi(self, request: Request) -> Response:
        return Response(OPENAPI.read_bytes(), media_type="application/yaml")

    def app(self) -> Starlette:
        routes = [
            Route("/v1/leads", self.post_lead, methods=["POST"]),
            Route("/v1/leads/{lead_id}", self.get_lead, methods=["GET"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
            Route("/metrics", self.metrics_page, methods=["GET"]),
            Route("/openapi.yaml", self.openapi, methods=["GET"]),
            Route("/", self.dashboard, methods=["GET"]),
            Route("/dashboard.json", self.dashboard_data, methods=["GET"]),
            Route("/v1/buyers/{buyer}/pause", self.operator.pause, methods=["POST"]),
            Route("/v1/buyers/{buyer}/resume", self.operator.resume, methods=["POST"]),
            Route("/v1/leads/{lead_id}/redeliver", self.operator.redeliver, methods=["POST"]),
            Route("/v1/operator/actions", self.operator.actions, methods=["GET"]),
        ]
        return Starlette(routes=routes, lifespan=self.lifespan)

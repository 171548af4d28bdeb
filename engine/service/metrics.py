"""The service's Prometheus metrics (prometheus-client), one registry per service.

Counted as leads end, from the route result the store committed: leads received by source and
campaign, dispositions, every ping and post by buyer, stage and outcome class, retries (attempts
after the first, by outcome), timeouts, response-time histograms per buyer and stage, leads the
fallback waterfall recovered, revenue; read when scraped: breaker states, the retry queue's
depth, leads in flight, the event loop's lag, OAuth token fetches and failures. Success and
acceptance rates are ratios of these counters (see prometheus-rules.yaml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engine.auction.result import RouteResult
from engine.runtime.breaker import BreakerEvent

#: Buckets (seconds) fit for 100 ms pings and multi-second posts alike.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BREAKER_VALUE = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Live(Collector):
    """Gauges read at scrape time from the running service."""

    def __init__(
        self,
        breakers: Callable[[], dict[str, str]],
        queue_depth: Callable[[], int],
        in_flight: Callable[[], int],
        lag: Callable[[], float],
        tokens: Callable[[], tuple[int, int]],
    ) -> None:
        self.breakers = breakers
        self.queue_depth = queue_depth
        self.in_flight = in_flight
        self.lag = lag
        self.tokens = tokens

    def collect(self) -> Iterable[Metric]:
        state = GaugeMetricFamily(
            "leadpost_breaker_state",
            "Circuit breaker per buyer endpoint: 0 closed, 1 half open, 2 open",
            labels=["endpoint"],
        )
        for name, value in sorted(self.breakers().items()):
            state.add_metric([name], BREAKER_VALUE.get(value, 0.0))
        yield state
        yield GaugeMetricFamily(
            "leadpost_queue_depth", "Posts waiting in the retry queue", value=self.queue_depth()
        )
        yield GaugeMetricFamily(
            "leadpost_leads_in_flight", "Leads being sold now", value=self.in_flight()
        )
        yield GaugeMetricFamily(
            "leadpost_loop_lag_seconds", "How late the event loop runs", value=self.lag()
        )
        fetched, failed = self.tokens()
        yield CounterMetricFamily(
            "leadpost_token_fetches", "OAuth access tokens fetched (first and refreshes)",
            value=fetched,
        )  # fmt: skip
        yield CounterMetricFamily(
            "leadpost_token_failures", "OAuth token fetches that failed", value=failed
        )


class Metrics:
    """Every counter and histogram of one service."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "leadpost_leads_received", "Leads taken by the intake", ["source", "campaign"],
            registry=r,
        )  # fmt: skip
        self.refused = Counter(
            "leadpost_leads_refused", "Requests refused by the intake, by HTTP status",
            ["status"], registry=r,
        )  # fmt: skip
        self.dispositions = Counter(
            "leadpost_leads", "Leads ended, by campaign and disposition",
            ["campaign", "disposition"], registry=r,
        )  # fmt: skip
        self.attempts = Counter(
            "leadpost_buyer_attempts", "Pings and posts per buyer, by outcome class",
            ["buyer", "stage", "outcome"], registry=r,
        )  # fmt: skip
        self.response = Histogram(
            "leadpost_buyer_response_seconds", "Buyer response time per stage",
            ["buyer", "stage"], buckets=BUCKETS, registry=r,
        )  # fmt: skip
        self.intake = Histogram(
            "leadpost_intake_seconds", "From intake to disposition", ["campaign"],
            buckets=BUCKETS, registry=r,
        )  # fmt: skip
        self.revenue = Counter(
            "leadpost_revenue", "Money from leads sold (currency units)", ["campaign", "buyer"],
            registry=r,
        )  # fmt: skip
        self.retries = Counter(
            "leadpost_retries", "Attempts after the first, per buyer and stage, by outcome",
            ["buyer", "stage", "outcome"], registry=r,
        )  # fmt: skip
        self.timeouts = Counter(
            "leadpost_timeouts", "Pings answered late and posts whose answer never came",
            ["buyer", "stage"], registry=r,
        )  # fmt: skip
        self.recoveries = Counter(
            "leadpost_waterfall_recoveries", "Leads sold by the fallback waterfall",
            ["campaign"], registry=r,
        )  # fmt: skip
        self.breaker_events = Counter(
            "leadpost_breaker_transitions", "Circuit breaker state changes",
            ["endpoint", "state"], registry=r,
        )  # fmt: skip

    def watch(
        self,
        breakers: Callable[[], dict[str, str]],
        queue_depth: Callable[[], int],
        in_flight: Callable[[], int],
        lag: Callable[[], float],
        tokens: Callable[[], tuple[int, int]],
    ) -> None:
        self.registry.register(_Live(breakers, queue_depth, in_flight, lag, tokens))

    def ended(self, result: RouteResult, seconds: float) -> None:
        """Count one lead that ended (its trace's pings and posts too)."""
        self.dispositions.labels(result.campaign, result.disposition).inc()
        self.intake.labels(result.campaign).observe(seconds)
        for e in result.trace:
            if e.buyer is None or e.step not in ("ping", "post", "fallback", "check"):
                continue
            stage = "post" if e.step == "fallback" else e.step
            self.attempts.labels(e.buyer, stage, e.outcome).inc()
            if e.latency is not None:
                self.response.labels(e.buyer, stage).observe(e.latency / 1000.0)
            if (e.reason or "").startswith("attempt "):
                self.retries.labels(e.buyer, stage, e.outcome).inc()
            if e.outcome in ("late", "unknown"):
                self.timeouts.labels(e.buyer, stage).inc()
        if result.sold and result.buyer is not None:
            amount = float(result.price or Decimal(0))
            self.revenue.labels(result.campaign, result.buyer).inc(amount)
            sold_by = [
                e for e in result.trace if e.buyer == result.buyer and e.outcome == "accepted"
            ]
            if sold_by and sold_by[-1].step == "fallback":
                self.recoveries.labels(result.campaign).inc()

    def breaker(self, event: BreakerEvent) -> None:
        self.breaker_events.labels(event.name, event.new).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

"""Scheduled health checks: each buyer's test environment probed on a schedule (the guide's
"daily automated health checks") with the go-live checklist of ``leadpost preflight``.

Every ``every`` seconds (the first round ``first`` seconds after the start) each buyer of the
loaded campaigns that has the environment is checked: reachable, credentials, its embedded test
leads sent and judged, forced failures. The latest result per buyer is kept, logged (a failure
as a warning with every failed item), shown on the dashboard and judged by the alert rules
(measure ``health_check_failed``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.clock import Clock
from engine.lead import LeadSchema
from engine.plan import IntegrationPlan
from engine.preflight.report import Report
from engine.preflight.run import Inputs, run_checklist
from engine.service.catalog import Catalog

log = logging.getLogger("leadpost.health")

Check = Callable[..., Awaitable[Report]]


@dataclass(frozen=True, slots=True)
class Health:
    """The latest check of one buyer's environment."""

    buyer: str
    env: str
    at: float
    ok: bool
    failed: tuple[str, ...]
    """``item: detail`` of every failed checklist item."""

    def to_dict(self) -> dict[str, Any]:
        return {"buyer": self.buyer, "env": self.env, "at": self.at, "ok": self.ok,
                "failed": list(self.failed)}  # fmt: skip


def buyers_of(catalog: Catalog, env: str) -> list[tuple[IntegrationPlan, LeadSchema | None]]:
    """Each buyer (once) of the catalog's campaigns that has environment ``env``."""
    found: dict[str, tuple[IntegrationPlan, LeadSchema | None]] = {}
    for entry in catalog.campaigns.values():
        for b in (*entry.plan.buyers, *entry.plan.fallback):
            if env in b.integration.environments:
                found.setdefault(b.buyer, (b.integration, entry.schema))
    return [found[name] for name in sorted(found)]


class HealthChecks:
    """Runs the checklist for every buyer on a schedule; keeps the latest result of each."""

    def __init__(
        self, every: float, *, env: str = "test", first: float = 60.0, check: Check = run_checklist
    ) -> None:
        self.every = every
        self.env = env
        self.first = first
        self.check = check
        self.results: dict[str, Health] = {}

    async def run_once(
        self, catalog: Catalog, environ: Mapping[str, str], clock: Clock
    ) -> list[Health]:
        done = []
        for plan, schema in buyers_of(catalog, self.env):
            try:
                report = await self.check(
                    plan, self.env, environ=environ, clock=clock, inputs=Inputs(schema=schema)
                )
                failed = tuple(f"{i.name}: {i.detail}" for i in report.items if i.status == "fail")
            except Exception as exc:  # a check that breaks is a failed check, not a dead loop
                log.exception("health check of %s failed to run", plan.buyer)
                failed = (f"the check could not run: {exc}",)
            health = Health(plan.buyer, self.env, clock.epoch(), not failed, failed)
            self.results[plan.buyer] = health
            if failed:
                log.warning("health check of %s (%s) failed: %s", plan.buyer, self.env,
                            "; ".join(failed))  # fmt: skip
            else:
                log.info("health check of %s (%s) passed", plan.buyer, self.env)
            done.append(health)
        return done

    async def run(
        self, catalog: Callable[[], Catalog], environ: Mapping[str, str], clock: Clock
    ) -> None:
        """Forever: the first round after ``first`` seconds, then one every ``every``."""
        await clock.sleep(self.first)
        while True:
            await self.run_once(catalog(), environ, clock)
            await clock.sleep(self.every)

    def failed(self) -> dict[str, bool]:
        """Buyer -> whether its latest check failed (for the alert rules)."""
        return {b: not h.ok for b, h in self.results.items()}

    def current(self) -> list[dict[str, Any]]:
        return [h.to_dict() for _, h in sorted(self.results.items())]

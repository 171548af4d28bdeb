"""Run the whole checklist for one compiled buyer in one environment and gather the report."""

from __future__ import annotations

import importlib.metadata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from engine.authoring.cases import run_plan_tests
from engine.authoring.rules import BuyerFile
from engine.clock import Clock, SystemClock
from engine.lead import LeadSchema
from engine.plan import IntegrationPlan, RenderContext
from engine.preflight import checks
from engine.preflight.checks import Item
from engine.preflight.report import Report
from engine.preflight.sending import (
    Sent,
    case_context,
    fetch_token,
    not_offered,
    reach,
    send_case,
    send_forced,
)
from engine.runtime.executor import Runtime
from engine.runtime.outcome import Timings


def leadpost_version() -> str:
    try:
        return importlib.metadata.version("leadpost")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _lead_ids() -> Callable[[], str]:
    run = uuid.uuid4().hex[:8]
    count = 0

    def next_id() -> str:
        nonlocal count
        count += 1
        return f"preflight-{run}-{count}"

    return next_id


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the checklist reads besides the plan: all optional context."""

    schema: LeadSchema | None = None
    buyer_file: BuyerFile | None = None
    """The validated file, for the lint rules on the environment's addresses."""
    deadlines: Sequence[tuple[str, float]] = ()
    """(campaign, ping deadline in seconds) of each auction that pings this buyer."""
    saved_as: str | None = None


def _not_sent(why: str, plan: IntegrationPlan) -> list[Item]:
    items = [
        Item(f"test lead '{c.name}'", "skip", f"not sent: {why}") for c in plan.tests if c.lead
    ]
    return items or [Item("test leads", "skip", f"not sent: {why}")]


def _base_context(
    plan: IntegrationPlan, schema: LeadSchema | None, environ: Mapping[str, str]
) -> RenderContext | None:
    """The first test lead that can be sent (for the forced failures)."""
    for case in plan.tests:
        if case.lead is not None and case.expect_reject is None and case.expect_excluded is None:
            ctx = case_context(case, schema, environ)
            if not isinstance(ctx, str):
                return ctx
    return None


async def _forced(
    runtime: Runtime, plan: IntegrationPlan, env: str, ids: Callable[[], str], base: RenderContext
) -> tuple[list[Sent], list[Sent]]:
    """(failures, timeouts) sent as the environment's force_failure entries declare them."""
    failures: list[Sent] = []
    timeouts: list[Sent] = []
    for forced in plan.environments[env].force_failure:
        sent = await send_forced(runtime, plan, env, forced, base, ids())
        (timeouts if forced.expect == "timeout" else failures).append(sent)
    return failures, timeouts


def _observed(sent: Sequence[Sent]) -> dict[str, list[Timings]]:
    """Timings of the answers the test leads got (attempts that never reached the buyer and
    forced failures are left out)."""
    out: dict[str, list[Timings]] = {}
    for s in sent:
        for o in s.outcomes:
            if o.status is not None:
                out.setdefault(o.stage, []).append(o.timings)
    return out


async def run_checklist(
    plan: IntegrationPlan,
    env: str,
    *,
    environ: Mapping[str, str],
    clock: Clock | None = None,
    inputs: Inputs | None = None,
) -> Report:
    """Every checklist item for ``plan`` in environment ``env`` (which must exist)."""
    clock = clock or SystemClock()
    inputs = inputs or Inputs()
    ids = _lead_ids()
    items = [checks.environment_item(plan, env, inputs.buyer_file)]
    cases: list[Sent] = []
    failures: list[Sent] = []
    timeouts: list[Sent] = []
    token = None
    connect = None
    base: RenderContext | None = None
    async with Runtime(environ=environ, clock=clock) as runtime:
        reached = await reach(runtime, plan, env, clock)
        items.append(reached.item)
        connect = reached.connect
        missing = checks.missing_secrets(plan, environ)
        if reached.reachable and not missing:
            token = await fetch_token(runtime, plan, env)
        why = (
            "the endpoint is not reachable"
            if not reached.reachable
            else "credentials are missing"
            if missing or (token is not None and not token.ok)
            else None
        )
        if why is None:
            for case in plan.tests:
                if case.lead is not None:
                    cases.append(await send_case(runtime, plan, env, case, inputs.schema, ids()))
            base = _base_context(plan, inputs.schema, runtime.environ)
            if base is not None:
                failures, timeouts = await _forced(runtime, plan, env, ids, base)
    forced_why = why or (None if base is not None else "the file has no test lead to send")
    tried = [(s.name, o) for s in cases for o in s.outcomes]
    items.append(checks.credentials_item(plan, environ, token, tried))
    items.append(_mapping_item(plan, inputs.schema))
    items += [s.item for s in cases] if why is None else _not_sent(why, plan)
    items += _forced_items(plan, env, forced_why, failures, timeouts, connect, cases, inputs)
    return Report(
        buyer=plan.buyer,
        name=plan.name,
        file=plan.file,
        env=env,
        url=plan.environments[env].url,
        date=clock.wall(),
        version=leadpost_version(),
        items=tuple(items),
    )


def _mapping_item(plan: IntegrationPlan, schema: LeadSchema | None) -> Item:
    """Guide item 4: the field mapping gives the expected output (the offline test cases)."""
    results = run_plan_tests(plan, schema)
    if not results:
        return Item("field mapping", "skip", "the file has no test cases (add some under tests:)")
    failed = [r for r in results if not r.passed]
    if failed:
        names = ", ".join(f"'{r.name}' ({r.where})" for r in failed)
        return Item(
            "field mapping",
            "fail",
            f"{len(failed)} of {len(results)} test cases fail "
            f"offline: {names}; run leadpost test for the differences",
        )
    return Item("field mapping", "pass", f"all {len(results)} test cases pass offline")


def _forced_items(
    plan: IntegrationPlan,
    env: str,
    why: str | None,
    failures: list[Sent],
    timeouts: list[Sent],
    connect: float | None,
    cases: list[Sent],
    inputs: Inputs,
) -> list[Item]:
    offered = plan.environments[env].force_failure
    items: list[Item] = []
    hint = "add force_failure to the environment if the buyer's test API can fail on request"
    if not any(f.expect != "timeout" for f in offered):
        items.append(not_offered("failure", hint))
    elif why is not None:
        items.append(Item("forced failure", "skip", f"not sent: {why}"))
    items += [s.item for s in failures]
    items.append(checks.timeouts_item(plan, _observed(cases), connect, inputs.deadlines))
    if not any(f.expect == "timeout" for f in offered):
        items.append(not_offered("timeout", "add a force_failure with expect: timeout if it can"))
    elif why is not None:
        items.append(Item("forced timeout", "skip", f"not sent: {why}"))
    items += [s.item for s in timeouts]
    posted = [s for s in cases if s.last and s.last.ok and s.last.stage == "post"]
    ids = [(s.lead_id, s.last.buyer_lead_id or "") for s in posted if s.last]
    items += [
        checks.retry_item(plan),
        checks.breaker_item(plan),
        checks.idempotency_item(plan),
        checks.limits_item(plan),
        checks.volume_item(plan),
        checks.documented_item(inputs.saved_as),
        checks.confirmation_item(ids),
    ]
    return items

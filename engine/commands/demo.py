"""``leadpost demo`` (``scripts/demo``): the whole pipeline on simulated buyers, in under a minute.

Starts the sandbox's simulated buyers on 127.0.0.1 (in a thread), lints and tests every file in
``integrations/``, sells a few hundred generated leads through the example campaigns over real
HTTP into a temporary SQLite store, prints what each buyer did, and stops what it started.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.auction import DISPOSITIONS, Router, RouteResult, TraceEntry
from engine.auction.worker import Worker
from engine.authoring.cases import run_tests
from engine.authoring.lint import lint_paths, summary
from engine.campaigns.compile import load_campaign
from engine.campaigns.plan import CampaignPlan
from engine.clock import SystemClock
from engine.commands.route import bidders
from engine.lead import validate_lead
from engine.loading import schema_for
from engine.runtime.executor import Runtime
from engine.runtime.tuning import tune_gc
from engine.sandbox import SandboxThread, load_config, sandbox_environ, start_in_thread
from engine.sandbox.leads import make_leads
from engine.sandbox.targets import point_campaign
from engine.store import SqliteStore

TABLE_WIDTH = 124
#: Share of the leads each campaign gets.
WEIGHTS = {"open-auction": 5, "home-auction": 3, "auto-waterfall": 2, "harbor-direct": 1}
ERRORS = frozenset(
    {"transport", "unknown", "client_error", "auth", "rate_limited", "server_error"}
    | {"bad_response", "invalid", "circuit_open"}
)


def load_campaigns(root: Path) -> dict[str, CampaignPlan]:
    """Every campaign in integrations/campaigns, by file name."""
    return {
        p.stem: load_campaign(p) for p in sorted((root / "integrations/campaigns").glob("*.yaml"))
    }


def check_files(console: Console, root: Path) -> bool:
    """Lint and test every integration file; True when nothing failed."""
    reports = lint_paths([root / "integrations"])
    console.print(f"  lint: {summary(reports)}")
    tests = run_tests([root / "integrations/buyers"])
    console.print(f"  test: {tests.passed} passed, {tests.failed} failed")
    failed = any(r.failed() for r in reports) or not tests.ok
    if failed:
        console.print("  fix these with: leadpost lint integrations; leadpost test integrations")
    return not failed


async def sell(
    campaigns: dict[str, CampaignPlan],
    leads: list[tuple[str, dict[str, Any]]],
    router: Router,
    runtime: Runtime,
    progress: Progress,
    concurrency: int,
) -> list[RouteResult]:
    """Route every lead, ``concurrency`` at a time; then let due retries finish (briefly)."""
    task = progress.add_task("selling leads", total=len(leads))
    results: list[RouteResult] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(campaign: str, lead: dict[str, Any]) -> None:
        async with limiter:
            results.append(await router.route(campaigns[campaign], lead))
        progress.advance(task)

    async with anyio.create_task_group() as tg:
        for campaign, lead in leads:
            tg.start_soon(one, campaign, lead)
    worker = Worker(router, {c.campaign: c for c in campaigns.values()}, idle=0.2)
    with anyio.move_on_after(8):  # retries waiting in the store, run as `leadpost worker` would
        while router.store.next_due() is not None:
            if not await worker.run_once():
                await anyio.sleep(0.2)
    return results


def _pct(values: list[float], q: int) -> str:
    """The q-th percentile of ``values`` in whole milliseconds, or "-" when there are none."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.0f}"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1]:.0f}"


@dataclass(slots=True)
class BuyerRow:
    """What one buyer did during the demo."""

    excluded: int = 0
    pinged: int = 0
    bids: int = 0
    late: int = 0
    won: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    revenue: Decimal = Decimal(0)

    def add(self, e: TraceEntry) -> None:
        if e.step == "eligibility":
            self.excluded += e.outcome == "excluded"
            return
        if e.latency is not None and e.outcome != "late":
            self.latencies.append(e.latency)
        if e.step == "ping":
            self.pinged += 1
            self.bids += e.outcome == "accepted"
        else:
            self.won += not (e.reason or "").startswith("attempt ")
            self.accepted += e.outcome == "accepted"
            self.rejected += e.outcome in ("rejected", "duplicate")
        self.late += e.outcome == "late"
        self.errors += e.outcome in ERRORS


COLUMNS = ("excluded", "pinged", "bids", "late", "won", "accepted", "rejected", "errors")


def buyer_rows(results: list[RouteResult]) -> dict[str, BuyerRow]:
    """Per buyer, from the traces: leads it was excluded from, pings, bids, late pings, leads
    won (first posts), posts accepted and rejected, errors, latency of every send, revenue."""
    rows: dict[str, BuyerRow] = {}
    for r in results:
        for e in r.trace:
            if e.buyer is not None and e.step != "check":
                rows.setdefault(e.buyer, BuyerRow()).add(e)
        if r.sold and r.buyer is not None and r.price is not None:
            rows.setdefault(r.buyer, BuyerRow()).revenue += r.price
    return dict(sorted(rows.items()))


def buyer_table(results: list[RouteResult]) -> Table:
    table = Table(title="what each buyer did", header_style="bold")
    table.add_column("buyer")
    for name in (*COLUMNS, "p50 ms", "p95 ms", "revenue"):
        table.add_column(name, justify="right")
    for buyer, row in buyer_rows(results).items():
        cells = [str(getattr(row, name)) for name in COLUMNS]
        p50, p95 = _pct(row.latencies, 50), _pct(row.latencies, 95)
        table.add_row(buyer, *cells, p50, p95, f"${row.revenue:,.2f}")
    return table


def outcome_lines(results: list[RouteResult], store: SqliteStore, seconds: float) -> list[str]:
    """How the leads ended, the revenue, how long selling took, and how retried posts ended."""
    counts = {d: sum(1 for r in results if r.disposition == d) for d in DISPOSITIONS}
    revenue = sum((r.price for r in results if r.sold and r.price is not None), Decimal(0))
    times = [r.elapsed for r in results]
    ends = ", ".join(f"{n} {d}" for d, n in counts.items())
    lines = [
        f"{len(results)} leads in {seconds:.1f} s: {ends}",
        f"revenue ${revenue:,.2f}; time to sell one lead: p50 {_pct(times, 50)} ms,"
        f" p95 {_pct(times, 95)} ms",
    ]
    later = [store.get_result(r.lead_id) for r in results if r.disposition == "scheduled"]
    settled = [str(x["disposition"]) for x in later if x and x.get("disposition") != "scheduled"]
    if later:
        how = ", ".join(f"{settled.count(d)} {d}" for d in sorted(set(settled))) or "none yet"
        lines.append(f"posts that waited for a retry: {len(later)}; since then: {how}")
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="leadpost demo", description=__doc__)
    _arguments(parser)
    return parser.parse_args(argv)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--leads", type=int, default=300, help="how many leads (default 300)")
    parser.add_argument("--seed", type=int, default=2024, help="seed for the generated leads")
    parser.add_argument(
        "--concurrency", type=int, default=20, help="leads sold at once (default 20)"
    )
    parser.add_argument(
        "--root", default=".", help="the folder holding integrations/ (default: here)"
    )


def _console() -> Console:
    """Standard output, at least wide enough for the buyer table."""
    console = Console()
    if console.width < TABLE_WIDTH:
        console.width = TABLE_WIDTH
    return console


def run_demo(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the demo; 0 when every step worked, 1 when a file failed lint or its tests."""
    args = parse_args(argv)
    return demo(Path(args.root), args.leads, args.seed, args.concurrency, console or _console())


def prepare(
    root: Path, sandbox: SandboxThread, port: int, count: int, seed: int
) -> tuple[dict[str, CampaignPlan], list[tuple[str, dict[str, Any]]]]:
    """The campaigns pointed at the running sandbox, and each generated lead (validated against
    the lead schema) with the campaign it goes to."""
    origin = f"http://127.0.0.1:{port}"
    loaded = load_campaigns(root)
    campaigns = {k: point_campaign(c, origin, sandbox.url, "test") for k, c in loaded.items()}
    rng = random.Random(seed)
    names = list(campaigns)  # the example campaigns get their shares; any other campaign one
    weights = [WEIGHTS.get(name, 1) for name in names]
    schema = schema_for(root / "integrations" / "campaigns")
    leads = []
    for raw in make_leads(count, seed, datetime.now(UTC)):
        lead = validate_lead(schema, raw) if schema is not None else raw
        leads.append((rng.choices(names, weights)[0], lead))
    return campaigns, leads


def demo(root: Path, count: int, seed: int, concurrency: int, console: Console) -> int:
    """Run the demo in folder ``root`` (see :func:`run_demo`)."""
    console.rule("leadpost demo")
    # Every failure the simulated buyers stage would be logged (a reset is an aiohttp error).
    quiet = [logging.getLogger(name) for name in ("leadpost", "aiohttp.server")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    sandbox: SandboxThread | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="leadpost-demo-") as tmp:
            sandbox_file = root / "integrations" / "sandbox.yaml"
            if not sandbox_file.is_file():
                console.print(
                    f"there is no {sandbox_file} here: run the demo in a leadpost project "
                    "(leadpost init makes one), or give its folder with --root"
                )
                return 2
            config = load_config(sandbox_file)
            sandbox = start_in_thread(config, port=0)
            console.print(f"1. simulated buyers: {len(config.buyers)} on {sandbox.url}")
            console.print("2. checking every integration file")
            if not check_files(console, root):
                return 1
            work = Path(tmp)
            campaigns, leads = prepare(root, sandbox, config.port, count, seed)
            console.print(f"3. selling {count} leads through {', '.join(campaigns)}")
            tune_gc()  # as a long-running engine would: no collector pauses inside auctions
            store = SqliteStore(work / "demo.sqlite3")
            try:
                started = time.perf_counter()
                environ = sandbox_environ(config)
                results = anyio.run(
                    _sell_all, campaigns, leads, store, environ, concurrency, console
                )
                seconds = time.perf_counter() - started
                console.print(buyer_table(results))
                for line in outcome_lines(results, store, seconds):
                    console.print(line, highlight=False)
            finally:
                store.close()
    finally:
        if sandbox is not None:
            sandbox.stop()
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
    console.print(
        "4. stopped the simulated buyers; removed the temporary SQLite store (its leads were"
        " sealed with a key that existed only in this process)"
    )
    return 0


async def _sell_all(
    campaigns: dict[str, CampaignPlan],
    leads: list[tuple[str, dict[str, Any]]],
    store: SqliteStore,
    environ: dict[str, str],
    concurrency: int,
    console: Console,
) -> list[RouteResult]:
    progress = Progress(
        TextColumn("   {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    async with Runtime(environ=environ, journal=store) as runtime:
        await runtime.prewarm([p for c in campaigns.values() for p in bidders(c)], "test")
        router = Router(runtime, store, SystemClock(), env="test")
        with progress:
            return await sell(campaigns, leads, router, runtime, progress, concurrency)


def configure(parser: argparse.ArgumentParser) -> None:
    """``demo [--leads N] [--seed N] [--concurrency N] [--root DIR]``."""
    parser.description = __doc__
    _arguments(parser)


def run(args: argparse.Namespace) -> int:
    return demo(Path(args.root), args.leads, args.seed, args.concurrency, _console())


if __name__ == "__main__":
    sys.exit(run_demo())

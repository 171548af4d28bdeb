"""``leadpost demo`` (``scripts/demo``): the whole pipeline on simulated buyers, in under a minute.

Starts the sandbox's simulated buyers on 127.0.0.1 (in a thread), lints and tests every file in
``integrations/``, starts ``leadpost serve`` (in a thread, on a temporary SQLite store), plays a
lead source posting a few hundred generated leads over HTTP to the example campaigns, prints
what each buyer did and the dashboard's address, and stops what it started.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.auction import DISPOSITIONS, RouteResult, TraceEntry
from engine.authoring.cases import run_tests
from engine.authoring.lint import lint_paths, summary
from engine.campaigns.compile import load_campaign
from engine.campaigns.plan import CampaignPlan
from engine.lead import validate_lead
from engine.loading import schema_for
from engine.runtime.tuning import tune_gc
from engine.sandbox import SandboxThread, load_config, sandbox_environ, start_in_thread
from engine.sandbox.leads import make_leads
from engine.sandbox.targets import point_campaign
from engine.service.app import Service
from engine.service.catalog import Catalog, Entry
from engine.service.runner import ServiceThread
from engine.store import SqliteStore
from engine.store.sources import add_source

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
    parser.add_argument(
        "--stay", action="store_true",
        help="keep the service and its dashboard up after the leads, until Ctrl-C",
    )  # fmt: skip


def _console() -> Console:
    """Standard output, at least wide enough for the buyer table."""
    console = Console()
    if console.width < TABLE_WIDTH:
        console.width = TABLE_WIDTH
    return console


def run_demo(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the demo; 0 when every step worked, 1 when a file failed lint or its tests."""
    args = parse_args(argv)
    return demo(
        Path(args.root), args.leads, args.seed, args.concurrency, console or _console(), args.stay
    )


def prepare(
    root: Path, sandbox: SandboxThread, port: int, count: int, seed: int, *, raw: bool = False
) -> tuple[dict[str, CampaignPlan], list[tuple[str, dict[str, Any]]]]:
    """The campaigns pointed at the running sandbox, and each generated lead (validated against
    the lead schema; ``raw``: as a lead source sends it) with the campaign it goes to."""
    origin = f"http://127.0.0.1:{port}"
    loaded = load_campaigns(root)
    campaigns = {k: point_campaign(c, origin, sandbox.url, "test") for k, c in loaded.items()}
    rng = random.Random(seed)
    names = list(campaigns)  # the example campaigns get their shares; any other campaign one
    weights = [WEIGHTS.get(name, 1) for name in names]
    schema = schema_for(root / "integrations" / "campaigns")
    leads = []
    for doc in make_leads(count, seed, datetime.now(UTC)):
        lead = validate_lead(schema, doc) if schema is not None and not raw else doc
        leads.append((rng.choices(names, weights)[0], lead))
    return campaigns, leads


def demo(
    root: Path, count: int, seed: int, concurrency: int, console: Console, stay: bool = False
) -> int:
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
            campaigns, leads = prepare(root, sandbox, config.port, count, seed, raw=True)
            tune_gc()  # as a long-running engine would: no collector pauses inside auctions
            store = SqliteStore(work / "demo.sqlite3")
            try:
                environ = sandbox_environ(config)
                service = demo_service(root, campaigns, store, environ)
                with ServiceThread(service.app()) as running:
                    console.print(
                        f"3. leadpost serve on {running.url} (the embedded SQLite store);"
                        f" dashboard {running.url}/"
                    )
                    console.print(
                        f"4. a simulated lead source posts {count} leads over HTTP to"
                        f" {', '.join(campaigns)}"
                    )
                    started = time.perf_counter()
                    results = anyio.run(
                        post_all, running.url, campaigns, leads, store, concurrency, console
                    )
                    seconds = time.perf_counter() - started
                    if stay:
                        console.print(f"   the dashboard stays at {running.url}/ until Ctrl-C")
                        with contextlib.suppress(KeyboardInterrupt):
                            while True:
                                time.sleep(1)
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
        "5. stopped the service and the simulated buyers; removed the temporary SQLite store"
        " (its leads were sealed with a key that existed only in this process)"
    )
    return 0


def demo_service(
    root: Path, campaigns: dict[str, CampaignPlan], store: SqliteStore, environ: dict[str, str]
) -> Service:
    """The service the demo runs: the example campaigns (pointed at the sandbox) with their
    lead schema, on the demo's store."""
    folder = root / "integrations" / "campaigns"
    entries = {c.campaign: Entry(c, schema_for(folder / f"{stem}.yaml"))
               for stem, c in campaigns.items()}  # fmt: skip
    return Service(store, Catalog(entries), env="test", environ=environ)


def result_of(doc: Mapping[str, Any]) -> RouteResult:
    """A committed result (the store's JSON) as a RouteResult, for the buyer table."""
    trace = tuple(
        TraceEntry(
            e["at"], e["buyer"], e["step"], e["outcome"],
            None if e.get("bid") is None else Decimal(e["bid"]), e.get("latency"), e.get("reason"),
        )
        for e in doc.get("trace") or ()
    )  # fmt: skip
    price = doc.get("price")
    return RouteResult(
        doc["lead_id"], doc.get("campaign") or "", doc["disposition"], doc.get("reason") or "",
        doc.get("buyer"), None if price is None else Decimal(str(price)),
        doc.get("buyer_lead_id"), doc.get("reasons") or {}, trace, doc.get("elapsed") or 0.0,
    )  # fmt: skip


async def post_all(
    url: str,
    campaigns: dict[str, CampaignPlan],
    leads: list[tuple[str, dict[str, Any]]],
    store: SqliteStore,
    concurrency: int,
    console: Console,
) -> list[RouteResult]:
    """Play a lead source: post every lead over HTTP, ``concurrency`` at a time (waiting as
    Retry-After says when the service is busy); then let retries waiting in the store finish
    (briefly) and read each lead's result from the store."""
    key = add_source(store, "demo-source", ["*"])
    progress = Progress(
        TextColumn("   {task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip
    ids: list[str] = []
    limiter = anyio.CapacityLimiter(concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        with progress:
            task = progress.add_task("posting leads", total=len(leads))

            async def one(stem: str, lead: dict[str, Any]) -> None:
                async with limiter:
                    params = {"campaign": campaigns[stem].campaign}
                    while True:
                        r = await client.post("/v1/leads", params=params, json=lead)
                        if r.status_code != 503:
                            break
                        await anyio.sleep(min(float(r.headers.get("retry-after", 1)), 1.0))
                if r.status_code < 300:
                    ids.append(r.json()["lead_id"])
                progress.advance(task)

            async with anyio.create_task_group() as tg:
                for stem, lead in leads:
                    tg.start_soon(one, stem, lead)
    with anyio.move_on_after(8):  # retries waiting in the store, run by the service's worker
        while store.next_due() is not None:
            await anyio.sleep(0.2)
    found = [store.get_result(i) for i in ids]
    return [result_of(doc) for doc in found if doc is not None]


def configure(parser: argparse.ArgumentParser) -> None:
    """``demo [--leads N] [--seed N] [--concurrency N] [--root DIR]``."""
    parser.description = __doc__
    _arguments(parser)


def run(args: argparse.Namespace) -> int:
    return demo(Path(args.root), args.leads, args.seed, args.concurrency, _console(), args.stay)


if __name__ == "__main__":
    sys.exit(run_demo())

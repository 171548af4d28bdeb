"""``leadpost route CAMPAIGN --lead LEAD.json``: sell one lead through a campaign and show how.

``--leads FILE.jsonl`` (or ``-``) sells many in one process with one runtime
(:mod:`engine.service.batch`): one JSON line per lead on a pipe, a progress bar on a terminal.

The loading half (campaign file, lead file) lives here, outside the run side; the selling is
:class:`engine.auction.Router`. The report is a table of every step — checks, each buyer's
eligibility, ping, bid and post with its latency and outcome — and the final disposition.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import anyio
from rich.console import Console
from rich.table import Table

from engine.auction import Router, RouteResult
from engine.authoring.jsonout import dumps, envelope, problem
from engine.campaigns.compile import load_campaign
from engine.campaigns.plan import CampaignPlan, describe_checks
from engine.clock import SystemClock
from engine.commands.options import add_sandbox_option
from engine.commands.post import read_lead_file
from engine.commands.storage import the_store
from engine.errors import AuthoringError, Issue, LeadError, LeadpostError
from engine.loading import schema_for
from engine.plan import IntegrationPlan
from engine.runtime.executor import Runtime
from engine.runtime.tuning import tune_gc
from engine.sandbox.targets import point_campaign, sandbox_targets
from engine.service.batch import CONCURRENCY, Sold, sell_lines
from engine.store import DurableStore, MemoryStore, SqliteStore
from engine.store.settings import keyring

EXIT_SOLD, EXIT_NOT_SOLD, EXIT_USAGE = 0, 1, 2
WIDTH = 120


def missing_environment(campaign: CampaignPlan, env: str) -> list[str]:
    """Buyers of the campaign whose file has no environment ``env``."""
    plans = [b.integration for b in (*campaign.buyers, *campaign.fallback)]
    plans += [c.service for c in campaign.checks if c.service is not None]
    return [p.buyer for p in plans if env not in p.environments]


def bidders(campaign: CampaignPlan) -> list[IntegrationPlan]:
    """The buyers an auction pings: the connections worth opening before the first lead."""
    if campaign.mode != "auction":
        return []
    return [b.integration for b in campaign.buyers if b.integration.is_ping_post]


async def warm_up(runtime: Runtime, campaign: CampaignPlan, env: str) -> None:
    """Open a connection to every bidder first, as a running server has them open already, so
    that the pings are not slowed down by connecting."""
    await runtime.prewarm(bidders(campaign), env)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def format_result(result: RouteResult, campaign: CampaignPlan, env: str, width: int = WIDTH) -> str:
    """The trace as a table, what happened with each buyer, and the disposition (plain text)."""
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(
        f"campaign {campaign.campaign} ({campaign.mode}), environment {env}, "
        f"lead id {result.lead_id}"
    )
    console.print(f"checks: {describe_checks(campaign.checks)}", highlight=False)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("buyer", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("bid", justify="right", no_wrap=True)
    table.add_column("latency", justify="right", no_wrap=True)
    table.add_column("reason", overflow="fold")
    for e in result.trace:
        bid = None if e.bid is None else f"${e.bid:.2f}"
        latency = None if e.latency is None else f"{e.latency:.0f} ms"
        row = (f"{e.at:.0f}", e.buyer or "-", e.step, e.outcome, bid, latency, e.reason)
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    if result.reasons:
        console.print("\nbuyers:")
        name_width = max(len(b) for b in result.reasons)
        for buyer, why in result.reasons.items():
            console.print(f"  {buyer:<{name_width}}  {why}", highlight=False)
    head = result.disposition.upper()
    extra = f" (buyer's lead id {result.buyer_lead_id})" if result.buyer_lead_id else ""
    console.print(f"\n{head}: {result.reason}{extra}, in {result.elapsed:.0f} ms", highlight=False)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def route_json(result: RouteResult | None, env: str, problems: list[Issue]) -> dict[str, Any]:
    """``leadpost route --format json``: the result as stored (prices as text, times in ms),
    or the problems that kept the lead from being routed (``result`` null)."""
    ok = result is not None and result.sold
    return envelope(
        "route",
        ok,
        environment=env,
        result=None if result is None else result.to_dict(),
        problems=[problem(i) for i in problems],
    )


async def route_command(
    campaign_path: str | Path,
    lead_path: str | Path,
    env: str = "test",
    *,
    environ: Mapping[str, str] | None = None,
    store: DurableStore | None = None,
    origins: tuple[str, str] | None = None,
    as_json: bool = False,
) -> tuple[str, int]:
    """Sell the lead in ``lead_path`` through the campaign file ``campaign_path`` for real, in
    environment ``env``; secrets from ``environ`` (default: the process environment); results
    kept in ``store`` (default: in memory); ``origins`` = (written, actual) moves buyer
    addresses (a sandbox on another port). Returns the report and the exit code: 0 sold, 1 not
    sold, 2 when a buyer has no such environment. Raises AuthoringError, LeadError or
    LeadpostError for problems in the files."""
    campaign = load_campaign(campaign_path)
    if origins is not None:
        campaign = point_campaign(campaign, origins[0], origins[1], env)
    missing = missing_environment(campaign, env)
    if missing:
        names = ", ".join(missing)
        why = f"these buyers have no environment '{env}': {names}; choose another --env"
        if as_json:
            return dumps(route_json(None, env, [Issue("LP204", why)])) + "\n", 2
        return why, 2
    lead, _ = read_lead_file(lead_path, campaign_path)
    store = store if store is not None else MemoryStore()
    env_vars = os.environ if environ is None else environ
    async with Runtime(environ=env_vars, journal=store) as runtime:
        await warm_up(runtime, campaign, env)
        router = Router(runtime, store, SystemClock(), env=env)
        result = await router.route(campaign, lead)
    code = EXIT_SOLD if result.sold else EXIT_NOT_SOLD
    if as_json:
        return dumps(route_json(result, env, [])) + "\n", code
    return format_result(result, campaign, env), code


def _store(args: argparse.Namespace) -> DurableStore | None:
    """The store to keep the result in: --store FILE, --keep (the configured store), or None
    (in memory)."""
    if args.keep:
        return the_store()
    if args.store:
        keys, _ = keyring(os.environ)
        return SqliteStore(args.store, keyring=keys)
    return None


async def route_many(
    campaign_path: str | Path,
    leads: IO[str],
    env: str = "test",
    *,
    environ: Mapping[str, str] | None = None,
    store: DurableStore | None = None,
    origins: tuple[str, str] | None = None,
    concurrency: int = CONCURRENCY,
    show: Callable[[Sold], None],
    on_read: Callable[[int], None] | None = None,
) -> Counter[str]:
    """Sell every lead of ``leads`` (JSON lines) through the campaign with one runtime;
    ``show`` gets each as it ends. Returns how many ended each way (``invalid``: refused)."""
    campaign = load_campaign(campaign_path)
    if origins is not None:
        campaign = point_campaign(campaign, origins[0], origins[1], env)
    missing = missing_environment(campaign, env)
    if missing:
        names = ", ".join(missing)
        raise LeadpostError(
            f"these buyers have no environment '{env}': {names}; choose another --env"
        )
    schema = schema_for(campaign_path)
    store = store if store is not None else MemoryStore()
    counts: Counter[str] = Counter()
    env_vars = os.environ if environ is None else environ
    async with Runtime(environ=env_vars, journal=store) as runtime:
        await warm_up(runtime, campaign, env)
        tune_gc()  # a stream of leads: no collector pauses inside auctions
        router = Router(runtime, store, SystemClock(), env=env)
        async for sold in sell_lines(
            router, campaign, schema, leads, concurrency=concurrency, on_read=on_read
        ):
            counts[sold.result.disposition if sold.result else "invalid"] += 1
            show(sold)
    return counts


def _summary(counts: Counter[str]) -> str:
    total = sum(counts.values())
    parts = ", ".join(f"{n} {what}" for what, n in counts.most_common())
    return f"{total} leads: {parts}" if total else "no leads in the input"


def run_many(args: argparse.Namespace, store: DurableStore | None) -> int:
    """``--leads FILE|-``: JSON lines on a pipe; a progress bar and a summary on a terminal.
    Exit 0 when every line was a lead that could be routed (each line says how it ended), 1
    when a line was refused."""
    terminal = sys.stdout.isatty()
    with contextlib.ExitStack() as stack:
        source: IO[str] = sys.stdin
        if args.leads != "-":
            try:
                source = stack.enter_context(Path(args.leads).open(encoding="utf-8"))
            except OSError as exc:
                raise LeadpostError(f"cannot read {args.leads}: {exc.strerror or exc}") from None
        kwargs = stack.enter_context(sandbox_targets(args.sandbox))
        if not terminal:

            def show(sold: Sold) -> None:
                sys.stdout.write(json.dumps(sold.record(), ensure_ascii=False) + "\n")
                sys.stdout.flush()

            counts = anyio.run(lambda: route_many(
                args.campaign, source, args.env, store=store, show=show,
                concurrency=args.concurrency, **kwargs))  # fmt: skip
        else:
            counts = _with_progress(args, source, store, kwargs)
    if terminal:
        print(_summary(counts))
    return EXIT_NOT_SOLD if counts["invalid"] else EXIT_SOLD


def _with_progress(
    args: argparse.Namespace, source: IO[str], store: DurableStore | None, kwargs: dict[str, Any]
) -> Counter[str]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[tally]}"), transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task("selling", total=None, tally="")
        tally: Counter[str] = Counter()

        def show(sold: Sold) -> None:
            tally[sold.result.disposition if sold.result else "invalid"] += 1
            if sold.result is None:
                why = "; ".join(f"{i.code} {i.message}" for i in sold.problems)
                progress.console.print(f"line {sold.line}: not valid: {why}", highlight=False)
            text = ", ".join(f"{n} {k}" for k, n in tally.most_common())
            progress.update(task, advance=1, tally=text)

        def read(n: int) -> None:
            progress.update(task, total=n)

        return anyio.run(lambda: route_many(
            args.campaign, source, args.env, store=store, show=show, on_read=read,
            concurrency=args.concurrency, **kwargs))  # fmt: skip


def run(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.leads is not None:
        delivery_log = logging.getLogger("leadpost.delivery")
        level = delivery_log.level
        delivery_log.setLevel(logging.ERROR)
        try:
            return run_many(args, store)
        finally:
            if store is not None:
                store.close()
            delivery_log.setLevel(level)
    delivery_log = logging.getLogger("leadpost.delivery")  # the table shows every attempt
    level = delivery_log.level
    delivery_log.setLevel(logging.ERROR)
    try:
        as_json = args.format == "json"
        with sandbox_targets(args.sandbox) as kwargs:
            text, code = anyio.run(
                lambda: route_command(
                    args.campaign, args.lead, args.env, store=store, as_json=as_json, **kwargs
                )
            )
    except (AuthoringError, LeadError) as exc:
        if args.format != "json":
            raise
        text, code = dumps(route_json(None, args.env, list(exc.issues))) + "\n", EXIT_NOT_SOLD
    finally:
        if store is not None:
            store.close()
        delivery_log.setLevel(level)
    print(text, end="")
    return code


def configure(parser: argparse.ArgumentParser) -> None:
    """``route CAMPAIGN --lead LEAD.json [--env NAME] [--store FILE] [--sandbox [FILE]]``."""
    parser.description = (
        "Sends the lead through the campaign (checks, pings, bids, posts) in the "
        "chosen environment and shows what each buyer did. Exit code 0 when it was sold."
    )
    parser.add_argument("campaign", metavar="CAMPAIGN", help="the campaign file")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--lead", metavar="LEAD.json", help="a lead as JSON")
    which.add_argument(
        "--leads", metavar="FILE.jsonl", default=None,
        help="many leads, one JSON object a line ('-': standard input), sold in one process;"
        " one JSON line per lead on a pipe, a progress bar on a terminal",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, metavar="N",
        help=f"with --leads: leads sold at once (default {CONCURRENCY})",
    )  # fmt: skip
    parser.add_argument("--env", default="test", metavar="NAME", help="environment (default: test)")
    parser.add_argument(
        "--store", default=None, metavar="FILE", help="keep results in this SQLite file"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the lead and its journal in the configured store (LEADPOST_DATA or"
        " LEADPOST_DATABASE_URL), so `leadpost worker` runs its retries",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    add_sandbox_option(parser)

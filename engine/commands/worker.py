"""``leadpost worker``: run due retries and recover leads left behind by stopped processes.

Runs until stopped (Ctrl-C or SIGTERM), or with ``--once`` until nothing is due. Several
workers may run at once, on one SQLite file or one PostgreSQL database: each job and each lead
goes to one of them, and a worker that dies gives its claims back when its lease runs out.
A buyer an operator paused (in the store, so for every node) is sent none of its waiting retries
and offered no recovered lead until it is resumed.
"""

from __future__ import annotations

import argparse
import os
import sys

import anyio

from engine.auction.run import Router
from engine.auction.worker import Worker
from engine.clock import SystemClock
from engine.commands.output import EXIT_OK, out
from engine.commands.storage import load_campaigns, the_store
from engine.runtime.executor import Runtime
from engine.runtime.tuning import tune_gc


async def work(args: argparse.Namespace) -> int:
    campaigns = load_campaigns(args.campaigns)
    store = the_store()
    try:
        async with Runtime(journal=store, environ=os.environ) as runtime:
            router = Router(runtime, store, SystemClock(), env=args.env)
            worker = Worker(router, campaigns, idle=args.idle)
            if not args.once:
                tune_gc()  # a long-running process: no collector pauses inside posts
                out(f"worker {store.node} on {store.backend.where}: {', '.join(campaigns)}")
                sys.stdout.flush()
                await worker.run()
            while await worker.run_once():
                pass
            out(f"handled {worker.done} retries and recovered leads")
    finally:
        store.close()
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    return anyio.run(work, args)


def configure(parser: argparse.ArgumentParser) -> None:
    """``worker [--campaigns DIR] [--env NAME] [--once] [--idle S]``."""
    parser.description = __doc__
    parser.add_argument(
        "--campaigns", default="integrations/campaigns", metavar="DIR",
        help="the campaign files whose leads this worker handles (default: integrations/campaigns)",
    )  # fmt: skip
    parser.add_argument("--env", default="test", metavar="NAME", help="environment (default: test)")
    parser.add_argument("--once", action="store_true", help="stop when nothing is due")
    parser.add_argument(
        "--idle", type=float, default=0.5, metavar="S",
        help="seconds between looks at the store when nothing is due (default 0.5)",
    )  # fmt: skip

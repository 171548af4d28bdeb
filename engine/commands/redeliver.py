"""``leadpost redeliver LEAD_ID [--buyer B]``: offer a parked or failed lead again, for real.

For a lead parked as ``unknown`` (an operator checked that the buyer does not have it), or one
that ended unsold or expired: ``--buyer B`` posts it to that buyer only (with the same
idempotency key as before), otherwise it goes through its whole campaign again. A sold lead is
refused, with the reason.
"""

from __future__ import annotations

import argparse
import logging
import os

import anyio

from engine.auction.run import Router
from engine.auction.worker import Refused, redeliver
from engine.clock import SystemClock
from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out
from engine.commands.storage import load_campaigns, the_store
from engine.runtime.executor import Runtime


async def again(args: argparse.Namespace) -> int:
    campaigns = load_campaigns(args.campaigns)
    store = the_store()
    try:
        async with Runtime(journal=store, environ=os.environ) as runtime:
            router = Router(runtime, store, SystemClock(), env=args.env)
            try:
                result = await redeliver(router, campaigns, args.lead_id, args.buyer)
            except Refused as exc:
                out(f"not redelivered: {exc}")
                return EXIT_PROBLEMS
    finally:
        store.close()
    out(f"{result.disposition.upper()}: {result.reason}")
    return EXIT_OK if result.sold else EXIT_PROBLEMS


def run(args: argparse.Namespace) -> int:
    delivery_log = logging.getLogger("leadpost.delivery")  # the outcome is printed instead
    level = delivery_log.level
    delivery_log.setLevel(logging.ERROR)
    try:
        return anyio.run(again, args)
    finally:
        delivery_log.setLevel(level)


def configure(parser: argparse.ArgumentParser) -> None:
    """``redeliver LEAD_ID [--buyer B] [--campaigns DIR] [--env NAME]``."""
    parser.description = __doc__
    parser.add_argument("lead_id", metavar="LEAD_ID")
    parser.add_argument("--buyer", metavar="B", help="post to this buyer only")
    parser.add_argument("--campaigns", default="integrations/campaigns", metavar="DIR")
    parser.add_argument("--env", default="test", metavar="NAME", help="environment (default: test)")

"""``leadpost return LEAD_ID --buyer B --reason …``: record that a buyer returned a lead for credit.

Refused when the buyer never bought the lead. Returns count in ``stats`` (revenue is net of
them; return rate per buyer and per source) and in ``history``.
"""

from __future__ import annotations

import argparse
import time

from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out
from engine.commands.storage import the_store
from engine.store.audit import ReturnRefused, record_return


def run(args: argparse.Namespace) -> int:
    store = the_store()
    try:
        price, new = record_return(store, args.lead_id, args.buyer, args.reason, time.time())
    except ReturnRefused as exc:
        out(str(exc))
        return EXIT_PROBLEMS
    finally:
        store.close()
    credit = f"${price}" if price is not None else "no price"
    what = "recorded" if new else "was already recorded"
    out(f"return of {args.lead_id} by {args.buyer} {what} (credit {credit})")
    return EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``return LEAD_ID --buyer B --reason TEXT``."""
    parser.description = __doc__
    parser.add_argument("lead_id", metavar="LEAD_ID")
    parser.add_argument("--buyer", required=True, metavar="B")
    parser.add_argument("--reason", required=True, metavar="TEXT", help="e.g. 'bad phone'")

"""``leadpost stats --since 24h``: per buyer, posts and their outcomes, latency, revenue, returns.

Posted, accepted, rejected (rejected or duplicate), errors (everything else), p50/p95 post
latency, leads sold and revenue, returns and the return rate; then the return rate per source.
"""

from __future__ import annotations

import argparse
import io
import time

from rich.console import Console
from rich.table import Table

from engine.commands.output import EXIT_OK, out
from engine.commands.storage import seconds, the_store
from engine.store.audit import stats


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def run(args: argparse.Namespace) -> int:
    store = the_store()
    try:
        buyers, sources = stats(store, time.time() - seconds(args.since))
    finally:
        store.close()
    console = Console(file=io.StringIO(), width=140, record=True, color_system=None)
    t = Table(title=f"buyers, last {args.since}", header_style="bold")
    heads = ("buyer", "pinged", "posted", "accepted", "rejected", "errors", "p50 ms", "p95 ms",
             "sold", "revenue", "returns", "return rate")  # fmt: skip
    for h in heads:
        t.add_column(h, justify="left" if h == "buyer" else "right")
    for name, s in buyers.items():
        t.add_row(name, str(s.pinged), str(s.posted), str(s.accepted), str(s.rejected),
                  str(s.errors), _ms(s.percentile(50)), _ms(s.percentile(95)), str(s.sold),
                  f"${s.revenue - s.returned:,.2f}", str(s.returns),
                  _rate(s.return_rate))  # fmt: skip
    console.print(t)
    if sources:
        st = Table(title="return rate by source", header_style="bold")
        for h in ("source", "sold", "returned", "return rate"):
            st.add_column(h, justify="left" if h == "source" else "right")
        for source, (sold, returned) in sources.items():
            st.add_row(source, str(sold), str(returned), _rate(returned / sold if sold else None))
        console.print(st)
    out("\n".join(line.rstrip() for line in console.export_text().splitlines()))
    out("revenue is net of returns (the price of each returned lead is credited back)")
    return EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``stats [--since 24h]``."""
    parser.description = __doc__
    parser.add_argument("--since", default="24h", metavar="DURATION", help="e.g. 1h, 24h, 7d")

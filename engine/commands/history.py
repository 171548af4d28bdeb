"""``leadpost history``: a lead's whole trail, or the attempts of a buyer over a time.

``history LEAD_ID`` shows every ping, post and retry (time to the millisecond, buyer, stage,
attempt, outcome, HTTP status, latency, reason), the buyer's hold, returns, a waiting retry and
the final disposition; ``--format json`` gives the same with the masked request and response.
``history --buyer B --since 1h [--outcome rejected]`` lists the matching attempts.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out
from engine.commands.storage import seconds, the_store
from engine.errors import LeadpostError
from engine.store.audit import AttemptEntry, attempts_since, lead_history


def when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def table(entries: list[dict[str, Any]] | list[AttemptEntry], width: int = 140) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    t = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name in ("time (UTC)", "lead", "buyer", "stage", "try", "outcome", "status", "ms"):
        t.add_column(name, no_wrap=True)
    t.add_column("reason", overflow="fold")
    for e in entries:
        d = e.to_dict() if isinstance(e, AttemptEntry) else e
        rec = d["record"]
        ms = "" if d["ms"] is None else f"{d['ms']:.0f}"
        outcome = d["outcome"] or d["state"]
        status = "" if d["status"] is None else str(d["status"])
        row = (when(d["at"]), d["lead_id"], d["buyer"], d["stage"], str(d["attempt"]), outcome,
               status, ms, rec.get("reason") or "")  # fmt: skip
        t.add_row(*row)
    console.print(t)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def show_lead(found: dict[str, Any]) -> str:
    lines = [
        f"lead {found['lead_id']}  campaign {found['campaign']}  source {found['source']}",
        f"received {when(found['received_at'])} UTC; document {found['document']}",
        table(found["attempts"]) if found["attempts"] else "no attempts recorded",
    ]
    for h in found["holds"]:
        lines.append(f"hold: {h['buyer']} {h['state']} at {h['price'] or 'no price'}")
    for r in found["returns"]:
        lines.append(f"returned by {r['buyer']} on {when(r['at'])}: {r['reason']}")
    if found["retry"]:
        r = found["retry"]
        lines.append(f"retry: attempt {r['attempt']} to {r['buyer']} due {when(r['due_at'])}")
    lines.append(f"{found['disposition'].upper()}: {found['reason'] or ''}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.lead_id is None and args.buyer is None and args.since is None:
        raise LeadpostError("name a lead id, or --buyer and/or --since (e.g. --since 1h)")
    store = the_store()
    try:
        if args.lead_id is not None:
            found = lead_history(store, args.lead_id)
            if found is None:
                out(f"no lead {args.lead_id} in {store.backend.where}")
                return EXIT_PROBLEMS
            out(json.dumps(found, indent=2) if args.format == "json" else show_lead(found))
            return EXIT_OK
        since = time.time() - seconds(args.since or "24h")
        entries = attempts_since(store, since, buyer=args.buyer, outcome=args.outcome)
        if args.format == "json":
            out(json.dumps([e.to_dict() for e in entries], indent=2))
        else:
            out(table(entries) if entries else "no attempts match")
    finally:
        store.close()
    return EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``history LEAD_ID [--format json]`` or ``history --buyer B --since 1h [--outcome K]``."""
    parser.description = __doc__
    parser.add_argument("lead_id", nargs="?", metavar="LEAD_ID")
    parser.add_argument("--buyer", metavar="B", help="only this buyer's attempts")
    parser.add_argument("--since", metavar="DURATION", help="e.g. 30m, 1h, 7d (default 24h)")
    parser.add_argument("--outcome", metavar="KIND", help="only this outcome, e.g. rejected")
    parser.add_argument("--format", choices=("text", "json"), default="text")

"""``leadpost purge --before DATE``: delete lead documents past retention, keep the record.

Deletes the sealed documents (the only copy of a lead's personal data) of finished leads
received before DATE, keeping each lead's disposition, the sales counters and the masked audit
rows; also deletes masked audit rows older than the audit retention
(``LEADPOST_AUDIT_RETENTION_DAYS``, five years by default). Request and response bodies are
stored masked only, so there are no unmasked bodies to delete.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, date, datetime

from engine.commands.output import EXIT_OK, out
from engine.commands.storage import the_store
from engine.errors import LeadpostError
from engine.store.settings import audit_retention_days
from engine.store.upkeep import purge


def run(args: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(args.before)
    except ValueError:
        raise LeadpostError(f"--before {args.before}: write the date as YYYY-MM-DD") from None
    before = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    days = audit_retention_days(os.environ)
    store = the_store()
    try:
        docs, audit = purge(store, before, time.time(), days)
    finally:
        store.close()
    out(f"deleted {docs} lead documents received before {day} (dispositions and counters kept)")
    out(f"deleted {audit} audit rows older than {days} days (LEADPOST_AUDIT_RETENTION_DAYS)")
    return EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``purge --before YYYY-MM-DD``."""
    parser.description = __doc__
    parser.add_argument("--before", required=True, metavar="DATE", help="YYYY-MM-DD (UTC)")

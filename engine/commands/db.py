"""``leadpost db upgrade|status|archive``: the store's schema version and its upkeep.

Migrations are applied on start by every command that opens the store; ``upgrade`` applies
them now (e.g. before a deployment), ``status`` says where the store is and which migrations it
has, ``archive`` moves attempts older than 90 days (``--days``) out of the hot journal.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

from engine.commands.output import EXIT_OK, out
from engine.commands.storage import the_store
from engine.store.backend import applied, pending
from engine.store.schema import LATEST, MIGRATIONS
from engine.store.upkeep import ARCHIVE_DAYS, archive


def run(args: argparse.Namespace) -> int:
    if args.action == "status":
        return status()
    store = the_store()  # opening applies the migrations
    try:
        if args.action == "upgrade":
            done = applied(store.backend)
            out(
                f"{store.backend.where}: schema version {done[-1][0]} (latest {LATEST}), up to date"
            )
        else:
            moved = archive(store, time.time(), args.days)
            out(f"moved {moved} attempts older than {args.days} days to the archive")
    finally:
        store.close()
    return EXIT_OK


def status() -> int:
    """Which migrations the store has, without applying any."""
    from engine.store.backend import PostgresBackend, SqliteBackend
    from engine.store.settings import data_folder
    from engine.store.sqlite import FILE_NAME

    url = os.environ.get("LEADPOST_DATABASE_URL")
    if url:
        schema = os.environ.get("LEADPOST_DATABASE_SCHEMA") or "public"
        backend: PostgresBackend | SqliteBackend = PostgresBackend(url, schema=schema)
    else:
        path = data_folder(os.environ) / FILE_NAME
        if not path.exists():
            out(f"{path}: no store yet (it is made on first use)")
            return EXIT_OK
        backend = SqliteBackend(path)
    try:
        for version, name, at in applied(backend):
            when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
            out(f"  {version:>3}  {name}  (applied {when})")
        waiting = pending(backend)
        names = {m.version: m.name for m in MIGRATIONS}
        for version in waiting:
            out(f"  {version:>3}  {names[version]}  (pending: `leadpost db upgrade`)")
        state = "up to date" if not waiting else f"{len(waiting)} migration(s) pending"
        out(f"{backend.where}: {state}")
    finally:
        backend.close()
    return EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``db upgrade | db status | db archive [--days N]``."""
    parser.description = __doc__
    parser.add_argument("action", choices=("upgrade", "status", "archive"))
    parser.add_argument(
        "--days", type=int, default=ARCHIVE_DAYS, metavar="N",
        help=f"archive attempts older than N days (default {ARCHIVE_DAYS})",
    )  # fmt: skip

"""``leadpost suppress FILE``: add a do-not-contact list to the store's suppression list."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="text file: one phone number or email per line, # comments")
    parser.add_argument(
        "--store",
        default=None,
        help="an SQLite store file (default: the configured store, LEADPOST_DATA or"
        " LEADPOST_DATABASE_URL)",
    )


def run(args: argparse.Namespace) -> int:
    from engine.campaigns.checks import parse_suppression
    from engine.commands.storage import the_store
    from engine.store import DurableStore, SqliteStore
    from engine.store.settings import keyring

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        out(f"cannot read {args.file}: {exc}", sys.stderr)
        return EXIT_PROBLEMS
    listed, bad = parse_suppression(args.file, text)
    for line in bad:
        out(f"{args.file}:{line.line}: not a phone number or email, skipped: {line.text}")
    if args.store:  # sealed with the configured key (as `route --store` does), findable later
        keys, notice = keyring(os.environ)
        if notice:
            out(notice, sys.stderr)
        store: DurableStore = SqliteStore(args.store, keyring=keys)
    else:
        store = the_store()
    with store:
        added = store.add_suppressed([*listed.phones, *listed.emails])
    read = f"{len(listed.phones)} phone numbers and {len(listed.emails)} emails read"
    out(f"{read}; {added} new on the suppression list in {store.backend.where}")
    return EXIT_PROBLEMS if bad else EXIT_OK

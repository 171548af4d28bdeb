"""``leadpost returns import FILE.csv``: record many returns from a buyer's return file.

The file has a header row with ``lead_id``, ``buyer`` and ``reason`` columns (others are
ignored). Every row is checked; rows naming a lead the buyer never bought are listed with their
line number and not recorded; the others are. Exit code 1 when any row was refused.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out
from engine.commands.storage import the_store
from engine.errors import LeadpostError
from engine.store.audit import ReturnRefused, record_return

NEEDED = ("lead_id", "buyer", "reason")


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise LeadpostError(f"{path} is not a file")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        heads = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in NEEDED if c not in heads]
        if missing:
            raise LeadpostError(
                f"{path}:1: the header needs the columns {', '.join(NEEDED)};"
                f" missing: {', '.join(missing)}"
            )
        rows = [({k.strip().lower(): (v or "").strip() for k, v in r.items() if k}, reader.line_num)
                for r in reader]  # fmt: skip
    store = the_store()
    added = again = 0
    refused: list[str] = []
    try:
        for row, line in rows:
            try:
                _, new = record_return(store, row["lead_id"], row["buyer"], row["reason"],
                                       time.time())  # fmt: skip
            except ReturnRefused as exc:
                refused.append(f"{path}:{line}: {exc}")
                continue
            added += new
            again += not new
    finally:
        store.close()
    for problem in refused:
        out(problem)
    out(f"{added} returns recorded, {again} already recorded, {len(refused)} refused")
    return EXIT_PROBLEMS if refused else EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``returns import FILE.csv``."""
    parser.description = __doc__
    parser.add_argument("action", choices=("import",))
    parser.add_argument("file", metavar="FILE.csv")

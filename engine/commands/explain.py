"""``leadpost explain FILE [--lead LEAD.json]``: describe a buyer or campaign file in plain
English."""

from __future__ import annotations

import argparse
import shutil
import sys

from engine.authoring import explain
from engine.commands.output import EXIT_OK, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the buyer or campaign file")
    parser.add_argument(
        "--lead",
        default=None,
        metavar="LEAD.json",
        help="trace this lead's fields (a campaign: its checks and buyers)",
    )


def run(args: argparse.Namespace) -> int:
    width = shutil.get_terminal_size((explain.WIDTH, 24)).columns if sys.stdout.isatty() else 0
    out(explain.explain_file(args.file, args.lead, width=max(width, explain.WIDTH)))
    return EXIT_OK

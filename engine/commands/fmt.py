"""``leadpost fmt PATH… [--check]``: rewrite buyer files in the canonical layout."""

from __future__ import annotations

import argparse

from engine.authoring import fmt
from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    parser.add_argument("--check", action="store_true", help="change nothing; fail if any would")


def run(args: argparse.Namespace) -> int:
    results = fmt.format_paths(args.paths, check=args.check)
    out(fmt.format_summary(results, check=args.check))
    bad = [r for r in results if r.status == "error" or (args.check and r.status == "changed")]
    return EXIT_PROBLEMS if bad else EXIT_OK

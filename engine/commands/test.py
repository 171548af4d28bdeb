"""``leadpost test PATH…``: run the test cases written in buyer files."""

from __future__ import annotations

import argparse

from engine.authoring import cases
from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")


def run(args: argparse.Namespace) -> int:
    report = cases.run_tests(args.paths)
    out(cases.format_report(report))
    return EXIT_OK if report.ok else EXIT_PROBLEMS

"""``leadpost test PATH…``: run the test cases written in buyer files."""

from __future__ import annotations

import argparse

from engine.authoring import cases, machine
from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )


def run(args: argparse.Namespace) -> int:
    report = cases.run_tests(args.paths)
    if args.format == "json":
        out(machine.dumps(machine.cases_json(report)))
    else:
        out(cases.format_report(report))
    return EXIT_OK if report.ok else EXIT_PROBLEMS

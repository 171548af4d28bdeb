"""``leadpost test PATH…``: run the test cases written in buyer files."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.authoring import cases, machine, update
from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    parser.add_argument(
        "--update",
        action="store_true",
        help="write the rendered bodies into the expect_body of cases whose body differs "
        "(after showing the differences; files with uncommitted changes are left alone)",
    )


def run(args: argparse.Namespace) -> int:
    report = cases.run_tests(args.paths)
    if args.format == "json":
        out(machine.dumps(machine.cases_json(report)))
    else:
        out(cases.format_report(report))
    if not args.update:
        return EXIT_OK if report.ok else EXIT_PROBLEMS
    done = [update.update_file(Path(f.file), f) for f in report.files if f.compiled]
    lines = [_update_line(u) for u in done if u.cases or u.refused]
    if not any(u.cases for u in done):
        if not lines:
            lines.append("--update: no expect_body differs; nothing to update")
        out("\n".join(lines))
        return EXIT_OK if report.ok else EXIT_PROBLEMS
    again = cases.run_tests(args.paths)
    lines.append(f"after the update: {again.passed} passed, {again.failed} failed")
    out("\n".join(lines))
    return EXIT_OK if again.ok else EXIT_PROBLEMS


def _update_line(u: update.Update) -> str:
    if u.refused is not None:
        return f"not updated {u.file}: {u.refused}"
    names = ", ".join(f"'{n}'" for n in u.cases)
    return f"updated {u.file}: expect_body of {names}"

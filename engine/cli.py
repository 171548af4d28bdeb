"""The ``leadpost`` command line: the only module that prints or exits.

Each subcommand calls a function that returns data or text (engine.lint, engine.casetest,
engine.explain, engine.fmt, engine.schema) and turns it into output and an exit code:
0 success, 1 a problem in the user's files or lead (or a failed test), 2 a usage mistake or an
unexpected failure of leadpost itself.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from hypothesis.configuration import set_hypothesis_home_dir

from engine import casetest, explain, fmt, lint, schema
from engine.contract.drift import add_spec_command
from engine.contract.search import DEEP_EXAMPLES, EXAMPLES
from engine.demo import add_demo_command
from engine.diff.command import add_diff_command
from engine.errors import AuthoringError, LeadError, LeadpostError, MappingError
from engine.postcmd import post_command
from engine.preflight.command import add_preflight_command
from engine.route import add_route_command
from engine.sandbox.command import add_sandbox_command

EXIT_OK, EXIT_PROBLEMS, EXIT_FAILURE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]

#: Functions adding subcommands defined elsewhere: each gets the subparsers object and sets
#: ``func`` (or ``handler``) on its parser, a function from the parsed arguments to an exit code.
EXTRA_COMMANDS: list[Callable[[Any], object]] = [add_sandbox_command]
EXTRA_COMMANDS += [add_route_command, add_demo_command]
EXTRA_COMMANDS += [add_preflight_command]
EXTRA_COMMANDS += [add_diff_command]
EXTRA_COMMANDS += [add_spec_command]


def _out(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


def _cache_home() -> Path:
    """Where generated leads keep Hypothesis's cache: the user's cache folder, so that linting
    leaves no ``.hypothesis`` folder in the project (HYPOTHESIS_STORAGE_DIRECTORY wins)."""
    where = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    if where:
        return Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "leadpost" / "hypothesis"


def cmd_lint(args: argparse.Namespace) -> int:
    examples = DEEP_EXAMPLES if args.deep else EXAMPLES
    set_hypothesis_home_dir(_cache_home())
    try:
        reports = lint.lint_paths(args.paths, lint.LintOptions(examples=examples))
    finally:
        set_hypothesis_home_dir(None)
    _out(lint.format_reports(reports, args.format))
    failed = any(r.failed(args.strict) for r in reports)
    return EXIT_PROBLEMS if failed else EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    report = casetest.run_tests(args.paths)
    _out(casetest.format_report(report))
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def cmd_render(args: argparse.Namespace) -> int:
    _out(explain.render_file(args.file, args.lead, stage=args.stage, env=args.env))
    return EXIT_OK


def cmd_post(args: argparse.Namespace) -> int:
    import anyio

    send = functools.partial(post_command, args.file, args.lead, args.env, args.stage)
    text, code = anyio.run(send)
    _out(text)
    return code


def cmd_suppress(args: argparse.Namespace) -> int:
    from engine.campaigns.checks import parse_suppression
    from engine.store import SqliteStore

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _out(f"cannot read {args.file}: {exc}", sys.stderr)
        return EXIT_PROBLEMS
    listed, bad = parse_suppression(args.file, text)
    for line in bad:
        _out(f"{args.file}:{line.line}: not a phone number or email, skipped: {line.text}")
    with SqliteStore(args.store) as store:
        added = store.add_suppressed([*listed.phones, *listed.emails])
    read = f"{len(listed.phones)} phone numbers and {len(listed.emails)} emails read"
    _out(f"{read}; {added} new on the suppression list in {args.store}")
    return EXIT_PROBLEMS if bad else EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    width = shutil.get_terminal_size((explain.WIDTH, 24)).columns if sys.stdout.isatty() else 0
    _out(explain.explain_file(args.file, args.lead, width=max(width, explain.WIDTH)))
    return EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    results = fmt.format_paths(args.paths, check=args.check)
    _out(fmt.format_summary(results, check=args.check))
    bad = [r for r in results if r.status == "error" or (args.check and r.status == "changed")]
    return EXIT_PROBLEMS if bad else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(schema.schema_text())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadpost",
        description="Write, check and run leadpost integrations: buyers, campaigns, delivery.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("lint", help="check buyer files for mistakes and risky settings")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--format", choices=("text", "github"), default="text")
    p.add_argument(
        "--deep",
        action="store_true",
        help=f"try {DEEP_EXAMPLES:,} generated leads per stage against the buyer's spec "
        f"instead of {EXAMPLES}",
    )
    p.set_defaults(handler=cmd_lint)

    p = sub.add_parser("test", help="run the test cases written in buyer files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.set_defaults(handler=cmd_test)

    p = sub.add_parser("render", help="show the exact HTTP request for a lead")
    p.add_argument("file", metavar="FILE", help="the buyer file")
    p.add_argument("--lead", required=True, metavar="LEAD.json", help="a lead as JSON")
    p.add_argument("--stage", choices=("ping", "post"), default=None)
    p.add_argument("--env", default=None, metavar="NAME", help="environment (default: test)")
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser("post", help="send a lead to the buyer for real and show what happened")
    p.add_argument("file", help="the buyer file")
    p.add_argument("--lead", required=True, help="the lead, a JSON file")
    p.add_argument("--env", default="test", help="environment to send to (default: test)")
    p.add_argument("--stage", choices=("ping", "post"), help="send only this stage")
    p.set_defaults(handler=cmd_post)

    p = sub.add_parser(
        "suppress",
        help="add a do-not-contact list (phones, emails) to the store's suppression list",
    )
    p.add_argument("file", help="text file: one phone number or email per line, # comments")
    p.add_argument(
        "--store", default="leadpost.sqlite3", help="the SQLite store (default: %(default)s)"
    )
    p.set_defaults(handler=cmd_suppress)

    p = sub.add_parser("explain", help="describe a buyer file in plain English")
    p.add_argument("file", metavar="FILE", help="the buyer file")
    p.add_argument("--lead", default=None, metavar="LEAD.json", help="trace this lead's fields")
    p.set_defaults(handler=cmd_explain)

    p = sub.add_parser("fmt", help="rewrite buyer files in the canonical layout")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    p.add_argument("--check", action="store_true", help="change nothing; fail if any would")
    p.set_defaults(handler=cmd_fmt)

    p = sub.add_parser("schema", help="print the JSON Schema of buyer files (for editors)")
    p.set_defaults(handler=cmd_schema)

    for add_command in EXTRA_COMMANDS:
        add_command(sub)
    return parser


def _lead_report(exc: LeadError) -> str:
    lines = [f"  {i.render()}" for i in exc.issues]
    return "\n".join(["the lead is not valid:", *lines])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``leadpost`` command and return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage mistake argparse already explained
        return exc.code if isinstance(exc.code, int) else EXIT_FAILURE
    handler: Handler = getattr(args, "handler", None) or args.func
    try:
        return handler(args)
    except AuthoringError as exc:
        _out(exc.report(), sys.stderr)
    except LeadError as exc:
        _out(_lead_report(exc), sys.stderr)
    except MappingError as exc:
        _out(f"this lead cannot be sent to the buyer: {exc}", sys.stderr)
    except LeadpostError as exc:
        _out(str(exc), sys.stderr)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        _out(f"leadpost {args.command} failed unexpectedly: {detail}", sys.stderr)
        _out("this is a bug in leadpost; please report it with the command you ran", sys.stderr)
        return EXIT_FAILURE
    return EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())

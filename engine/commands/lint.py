"""``leadpost lint PATH…``: check buyer and campaign files for mistakes and risky settings."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.authoring import lint, machine
from engine.commands.output import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, out


def _user_cache() -> Path:
    """The user's cache folder for leadpost (XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "leadpost"


def _cache_home() -> Path:
    """Where generated leads keep Hypothesis's cache: the user's cache folder, so that linting
    leaves no ``.hypothesis`` folder in the project (HYPOTHESIS_STORAGE_DIRECTORY wins)."""
    where = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    if where:
        return Path(where)
    return _user_cache() / "hypothesis"


def configure(parser: argparse.ArgumentParser) -> None:
    from engine.contract.model import DEEP_EXAMPLES, EXAMPLES

    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument(
        "--format",
        choices=("text", "github", "json", "sarif"),
        default="text",
        help="text (default), github (annotations), json (for scripts) or sarif (code scanning)",
    )
    parser.add_argument(
        "--deep",
        action="store_true",
        help=f"try {DEEP_EXAMPLES:,} generated leads per stage against the buyer's spec "
        f"instead of {EXAMPLES}",
    )
    parser.add_argument(
        "--no-generated",
        action="store_true",
        help="skip the generated-lead checks against buyers' specs (a fast pass; every other "
        "check still runs)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="check against the buyers' specs again even where a file's verdict is cached",
    )


def run(args: argparse.Namespace) -> int:
    from engine.contract.model import DEEP_EXAMPLES, EXAMPLES

    examples = 0 if args.no_generated else DEEP_EXAMPLES if args.deep else EXAMPLES
    options = lint.LintOptions(
        examples=examples,
        storage=_cache_home(),
        cache=None if args.no_cache else _user_cache() / "lint",
    )
    reports = lint.lint_paths(args.paths, options)
    if not reports:
        where = ", ".join(args.paths)
        out(f"leadpost lint: no files to check in {where} (it checks *.yaml files)", sys.stderr)
        return EXIT_FAILURE
    if args.format == "json":
        out(machine.dumps(machine.lint_json(reports, args.strict)))
    elif args.format == "sarif":
        out(machine.dumps(machine.lint_sarif(reports)))
    else:
        out(lint.format_reports(reports, args.format))
    failed = any(r.failed(args.strict) for r in reports)
    return EXIT_PROBLEMS if failed else EXIT_OK

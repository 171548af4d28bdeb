"""``leadpost diff BASE HEAD [PATHS…]``: the subcommand, from arguments to report and exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.diff.changes import EXIT_USAGE, DiffReport
from engine.diff.files import diff_pair
from engine.diff.output import Style, format_report
from engine.diff.sources import SourceError, open_sources

EPILOG = """\
BASE and HEAD are two files, two folders, or two git revisions of the repository around the
working folder (origin/main HEAD, HEAD~1 HEAD); PATHS limits which files of the revisions
are compared (default: integrations).

exit status:
  0  nothing behavioural changed (comments, formatting, key order, tests or descriptions only)
  1  a behavioural change, or a file that does not compile
  2  usage mistake, or BASE/HEAD cannot be read (no such file, folder or revision)
"""


def diff_command(
    base: str,
    head: str,
    paths: Sequence[str] | None = None,
    *,
    leads: Sequence[str | Path] | None = None,
    cwd: str | Path | None = None,
) -> DiffReport:
    """Compare every file of BASE and HEAD. Raises SourceError when either cannot be read."""
    lead_paths = None
    if leads:
        lead_paths = [Path(p) if cwd is None else Path(cwd) / p for p in leads]
        for p in lead_paths:
            if not p.is_file():
                raise SourceError(f"cannot read the lead file {p}")
    with open_sources(base, head, paths, cwd) as sources:
        found = [diff_pair(sources.base, sources.head, key, lead_paths) for key in sources.paths()]
        files = tuple(f for f in found if f is not None)
        return DiffReport(sources.base.label, sources.head.label, files)


def _run(args: argparse.Namespace) -> int:
    try:
        report = diff_command(args.base, args.head, args.paths or None, leads=args.lead)
    except SourceError as exc:
        print(f"leadpost diff: {exc}", file=sys.stderr)
        return EXIT_USAGE
    style: Style = args.format
    print(format_report(report, style))
    return report.exit_code


def add_diff_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``diff BASE HEAD [PATHS…] [--format text|markdown|github] [--lead LEAD.json …]``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "diff",
        help="what changed in buyer and campaign files between two versions, in plain English",
        description="Compares two versions of the integration files for review: each changed\n"
        "setting in plain English, and how the rendered requests of the sample and test leads\n"
        "change (secrets masked).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("base", metavar="BASE", help="file, folder or git revision before")
    parser.add_argument("head", metavar="HEAD", help="file, folder or git revision after")
    parser.add_argument("paths", nargs="*", metavar="PATHS", help="files or folders to compare")
    parser.add_argument("--format", choices=("text", "markdown", "github"), default="text")
    parser.add_argument(
        "--lead",
        action="append",
        metavar="LEAD.json",
        help="render this lead instead of the sample leads (repeatable)",
    )
    parser.set_defaults(handler=_run)
    return parser

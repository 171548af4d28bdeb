"""``leadpost diff BASE HEAD [PATHS…]``: the subcommand, from arguments to report and exit code."""

from __future__ import annotations

import argparse
import sys

from engine.diff.changes import EXIT_USAGE
from engine.diff.output import Style, format_report
from engine.diff.run import diff_command
from engine.diff.sources import SourceError

EPILOG = """\
BASE and HEAD are two files, two folders, or two git revisions of the repository around the
working folder (origin/main HEAD, HEAD~1 HEAD); PATHS limits which files of the revisions
are compared (default: integrations).

exit status:
  0  nothing behavioural changed (comments, formatting, key order, tests or descriptions only)
  1  a behavioural change, or a file that does not compile
  2  usage mistake, or BASE/HEAD cannot be read (no such file, folder or revision)
"""


def run(args: argparse.Namespace) -> int:
    try:
        report = diff_command(args.base, args.head, args.paths or None, leads=args.lead)
    except SourceError as exc:
        print(f"leadpost diff: {exc}", file=sys.stderr)
        return EXIT_USAGE
    style: Style = args.format
    print(format_report(report, style))
    return report.exit_code


def configure(parser: argparse.ArgumentParser) -> None:
    """``diff BASE HEAD [PATHS…] [--format text|markdown|github|json] [--lead LEAD.json …]``."""
    parser.description = (
        "Compares two versions of the integration files for review: each changed\n"
        "setting in plain English, and how the rendered requests of the sample and test leads\n"
        "change (secrets masked)."
    )
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("base", metavar="BASE", help="file, folder or git revision before")
    parser.add_argument("head", metavar="HEAD", help="file, folder or git revision after")
    parser.add_argument("paths", nargs="*", metavar="PATHS", help="files or folders to compare")
    parser.add_argument("--format", choices=("text", "markdown", "github", "json"), default="text")
    parser.add_argument(
        "--lead",
        action="append",
        metavar="LEAD.json",
        help="render this lead instead of the sample leads (repeatable)",
    )

"""``leadpost spec check FILE --spec NEW_SPEC``: does the mapping satisfy the buyer's new spec?"""

from __future__ import annotations

import argparse

from engine.contract.drift import drift_report


def run(args: argparse.Namespace) -> int:
    text_out, code = drift_report(args.file, args.spec, args.stage)
    print(text_out, end="")
    return code


def configure(parser: argparse.ArgumentParser) -> None:
    """``spec check FILE --spec NEW_SPEC [--stage post]``."""
    parser.description = "Checks a buyer file against the buyer's published spec."
    commands = parser.add_subparsers(dest="spec_command", metavar="check", required=True)
    check = commands.add_parser(
        "check",
        help="what changed in the buyer's spec, and does the mapping still satisfy it?",
        description="Compares the spec the buyer file names with NEW_SPEC (same kind) and "
        "says, for each change, whether the current fields still satisfy it. Exit code 1 "
        "when they no longer do.",
    )
    check.add_argument("file", metavar="FILE", help="the buyer file")
    check.add_argument("--spec", required=True, metavar="NEW_SPEC", help="the new spec file")
    check.add_argument("--stage", default="post", choices=("ping", "post"), help="default: post")

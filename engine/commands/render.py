"""``leadpost render FILE --lead LEAD.json``: show the exact HTTP request for a lead."""

from __future__ import annotations

import argparse

from engine.authoring import explain
from engine.commands.output import EXIT_OK, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the buyer file")
    parser.add_argument("--lead", required=True, metavar="LEAD.json", help="a lead as JSON")
    parser.add_argument("--stage", choices=("ping", "post"), default=None)
    parser.add_argument("--env", default=None, metavar="NAME", help="environment (default: test)")


def run(args: argparse.Namespace) -> int:
    out(explain.render_file(args.file, args.lead, stage=args.stage, env=args.env))
    return EXIT_OK

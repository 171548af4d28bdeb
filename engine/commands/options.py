"""Options shared by several commands."""

from __future__ import annotations

import argparse


def add_sandbox_option(parser: argparse.ArgumentParser) -> None:
    """``--sandbox [FILE]`` for commands that send (route, preflight): serve the simulated buyers
    meanwhile and use their credentials."""
    parser.add_argument(
        "--sandbox",
        nargs="?",
        const="integrations/sandbox.yaml",
        default=None,
        metavar="FILE",
        help="serve the simulated buyers of this sandbox file meanwhile (default file: "
        "integrations/sandbox.yaml) and use its credentials",
    )

"""``leadpost schema``: print the JSON Schema of buyer files (for editors)."""

from __future__ import annotations

import argparse
import sys

from engine.authoring import schema
from engine.commands.output import EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(schema.schema_text())
    return EXIT_OK

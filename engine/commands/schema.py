"""``leadpost schema``: the JSON Schemas editors use for every kind of file, and of the reports."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

from engine.authoring import schema
from engine.commands.output import EXIT_OK, out

OUTPUTS = ("lint", "test", "diff", "route")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Prints the JSON Schema of one kind of file (default: buyer files), or writes all of "
        "them for your editor with --write."
    )
    parser.add_argument(
        "kind", nargs="?", default="buyer", choices=tuple(schema.KINDS), help="the kind of file"
    )
    parser.add_argument(
        "--write",
        nargs="?",
        const=".",
        default=None,
        metavar="FOLDER",
        help="write every file kind's schema into FOLDER (default: here) for yaml-language-server",
    )
    parser.add_argument(
        "--output",
        choices=OUTPUTS,
        default=None,
        help="print the schema of a command's --format json report instead",
    )


def run(args: argparse.Namespace) -> int:
    if args.output is not None:
        name = f"{args.output}.output.schema.json"
        sys.stdout.write((resources.files("engine") / "schemas" / name).read_text("utf-8"))
        return EXIT_OK
    if args.write is None:
        sys.stdout.write(schema.schema_text(args.kind))
        return EXIT_OK
    folder = Path(args.write)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in schema.KINDS.values():
        target = folder / kind.file
        target.write_text(schema.schema_text(kind.name), encoding="utf-8")
        written.append(target)
    settings = {str(folder / k.file): k.applies_to for k in schema.KINDS.values()}
    lines = [f"wrote {p}" for p in written]
    lines += [
        "",
        "VS Code (YAML extension): add to .vscode/settings.json",
        json.dumps({"yaml.schemas": settings}, indent=2),
        "or put '# yaml-language-server: $schema=<path to the schema>' on a file's first line",
    ]
    out("\n".join(lines))
    return EXIT_OK

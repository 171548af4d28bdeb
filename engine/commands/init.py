"""``leadpost init [FOLDER]``: write a starter project that passes lint and test at once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.authoring import starter
from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Writes a starter project: a lead schema, one buyer, one campaign, sample leads, a "
        "sandbox of simulated buyers, a GitHub workflow and a pre-commit configuration. "
        "Existing files are never overwritten unless --force is given."
    )
    parser.add_argument(
        "folder", nargs="?", default=".", metavar="FOLDER", help="where (default: here)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")


def run(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    files = starter.starter_files()
    existing = starter.conflicts(folder, files)
    if existing and not args.force:
        shown = "\n".join(f"  {p}" for p in existing)
        out(f"leadpost init: these files exist already; nothing was written:\n{shown}", sys.stderr)
        out("move them away, choose another FOLDER, or add --force to overwrite them", sys.stderr)
        return EXIT_PROBLEMS
    written = starter.write_starter(folder, files)
    go = "" if folder.resolve() == Path.cwd().resolve() else f"\n  cd {folder}"
    lines = [f"wrote a leadpost project in {folder} ({len(written)} files):"]
    lines += [f"  {p.relative_to(folder)}" for p in written]
    lines += [
        "",
        f"next:{go}",
        "  leadpost lint integrations",
        "  leadpost test integrations",
        "  leadpost demo",
        "then write your first buyer: see 'Your first buyer in 15 minutes' in the reference",
    ]
    out("\n".join(lines))
    return EXIT_OK

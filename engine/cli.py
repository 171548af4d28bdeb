"""The ``leadpost`` command line: the table of :mod:`engine.commands`, parsed and run.

Only the chosen command's module is imported. Exit codes: 0 success, 1 a problem in the user's
files or lead (or a failed test), 2 a usage mistake or an unexpected failure of leadpost itself.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from engine.commands import COMMANDS, module_name
from engine.commands.output import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_PROBLEMS,
    out,
)
from engine.errors import AuthoringError, LeadError, LeadpostError, MappingError
from engine.files import set_allowed_folders
from engine.version import leadpost_version

ALLOW_FILES = "--allow-files-from"


def chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is one), or None."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in COMMANDS:
            return word
        if word == ALLOW_FILES:
            skip = True  # its value is a folder, not a command
            continue
        if not word.startswith("-"):
            return None
    return None


def build_parser(argv: Sequence[str] = ()) -> tuple[argparse.ArgumentParser, ModuleType | None]:
    """The parser of every command, with the arguments of the one named in ``argv`` (its
    module imported), and that module."""
    parser = argparse.ArgumentParser(
        prog="leadpost",
        description="Write, check and run leadpost integrations: buyers, campaigns, delivery.",
    )
    parser.add_argument("--version", action="version", version=f"leadpost {leadpost_version()}")
    parser.add_argument(
        ALLOW_FILES,
        action="append",
        default=[],
        metavar="FOLDER",
        help="let buyer and campaign files refer to files (test leads, specs) under FOLDER too;"
        " by default only their project folder and the working folder",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    name = chosen(argv)
    module = importlib.import_module(module_name(name)) if name is not None else None
    for command, help_text in COMMANDS.items():
        p = sub.add_parser(command, help=help_text)
        if command == name and module is not None:
            module.configure(p)
    return parser, module


def _lead_report(exc: LeadError) -> str:
    lines = [f"  {i.render()}" for i in exc.issues]
    return "\n".join(["the lead is not valid:", *lines])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``leadpost`` command and return its exit code. A reader that stops reading
    (``leadpost explain … | head -1``) and Ctrl-C end it quietly, with the shell's codes."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _drop_stdout() -> None:
    """Point standard output at /dev/null so that Python's final flush finds no closed pipe
    (the way the Python documentation advises for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind stdout (tests): nothing to flush
        pass


def _main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, module = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage mistake argparse already explained
        return exc.code if isinstance(exc.code, int) else EXIT_FAILURE
    assert module is not None  # argparse requires a command
    set_allowed_folders(args.allow_files_from)
    try:
        code: int = module.run(args)
        return code
    except AuthoringError as exc:
        out(exc.report(), sys.stderr)
    except LeadError as exc:
        out(_lead_report(exc), sys.stderr)
    except MappingError as exc:
        out(f"this lead cannot be sent to the buyer: {exc}", sys.stderr)
    except LeadpostError as exc:
        out(str(exc), sys.stderr)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        out(f"leadpost {args.command} failed unexpectedly: {detail}", sys.stderr)
        out("this is a bug in leadpost; please report it with the command you ran", sys.stderr)
        return EXIT_FAILURE
    return EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())

"""``leadpost post FILE --lead LEAD.json``: load a buyer file and a lead, then send it for real.

The loading half of the command (authoring side: it compiles the buyer file and validates the
lead against the nearest lead schema); the sending half is
:func:`engine.runtime.single.post_plan`, which never sees YAML. Returns text and an exit code;
the CLI prints it.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.authoring import leadfile
from engine.commands.output import out
from engine.loading import load_integration, schema_for
from engine.runtime.single import post_plan


def read_lead_file(
    lead_path: str | Path, buyer_file: str | Path
) -> tuple[dict[str, Any], datetime]:
    """The normalized lead (validated against the lead schema governing ``buyer_file``, when
    there is one) and its timestamp. Raises LeadError, or LeadpostError when unreadable."""
    return leadfile.read_lead_file(lead_path, schema_for(buyer_file))


async def post_command(
    path: str | Path,
    lead_path: str | Path,
    env: str = "test",
    stage: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    wall: datetime | None = None,
) -> tuple[str, int]:
    """Send the lead in ``lead_path`` to the buyer file ``path`` in environment ``env`` (every
    stage in order, or only ``stage``); secrets come from ``environ`` (default: the process
    environment); ``wall`` is the time now, for the lead's age. Returns the report and the exit
    code: 0 when the last stage sent was accepted, 1 otherwise, 2 for an unknown stage or
    environment. Raises AuthoringError (the
    buyer file), LeadError (the lead) or LeadpostError (an unreadable lead file)."""
    plan = load_integration(path)
    lead, now = read_lead_file(lead_path, path)
    return await post_plan(plan, lead, now, env=env, stage=stage, environ=environ, wall=wall)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the buyer file")
    parser.add_argument("--lead", required=True, help="the lead, a JSON file")
    parser.add_argument("--env", default="test", help="environment to send to (default: test)")
    parser.add_argument("--stage", choices=("ping", "post"), help="send only this stage")


def run(args: argparse.Namespace) -> int:
    import anyio

    send = functools.partial(post_command, args.file, args.lead, args.env, args.stage)
    text, code = anyio.run(send)
    out(text)
    return code

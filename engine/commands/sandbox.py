"""The ``leadpost sandbox`` command: read the sandbox file, serve until Ctrl-C, sum up."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from engine.errors import AuthoringError
from engine.sandbox.base import BuyerStats
from engine.sandbox.config import (
    SandboxConfig,
    default_config_path,
    load_config,
)
from engine.sandbox.dialects import DIALECTS
from engine.sandbox.server import Sandbox

_DESCRIPTION = """\
Serves the simulated buyers described in the sandbox file (integrations/sandbox.yaml by
default) on 127.0.0.1. Each buyer answers in the format of its example integration, checks
credentials, and is slow, refuses or fails as often as the file says. Stop it with Ctrl-C."""


def configure(parser: argparse.ArgumentParser) -> None:
    """``sandbox [FILE] [--port N] [--seed N]``."""
    parser.description = _DESCRIPTION
    parser.add_argument(
        "config",
        nargs="?",
        default=str(default_config_path()),
        metavar="FILE",
        help="the sandbox file (default: integrations/sandbox.yaml)",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port to listen on (default: the file's, 8701)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for the dice (default: the file's seed)"
    )


def run(args: argparse.Namespace) -> int:
    return run_sandbox(args.config, args.port, seed=args.seed)


def run_sandbox(
    path: str | os.PathLike[str],
    port: int | None = None,
    *,
    seed: int | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Serve the sandbox file at ``path`` until Ctrl-C or SIGTERM, then print what each buyer
    saw. 0 when stopped, 1 when the file has problems or the port cannot be used."""
    out = out or sys.stdout
    err = err or sys.stderr
    if not Path(path).exists():
        print(
            f"there is no sandbox file {os.fspath(path)} here: run this in a leadpost project "
            "(leadpost init makes one), or name the file",
            file=err,
        )
        return 1
    try:
        config = load_config(path)
    except AuthoringError as exc:
        print(exc.report(), file=err)
        print(f"the sandbox file {os.fspath(path)} has problems; fix them and run again", file=err)
        return 1
    if seed is not None:
        config = config.with_seed(seed)
    sandbox = Sandbox(config)
    chosen = config.port if port is None else port
    try:
        asyncio.run(_until_stopped(sandbox, chosen, lambda p: _banner(config, p, out)))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"cannot listen on 127.0.0.1:{chosen}: {reason}", file=err)
        print("stop whatever uses that port, or choose another with --port", file=err)
        return 1
    _summary(sandbox.stats(), out)
    return 0


async def _until_stopped(sandbox: Sandbox, port: int, ready: Callable[[int], None]) -> None:
    """Serve until Ctrl-C (SIGINT) or SIGTERM, then close every connection."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await sandbox.run("127.0.0.1", port, ready=ready, stop=stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _banner(config: SandboxConfig, port: int, out: TextIO) -> None:
    url = f"http://127.0.0.1:{port}"
    seed = f"seed {config.seed}" if config.seed is not None else "no seed: answers vary per run"
    print(f"leadpost sandbox: {len(config.buyers)} simulated buyers on {url} ({seed})", file=out)
    width = max(len(b.id) for b in config.buyers)
    for sim in config.buyers:
        routes = ", ".join(DIALECTS[sim.dialect].routes())
        print(f"  {sim.id:<{width}}  {sim.dialect:<12}  {url}/{sim.id}  {routes}", file=out)
    if config.credentials:
        print("Secrets the integrations read (sandbox values, not real ones):", file=out)
        for name, value in config.credentials.items():
            print(f"  export {name}={value}", file=out)
    print("Press Ctrl-C to stop.", file=out, flush=True)


_COLUMNS = ("requests", "pings", "bids", "posts", "accepted", "duplicates", "rejected")


def _summary(stats: dict[str, BuyerStats], out: TextIO) -> None:
    if not any(s.requests for s in stats.values()):
        print("\nsandbox stopped; no requests were received", file=out)
        return
    width = max(len(b) for b in stats)
    print("\nsandbox stopped; what each buyer saw:", file=out)
    print(
        f"  {'buyer':<{width}}  " + "  ".join(f"{c:>10}" for c in (*_COLUMNS, "failures")), file=out
    )
    for buyer_id, s in stats.items():
        failures = s.server_errors + s.rate_limited + s.timeouts + s.resets + s.malformed
        cells = [getattr(s, c) for c in _COLUMNS] + [failures]
        print(f"  {buyer_id:<{width}}  " + "  ".join(f"{c:>10}" for c in cells), file=out)

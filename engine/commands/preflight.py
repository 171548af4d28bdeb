"""``leadpost preflight FILE --env test``: the go-live checklist against a buyer's test environment.

The loading half (buyer file, lead schema, the campaigns that ping this buyer) lives here; the
checking half is :func:`engine.preflight.run.run_checklist`. The report is printed and saved as
Markdown (``preflight-<buyer>-<env>.md`` by default) to attach to the pull request.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import anyio

from engine.authoring.rules import BuyerFile
from engine.campaigns.compile import check_campaign
from engine.clock import Clock
from engine.commands.options import add_sandbox_option
from engine.dsl import models as m
from engine.dsl.issues import validate
from engine.dsl.loader import load_yaml
from engine.dsl.suggest import hint_for
from engine.errors import LeadpostError
from engine.loading import display_name, load_integration, schema_for, yaml_files
from engine.plan import IntegrationPlan
from engine.preflight.report import format_markdown, format_text
from engine.preflight.run import Inputs, run_checklist
from engine.sandbox.targets import point_plan, sandbox_targets

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: Loggers whose per-attempt warnings would repeat what the report says.
_QUIET = ("leadpost.delivery", "leadpost.auth")


def default_report_name(buyer: str, env: str) -> str:
    return f"preflight-{buyer}-{env}.md"


def campaign_deadlines(path: Path, buyer: str) -> list[tuple[str, float]]:
    """(campaign, ping deadline) of each auction in the ``campaigns`` folder beside the buyer
    file's folder that pings ``buyer``. Campaigns with problems are skipped (lint reports them)."""
    folder = path.resolve().parent.parent / "campaigns"
    if not folder.is_dir():
        return []
    found = []
    for file in yaml_files([folder]):
        try:
            campaign, _, _ = check_campaign(file, buyers_dir=path.resolve().parent)
        except (LeadpostError, OSError):
            continue
        if campaign is None or campaign.mode != "auction":
            continue
        if any(
            b.integration.buyer == buyer and b.integration.is_ping_post for b in campaign.buyers
        ):
            found.append((campaign.campaign, campaign.ping_deadline))
    return found


def _buyer_file(path: Path, plan: IntegrationPlan) -> BuyerFile | None:
    doc = load_yaml(path, display_name(path))
    spec, _ = validate(m.IntegrationSpec, doc)
    return None if spec is None else BuyerFile(spec, doc.source, plan, schema_for(path))


def unknown_environment(plan: IntegrationPlan, env: str) -> str:
    """``this buyer has no environment 'tset' (did you mean 'test'?); it has: test, production``."""
    hint = hint_for(env, plan.environments)
    maybe = f" ({hint})" if hint else ""
    return f"this buyer has no environment '{env}'{maybe}; it has: {', '.join(plan.environments)}"


async def preflight_command(
    path: str | Path,
    env: str = "test",
    *,
    out: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    origins: tuple[str, str] | None = None,
) -> tuple[str, int]:
    """Run the checklist of the buyer file ``path`` against environment ``env``; save the
    Markdown report as ``out`` (default ``preflight-<buyer>-<env>.md`` in the working folder).
    Secrets come from ``environ`` (default: the process environment); ``origins`` = (written,
    actual) moves the environment's addresses (a sandbox on another port). Returns the text
    report and the exit code: 0 every item passed, 1 one failed, 2 a usage mistake. Raises
    AuthoringError for problems in the buyer file."""
    file = Path(path)
    plan = load_integration(file)
    if env not in plan.environments:
        return unknown_environment(plan, env), EXIT_USAGE
    if origins is not None:
        plan = point_plan(plan, origins[0], origins[1], env)
    target = Path(out) if out is not None else Path(default_report_name(plan.buyer, env))
    inputs = Inputs(
        schema=schema_for(file),
        buyer_file=_buyer_file(file, plan),
        deadlines=campaign_deadlines(file, plan.buyer),
        saved_as=str(target),
    )
    environ = os.environ if environ is None else environ
    report = await run_checklist(plan, env, environ=environ, clock=clock, inputs=inputs)
    try:
        target.write_text(format_markdown(report), encoding="utf-8")
    except OSError as exc:
        why = exc.strerror or str(exc)
        return f"{format_text(report)}\ncannot save the report as {target}: {why}", EXIT_USAGE
    text = format_text(report) + f"\nreport saved as {target}\n"
    return text, EXIT_FAILED if report.failed else EXIT_OK


@contextmanager
def _quiet_logs() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in _QUIET]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def run(args: argparse.Namespace) -> int:
    with _quiet_logs(), sandbox_targets(args.sandbox) as kwargs:
        text, code = anyio.run(
            lambda: preflight_command(args.file, args.env, out=args.out, **kwargs)
        )
    print(text.rstrip("\n"))  # every message ends its line, the short ones too
    return code


def configure(parser: argparse.ArgumentParser) -> None:
    """``preflight FILE [--env NAME] [--out REPORT.md] [--sandbox [FILE]]``."""
    parser.description = (
        "Checks the environment's address, reaches the endpoint, checks the "
        "credentials, sends every embedded test lead for real, forces the failures the buyer "
        "offers, compares latencies with the timeouts and lists the retry settings. Prints a "
        "report, saves it as Markdown, and exits 0 when every item passed."
    )
    parser.add_argument("file", metavar="FILE", help="the buyer file")
    parser.add_argument("--env", default="test", metavar="NAME", help="environment (default: test)")
    parser.add_argument(
        "--out",
        default=None,
        metavar="REPORT.md",
        help="where to save the report (default: preflight-<buyer>-<env>.md here)",
    )
    add_sandbox_option(parser)

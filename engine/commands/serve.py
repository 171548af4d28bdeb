"""``leadpost serve``: take leads from sources over HTTP and sell them, with metrics and health.

Starts one Starlette application on uvicorn (uvloop where installed) with one long-lived
runtime, router and retry worker on the configured store (LEADPOST_DATA or
LEADPOST_DATABASE_URL). Sources post leads with an API key made by ``leadpost keys
add-source``. Alerts from the rules file (the guide's thresholds by default) are logged, shown on
the dashboard and POSTed to ``--alert-webhook``. SIGHUP, or a change to a file under the
integrations folder, reloads the campaign files and the rules; a file with problems is refused
(logged) and the previous version keeps serving. Stops on Ctrl-C or SIGTERM after the leads in
flight are answered.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from engine.commands.options import add_sandbox_option
from engine.commands.output import EXIT_OK, out
from engine.commands.storage import seconds, the_store
from engine.sandbox.targets import sandbox_targets
from engine.service.alerts import DEFAULT_RULES
from engine.service.factory import SETTINGS, Settings, build_service
from engine.service.intake import MAX_BODY


def settings(args: argparse.Namespace, origins: tuple[str, str] | None) -> Settings:
    return Settings(
        campaigns=args.campaigns, env=args.env, max_body=args.max_body,
        max_in_flight=args.max_in_flight, max_lag=args.max_lag, alerts=args.alerts,
        alert_webhook=args.alert_webhook, alert_interval=args.alert_interval, origins=origins,
        watch=not args.no_watch, health_env=args.health_env, admission=args.admission == "on",
        health_every=None if args.health_every == "off" else seconds(args.health_every),
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with sandbox_targets(args.sandbox) as kwargs:
        if kwargs:
            os.environ.update(kwargs["environ"])  # the simulated buyers' credentials
            out(f"simulated buyers of {args.sandbox} on {kwargs['origins'][1]}")
        return serve(args, settings(args, kwargs.get("origins")))


def serve(args: argparse.Namespace, chosen: Settings) -> int:
    import uvicorn

    store = the_store()  # made and migrated once here (and its key, outside production)
    try:
        service = build_service(chosen, store)  # the files are checked before listening
        names = ", ".join(sorted(service.catalog.campaigns))
        where = store.backend.where
        workers = f", {args.workers} worker processes" if args.workers > 1 else ""
        out(f"leadpost serve on http://{args.host}:{args.port} ({where}{workers}): {names}")
        out(f"  dashboard http://{args.host}:{args.port}/   metrics /metrics   intake /v1/leads")
        sys.stdout.flush()
        common: dict[str, Any] = {
            "host": args.host, "port": args.port, "log_level": args.log_level,
            "access_log": False, "lifespan": "on", "timeout_graceful_shutdown": 30,
        }  # fmt: skip
        if args.workers > 1:
            store.close()
            os.environ[SETTINGS] = chosen.to_env()
            uvicorn.run("engine.service.factory:create_app", factory=True,
                        workers=args.workers, **common)  # fmt: skip
            return EXIT_OK
        uvicorn.Server(uvicorn.Config(service.app(), **common)).run()
    finally:
        store.close()
    return EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``serve [--campaigns DIR] [--env NAME] [--host H] [--port N] ...``."""
    parser.description = __doc__
    parser.add_argument(
        "--campaigns", default="integrations/campaigns", metavar="DIR",
        help="the campaign files to sell leads for (default: integrations/campaigns)",
    )  # fmt: skip
    parser.add_argument("--env", default="test", metavar="NAME", help="environment (default: test)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    parser.add_argument(
        "--max-body", type=int, default=MAX_BODY, metavar="BYTES",
        help=f"largest request body taken (default {MAX_BODY})",
    )  # fmt: skip
    parser.add_argument(
        "--max-in-flight", type=int, default=200, metavar="N",
        help="leads sold at once before new ones get 503 + Retry-After (default 200)",
    )  # fmt: skip
    parser.add_argument(
        "--max-lag",
        type=float,
        default=None,
        metavar="S",
        help="event-loop lag (seconds) above which new leads get 503 (default: a quarter of"
        " the campaign's ping deadline, or of its total deadline when it pings no buyer)",
    )
    parser.add_argument(
        "--admission", choices=("on", "off"), default="on",
        help="admission control (default on); off takes every lead, however late (benchmarks)",
    )  # fmt: skip
    parser.add_argument(
        "--alerts", default=str(DEFAULT_RULES), metavar="FILE",
        help="alert rules (default: the guide's thresholds, engine/service/alerts.yaml)",
    )  # fmt: skip
    parser.add_argument(
        "--alert-webhook", default=None, metavar="URL",
        help="POST each alert that fires or resolves to this URL as JSON",
    )  # fmt: skip
    parser.add_argument(
        "--alert-interval", type=float, default=5.0, metavar="S",
        help="seconds between two looks at the alert rules (default 5)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="worker processes sharing the port and the store (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--no-watch", action="store_true",
        help="do not reload when the integration files change (SIGHUP still reloads)",
    )  # fmt: skip
    parser.add_argument(
        "--health-every", default="24h", metavar="DURATION",
        help="scheduled health checks of every buyer's --health-env: 24h (default), 1h, ..., off",
    )  # fmt: skip
    parser.add_argument(
        "--health-env", default="test", metavar="NAME",
        help="the environment the health checks probe (default: test)",
    )  # fmt: skip
    add_sandbox_option(parser)
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error"),
        help="log level (default info)",
    )  # fmt: skip

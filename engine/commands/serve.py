"""``leadpost serve``: take leads from sources over HTTP and sell them, with metrics and health.

Starts one Starlette application on uvicorn (uvloop where installed) with one long-lived
runtime, router and retry worker on the configured store (LEADPOST_DATA or
LEADPOST_DATABASE_URL). Sources post leads with an API key made by ``leadpost keys
add-source``. Alerts from the rules file (the guide's thresholds by default) are logged, shown on
the dashboard and POSTed to ``--alert-webhook``. SIGHUP reloads the campaign files and the
rules; a file with problems is refused (logged) and the previous version keeps serving. Stops on
Ctrl-C or SIGTERM after the leads in flight are answered.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from engine.clock import SystemClock
from engine.commands.output import EXIT_OK, out
from engine.commands.storage import the_store
from engine.service.admission import Admission
from engine.service.alerts import DEFAULT_RULES, load_rules
from engine.service.app import Service
from engine.service.catalog import load_catalog
from engine.service.intake import MAX_BODY


def run(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    catalog = load_catalog(args.campaigns)
    store = the_store()
    try:
        service = Service(
            store,
            catalog,
            env=args.env,
            environ=os.environ,
            admission=Admission(
                SystemClock(), max_in_flight=args.max_in_flight, max_lag=args.max_lag
            ),
            max_body=args.max_body,
            loader=lambda: load_catalog(args.campaigns),
            rules=load_rules(args.alerts),
            rules_path=args.alerts,
            alert_interval=args.alert_interval,
            webhook=args.alert_webhook,
        )
        names = ", ".join(sorted(catalog.campaigns))
        out(f"leadpost serve on http://{args.host}:{args.port} ({store.backend.where}): {names}")
        out(f"  dashboard http://{args.host}:{args.port}/   metrics /metrics   intake /v1/leads")
        sys.stdout.flush()
        config = uvicorn.Config(
            service.app(), host=args.host, port=args.port, log_level=args.log_level,
            access_log=False, lifespan="on", timeout_graceful_shutdown=30,
        )  # fmt: skip
        uvicorn.Server(config).run()
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
        " the campaign's ping deadline)",
    )
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
        "--log-level", default="info", choices=("debug", "info", "warning", "error"),
        help="log level (default info)",
    )  # fmt: skip

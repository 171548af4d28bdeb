"""Building the service from its settings, in this process or in each of ``--workers N``.

With several workers uvicorn starts N processes that share the listening socket; each calls
:func:`create_app` (settings passed in ``LEADPOST_SERVE``, JSON) and gets its own runtime,
router, worker and store connection — a node of its own in the store, which decides caps and
hands out retry jobs for all of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from starlette.applications import Starlette

from engine.clock import SystemClock
from engine.service.admission import Admission
from engine.service.alerts import DEFAULT_RULES, load_rules
from engine.service.app import Service
from engine.service.catalog import Catalog, load_catalog
from engine.service.health import HealthChecks
from engine.service.intake import MAX_BODY
from engine.store.journal import DurableStore
from engine.store.settings import open_store

#: The environment variable carrying the settings to worker processes.
SETTINGS = "LEADPOST_SERVE"


@dataclass(frozen=True, slots=True)
class Settings:
    campaigns: str = "integrations/campaigns"
    env: str = "test"
    max_body: int = MAX_BODY
    max_in_flight: int = 200
    max_lag: float | None = None
    admission: bool = True
    """False: no admission control at all (benchmarks compare with it on)."""
    alerts: str = str(DEFAULT_RULES)
    alert_webhook: str | None = None
    alert_interval: float = 5.0
    origins: tuple[str, str] | None = None
    """(written, actual) origin of simulated buyers (``--sandbox``), or None."""
    watch: bool = True
    """Reload when the integration files change (as on SIGHUP)."""
    health_every: float | None = 86400.0
    """Seconds between scheduled health checks of the buyers' ``health_env``; None: none."""
    health_env: str = "test"

    def watched(self) -> list[Path]:
        """The folders to watch: the one above the campaigns folder (buyer files, the lead
        schema and the campaigns live under it) and the alert rules' folder."""
        if not self.watch:
            return []
        campaigns = Path(self.campaigns)
        root = campaigns.parent if campaigns.is_dir() else campaigns.parent.parent
        folders = [root.resolve(), Path(self.alerts).parent.resolve()]
        return [f for i, f in enumerate(folders) if f.is_dir() and f not in folders[:i]]

    def to_env(self) -> str:
        return json.dumps(asdict(self))


def build_service(
    settings: Settings,
    store: DurableStore,
    environ: Mapping[str, str] | None = None,
    *,
    close_store: bool = False,
) -> Service:
    """The service of ``settings`` on ``store`` (loads the campaigns and the alert rules;
    raises AuthoringError or LeadpostError for files with problems)."""
    env = os.environ if environ is None else environ

    def load() -> Catalog:
        return load_catalog(settings.campaigns, settings.origins, settings.env)

    return Service(
        store,
        load(),
        env=settings.env,
        environ=env,
        admission=Admission(
            SystemClock(), max_in_flight=settings.max_in_flight, max_lag=settings.max_lag
        )
        if settings.admission
        else Admission(SystemClock(), max_in_flight=2**31, probing=False, adaptive=False),
        max_body=settings.max_body,
        loader=load,
        rules=load_rules(settings.alerts),
        rules_path=settings.alerts,
        alert_interval=settings.alert_interval,
        webhook=settings.alert_webhook,
        close_store=close_store,
        watch=settings.watched(),
        health=None
        if settings.health_every is None
        else HealthChecks(settings.health_every, env=settings.health_env),
    )


def create_app() -> Starlette:
    """uvicorn's factory in each worker process: settings from ``LEADPOST_SERVE``, the store
    from the environment (closed when the worker stops)."""
    given = json.loads(os.environ.get(SETTINGS) or "{}")
    if given.get("origins"):
        given["origins"] = tuple(given["origins"])
    settings = Settings(**given)
    store, _ = open_store(os.environ)
    try:
        return build_service(settings, store, close_store=True).app()
    except BaseException:
        store.close()
        raise

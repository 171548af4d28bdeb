"""What a running service does besides answering: reloading its files (SIGHUP, or a change on
disk), judging the alert rules (log, webhook), keeping the paused buyers in step with the store,
and the scheduled health checks. Each loop runs in the service's task group (:func:`start`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx
import watchfiles
from anyio.abc import TaskGroup

from engine.errors import AuthoringError, LeadpostError
from engine.service.alerts import Fired, judge, load_rules, measure
from engine.store.sources import paused_buyers

if TYPE_CHECKING:
    from engine.service.app import Service

log = logging.getLogger("leadpost.service")

#: Seconds between two reads of the paused buyers.
PAUSED_EVERY = 2.0


def start(service: Service, tg: TaskGroup) -> None:
    """Start every loop the service's settings ask for."""
    tg.start_soon(watch_alerts, service)
    tg.start_soon(watch_paused, service)
    if service.watch:
        tg.start_soon(watch_files, service)
    if service.health is not None:
        tg.start_soon(service.health.run, lambda: service.catalog, service.environ, service.clock)
    on_hangup(service)


def on_hangup(service: Service) -> None:
    """Reload on SIGHUP (only the main thread may own signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, functools.partial(reload, service)
        )


def reload(service: Service) -> bool:
    """Load the campaigns and the alert rules again; a file with problems is refused (its
    problems logged) and the previous version keeps serving. Leads in flight keep the plan
    they started with. True when everything was reloaded."""
    ok = True
    if service.loader is not None:
        try:
            catalog = service.loader()
        except (AuthoringError, LeadpostError) as exc:
            log.error("campaigns not reloaded, the previous ones keep serving:\n%s", exc)
            ok = False
        else:
            service.catalog = catalog
            if service.worker is not None:
                service.worker.campaigns = catalog.plans()
            log.info("campaigns reloaded: %s", ", ".join(sorted(catalog.campaigns)))
    if service.rules_path is not None:
        try:
            service.rules = load_rules(service.rules_path)
        except (AuthoringError, LeadpostError) as exc:
            log.error("alert rules not reloaded, the previous ones keep running:\n%s", exc)
            ok = False
        else:
            log.info("alert rules reloaded from %s", service.rules_path)
    return ok


async def watch_files(service: Service) -> None:
    """Reload when a file under the watched folders changes (watchfiles: inotify where
    there is one, polling elsewhere); a reload with problems keeps the previous version."""

    def wanted(change: watchfiles.Change, path: str) -> bool:
        return path.endswith((".yaml", ".yml", ".json", ".txt", ".xsd"))

    async for changes in watchfiles.awatch(
        *service.watch, watch_filter=wanted, debounce=service.debounce_ms
    ):
        names = ", ".join(sorted({Path(p).name for _, p in changes}))
        log.info("files changed (%s): reloading", names)
        await anyio.to_thread.run_sync(functools.partial(reload, service))


async def watch_paused(service: Service) -> None:
    """Keep the list of paused buyers in step with the store (other nodes pause too)."""
    while True:
        service.paused = await anyio.to_thread.run_sync(paused_buyers, service.store)
        await service.clock.sleep(PAUSED_EVERY)


async def watch_alerts(service: Service) -> None:
    """Judge the alert rules every ``alert_interval`` seconds."""
    while service.rules is not None:
        await check_alerts(service)
        await service.clock.sleep(service.alert_interval)


async def check_alerts(service: Service) -> list[Fired]:
    """Judge the rules now: log (and send to the webhook) what started or resolved."""
    rules = service.rules
    if rules is None:
        return []
    now = service.clock.epoch()
    breakers = dict(service.breakers.states())
    health = service.health.failed() if service.health is not None else {}
    per_buyer, depth = await anyio.to_thread.run_sync(
        measure, service.store, rules, now, breakers, health
    )
    started, resolved = service.alerts.update(judge(rules, per_buyer, depth))
    if service.webhook:
        for status, items in (("firing", started), ("resolved", resolved)):
            for f in items:
                await notify(service.webhook, status, f)
    return started


async def notify(webhook: str, status: str, fired: Fired) -> None:
    """POST one alert that started (``firing``) or ended (``resolved``) to the webhook."""
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            await client.post(webhook, json={"status": status, "alert": fired.to_dict()})
    except httpx.HTTPError as exc:
        log.warning("the alert webhook could not be reached: %s", exc)

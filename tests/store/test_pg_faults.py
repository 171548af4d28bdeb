"""PostgreSQL faults while leads are sold: connections killed every second, a server restart.

The engine's connections are named ``leadpost-<schema>`` (application_name), so only this test's
connections are terminated. The restart is the real server's (pg_ctlcluster): other tests
running meanwhile wait for it like any client would.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import anyio
import psycopg
import pytest

from engine.auction import Router
from engine.clock import SystemClock
from engine.runtime.executor import Runtime
from engine.store.postgres import PostgresStore
from tests.auction_kit import ENVIRON, accept, campaign, plan, sample_lead
from tests.buyer_server import BuyerServer
from tests.store.kit import PG_URL, pg_schema

pytestmark = pytest.mark.anyio


def terminate(application: str) -> int:
    """Kill every backend of ``application``; how many."""
    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application,),
        ).fetchall()
    return len(rows)


def restart_postgres() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    ctl = shutil.which("pg_ctlcluster")
    assert ctl is not None, "pg_ctlcluster is needed to restart PostgreSQL"
    subprocess.run(
        [ctl, "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120
    )


async def sell(router: Router, count: int, prefix: str, buyer_url: str) -> list[str]:
    """Route ``count`` leads, 10 at a time; the dispositions."""
    camp = campaign([plan("poster", "w1", buyer_url)], mode="direct", total=60.0)
    lead = sample_lead()
    out: list[str] = []
    limiter = anyio.CapacityLimiter(10)

    async def one(i: int) -> None:
        async with limiter:
            result = await router.route(camp, lead, lead_id=f"{prefix}{i:05d}")
        out.append(result.disposition)

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(one, i)
    return out


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_killed_connections_and_a_restart_lose_nothing() -> None:
    """For a minute every connection of the engine is terminated each second while leads are
    sold; then the server restarts in the middle of a burst. Every lead is sold once, every
    sale is in the store, and the buyer got each lead exactly once."""
    with pg_schema() as schema, BuyerServer() as server:
        accept(server, "w1")
        application = f"leadpost-{schema}"
        store = PostgresStore(PG_URL, schema=schema, application=application)
        stop = threading.Event()
        killed: list[int] = []

        def killer() -> None:
            while not stop.wait(1.0):
                killed.append(terminate(application))

        thread = threading.Thread(target=killer, daemon=True)
        try:
            async with Runtime(environ=ENVIRON, journal=store) as runtime:
                router = Router(runtime, store, SystemClock(), env="test")
                thread.start()
                ends: list[str] = []
                started = time.monotonic()
                batch = 0
                while time.monotonic() - started < 60:
                    ends += await sell(router, 50, f"K{batch:03d}-", server.url)
                    batch += 1
                stop.set()
                thread.join()
                burst = sell(router, 300, "R-", server.url)
                async with anyio.create_task_group() as tg:

                    async def restart() -> None:
                        await anyio.sleep(0.05)
                        await anyio.to_thread.run_sync(restart_postgres)

                    tg.start_soon(restart)
                    ends += await burst
            lost = store.writer.lost
            rows = store.backend.read(
                "SELECT COUNT(*), COUNT(DISTINCT lead_id) FROM holds WHERE state = 'sold'"
            )
            open_leads = store.backend.read(
                "SELECT COUNT(*) FROM leads WHERE disposition IS NULL OR disposition <> 'sold'"
            )
        finally:
            stop.set()
            store.close()
        posts = [r.headers["idempotency-key"] for r in server.received("/w1/post")]
    assert len(killed) >= 50 and sum(killed) >= 50, "connections were killed every second"
    assert lost > 0, "the writer saw lost connections and ran its batches again"
    assert set(ends) == {"sold"} and len(ends) == batch * 50 + 300
    assert rows == [(len(ends), len(ends))] and open_leads == [(0,)]
    assert len(posts) == len(set(posts)) == len(ends)


def _open_together(schema: str, count: int) -> tuple[list[PostgresStore], list[BaseException]]:
    """``count`` threads released at once, each opening a store on ``schema``."""
    gate = threading.Barrier(count)
    opened: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        gate.wait()
        try:
            opened.append(PostgresStore(PG_URL, schema=schema))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return opened, errors


def test_stores_opening_together_on_a_new_schema_all_open() -> None:
    """Nodes started together on a schema that does not exist yet: each one creates the schema
    and applies the migrations, and none fails on the other's CREATE (CREATE ... IF NOT EXISTS
    alone races on PostgreSQL's catalog)."""
    from tests.store.kit import drop_schema, new_schema, pg_ready

    pg_ready()
    for _ in range(3):
        schema = new_schema()
        opened, errors = _open_together(schema, 6)
        try:
            assert errors == [] and len(opened) == 6
        finally:
            for s in opened:
                s.close()
            drop_schema(schema)

"""Benchmark: `leadpost serve` driven over loopback by concurrent lead sources, beside the same
sales run in-process (no HTTP intake) in the same run, so the intake's cost is a ratio.

One loopback buyer (scripts/bench/durable.py's minimal keep-alive server, in its own process)
accepts every post after ``--delay`` ms. A temporary project holds that buyer and a direct
campaign. In the same run, on the SQLite store (synchronous=FULL; ``--store postgres``: PostgreSQL
at 127.0.0.1:5432, a schema of its own):

- in-process: ``Router.route`` from one process, ``--concurrency`` leads at once (the baseline);
- served, 1 worker then 2 workers: ``leadpost serve --workers N`` in a subprocess, and
  ``--concurrency`` sources posting leads with aiohttp for ``--leads`` leads or ``--seconds``
  seconds, whichever ends first.

Prints sustained leads/s, p50/p99 of intake-to-disposition (the HTTP request's time), the ratio
to in-process, the 503s (admission control), and the leads lost: every lead that got a 2xx must
be in the store with the disposition it was answered with (must be 0).

Run by hand:  .venv/bin/python scripts/bench/serve.py [--leads N] [--seconds S]
              [--concurrency N] [--delay MS] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import aiohttp  # noqa: E402
import anyio  # noqa: E402
from durable import BUYER_FILE  # noqa: E402
from durable import serve as serve_buyer  # noqa: E402

from engine.auction import Router  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.lead import validate_lead  # noqa: E402
from engine.loading import schema_for  # noqa: E402
from engine.runtime.executor import Runtime  # noqa: E402
from engine.runtime.tuning import tune_gc  # noqa: E402
from engine.service.catalog import load_catalog  # noqa: E402
from engine.store.settings import open_store  # noqa: E402
from engine.store.sources import add_source  # noqa: E402

CAMPAIGN = """\
campaign: bench
name: Bench
mode: direct
buyers:
  - bench
total_deadline: 10s
"""
SAMPLE = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text())


def project(folder: Path, buyer_url: str) -> Path:
    """A project with the bench buyer (at ``buyer_url``) and a direct campaign; its campaigns."""
    (folder / "buyers").mkdir(parents=True)
    (folder / "campaigns").mkdir()
    (folder / "lead-schema.yaml").write_text((ROOT / "integrations/lead-schema.yaml").read_text())
    (folder / "buyers" / "bench.yaml").write_text(
        BUYER_FILE.replace("http://127.0.0.1:9", buyer_url)
    )
    (folder / "campaigns" / "bench.yaml").write_text(CAMPAIGN)
    return folder / "campaigns"


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if values else 0


async def in_process(
    campaigns: Path, data: Path, n: int, concurrency: int
) -> tuple[float, list[float]]:
    """Leads/s and each sale's time through Router.route in this process (the baseline)."""
    catalog = load_catalog(campaigns)
    campaign = catalog.campaigns["bench"].plan
    lead = validate_lead(schema_for(campaigns / "bench.yaml"), SAMPLE)  # type: ignore[arg-type]
    store = open_store(store_env(data))[0]
    times: list[float] = []
    limiter = anyio.CapacityLimiter(concurrency)
    try:
        async with Runtime(journal=store) as runtime:
            router = Router(runtime, store, SystemClock(), env="test")

            async def one() -> None:
                async with limiter:
                    t = time.perf_counter()
                    result = await router.route(campaign, lead)
                    times.append(time.perf_counter() - t)
                    assert result.sold, result.reason

            for _ in range(20):
                await one()
            times.clear()
            start = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(n):
                    tg.start_soon(one)
            return n / (time.perf_counter() - start), times
    finally:
        store.close()


STORE = "sqlite"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMAS: list[str] = []


def store_env(data: Path) -> dict[str, str]:
    """The environment naming a fresh store: a SQLite file in ``data``, or a PostgreSQL schema
    of its own (dropped at the end)."""
    env = {**os.environ, "LEADPOST_DATA": str(data)}
    env.pop("LEADPOST_DATABASE_URL", None)
    if STORE == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        SCHEMAS.append(schema)
        env.update(LEADPOST_DATABASE_URL=PG_URL, LEADPOST_DATABASE_SCHEMA=schema)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def drive(url: str, key: str, n: int, seconds: float, concurrency: int) -> dict[str, Any]:
    """``concurrency`` sources posting leads until ``n`` are sent or ``seconds`` pass."""
    body = json.dumps(SAMPLE).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    answered: dict[str, str] = {}
    times: list[float] = []
    refused = 0
    errors = 0
    sent = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def source() -> None:
            nonlocal sent, refused, errors
            while sent < n and time.perf_counter() < stop_at:
                t = time.perf_counter()
                async with session.post(
                    url + "/v1/leads?campaign=bench", data=body, headers=headers
                ) as r:
                    doc = await r.json()
                    if r.status == 503:  # admission control: back off a little
                        refused += 1
                        await asyncio.sleep(0.01)
                        continue
                    sent += 1
                    if r.status >= 300:
                        errors += 1
                        continue
                    times.append(time.perf_counter() - t)
                    answered[doc["lead_id"]] = doc["status"]

        start = time.perf_counter()
        await asyncio.gather(*(source() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"answered": answered, "times": times, "refused": refused, "errors": errors,
            "rate": len(answered) / elapsed}  # fmt: skip


async def served(
    campaigns: Path, data: Path, workers: int, args: argparse.Namespace
) -> dict[str, Any]:
    env = store_env(data)
    store, _ = open_store(env)
    key = add_source(store, "bench", ["bench"])
    store.close()
    port = free_port()
    cmd = [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())",
           "serve", "--campaigns", str(campaigns), "--port", str(port), "--workers",
           str(workers), "--log-level", "warning", "--max-in-flight", "100000"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(url + "/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        await drive(url, key, 50, 30.0, min(args.concurrency, 10))  # warm every worker
        outcome = await drive(url, key, args.leads, args.seconds, args.concurrency)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    store, _ = open_store(env)
    try:
        stored = dict(store.backend.read("SELECT lead_id, disposition FROM leads"))
    finally:
        store.close()
    lost = [i for i, d in outcome["answered"].items() if stored.get(i) != d]
    outcome["lost"] = len(lost)
    return outcome


async def main(args: argparse.Namespace) -> None:
    global STORE
    STORE = args.store
    tune_gc()
    ctx = multiprocessing.get_context("spawn")
    port = ctx.Value("i", 0)
    buyer = ctx.Process(target=serve_buyer, args=(args.delay / 1000.0, port), daemon=True)
    buyer.start()
    while not port.value:
        await asyncio.sleep(0.05)
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        campaigns = project(Path(tmp) / "integrations", f"http://127.0.0.1:{port.value}")
        print(f"direct posts to one loopback buyer answering after {args.delay:g} ms;"
              f" {args.concurrency} sources at once; {STORE} store")  # fmt: skip
        rate, times = await in_process(campaigns, Path(tmp), args.leads, args.concurrency)
        print(f"  in-process Router.route   {rate:7.0f} leads/s   p50 {pct(times, 50):6.1f} ms"
              f"   p99 {pct(times, 99):6.1f} ms   (baseline)")  # fmt: skip
        rates = {}
        for workers in [int(w) for w in args.workers.split(",")]:
            data = Path(tmp) / f"data-{workers}-{uuid.uuid4().hex[:6]}"
            o = await served(campaigns, data, workers, args)
            rates[workers] = o["rate"]
            print(f"  serve --workers {workers}         {o['rate']:7.0f} leads/s"
                  f"   p50 {pct(o['times'], 50):6.1f} ms   p99 {pct(o['times'], 99):6.1f} ms"
                  f"   = {o['rate'] / rate:4.2f}x in-process; {len(o['answered'])} answered,"
                  f" {o['refused']} refused (503), {o['errors']} errors,"
                  f" {o['lost']} lost")  # fmt: skip
        if 1 in rates and 2 in rates:
            print(f"  scaling from 1 to 2 workers: {rates[2] / rates[1]:4.2f}x")
    buyer.terminate()
    if SCHEMAS:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in SCHEMAS:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--leads", type=int, default=2000, help="leads per contender (default 2000)")
    p.add_argument("--seconds", type=float, default=20.0, help="at most this long per contender")
    p.add_argument("--concurrency", type=int, default=32, help="sources / sales at once")
    p.add_argument("--delay", type=float, default=5.0, help="buyer think time in ms (default 5)")
    p.add_argument("--workers", default="1,2", help="worker counts to run (default 1,2)")
    p.add_argument(
        "--store",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="SQLite (synchronous=FULL, default) or PostgreSQL at 127.0.0.1:5432",
    )
    asyncio.run(main(p.parse_args()))

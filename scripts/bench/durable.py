"""Benchmark: direct posts with the durable store against a raw aiohttp loop with no store.

One loopback buyer (a minimal asyncio HTTP/1.1 keep-alive server in its own process) accepts
every post, after ``--delay`` ms. In the same run and at the same concurrency:

- raw: a hand-written aiohttp loop posting the same bodies (rendered once by leadpost), no store;
- leadpost with the durable store: ``Router.route`` on a direct campaign — the lead sealed and
  committed, the buyer's hold reserved, the post's intent committed before it leaves, the
  outcome, the sale and the result committed before ``route`` returns; on SQLite
  (synchronous=FULL, then NORMAL) and on PostgreSQL (127.0.0.1:5432, database test, a schema of
  its own, dropped afterwards);
- leadpost on the in-memory store, to show what the engine costs without a disk.

Prints leads per second, the ratio to raw, and the wait of every awaited commit (p50/p99) with
the number of operations per transaction (group commit). Targets: >= 0.6x of raw, commit wait
p99 <= 20 ms, >= 1,000 durable leads/s on SQLite.

Run by hand:  .venv/bin/python scripts/bench/durable.py [--leads N] [--concurrency N]
              [--delay MS] [--only sqlite,postgres,...]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import anyio  # noqa: E402
import psycopg  # noqa: E402

from engine.auction import Router  # noqa: E402
from engine.campaigns.plan import CampaignBuyer, CampaignPlan  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.lead import validate_lead  # noqa: E402
from engine.lead.schema import load_lead_schema  # noqa: E402
from engine.loading import load_integration  # noqa: E402
from engine.plan import BreakerPlan, EnvironmentPlan, RenderContext  # noqa: E402
from engine.runtime.executor import Runtime  # noqa: E402
from engine.runtime.render import render_request  # noqa: E402
from engine.runtime.tuning import tune_gc  # noqa: E402
from engine.store import DurableStore, MemoryStore, SqliteStore  # noqa: E402
from engine.store.postgres import PostgresStore  # noqa: E402

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BUYER_FILE = """\
buyer: bench
name: Bench buyer
version: "1"
environments:
  test:
    url: http://127.0.0.1:9
stages:
  post:
    path: /post
    timeout: {connect: 1s, read: 10s, total: 10s}
    fields:
      first_name: lead.first_name
      last_name: lead.last_name
      email: lead.email
      phone: lead.phone
      state: lead.address.state
      zip: lead.address.zip
    response:
      rules:
        - if: status == 'accepted'
          outcome: accepted
        - outcome: rejected
      extract:
        buyer_lead_id: lead_id
"""

# -- the buyer -----------------------------------------------------------------------------------


async def _buyer(delay: float, reader: Any, writer: Any) -> None:
    body = b'{"status":"accepted","lead_id":"B1"}'
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            if delay:
                await asyncio.sleep(delay)
            writer.write(answer % (len(body), body))
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def serve(delay: float, port: Any) -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _buyer(delay, r, w), "127.0.0.1", 0)
        port.value = server.sockets[0].getsockname()[1]
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the contenders ------------------------------------------------------------------------------


def setup(url: str) -> tuple[CampaignPlan, dict[str, Any]]:
    folder = Path(tempfile.mkdtemp())
    (folder / "bench.yaml").write_text(BUYER_FILE)
    schema = load_lead_schema(ROOT / "integrations" / "lead-schema.yaml")
    plan = load_integration(folder / "bench.yaml", schema)
    no_breaker = BreakerPlan(consecutive_failures=10**9, min_requests=10**9)
    plan = dataclasses.replace(
        plan,
        environments={"test": EnvironmentPlan("test", url)},
        breaker=no_breaker,
        concurrency=1000,
    )
    campaign = CampaignPlan(
        "bench", "Bench", "bench.yaml", "direct", (CampaignBuyer(plan, 1, None),), 1.0, 30.0,
        None, 1, (), (),
    )  # fmt: skip
    import json

    raw = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text())
    return campaign, validate_lead(schema, raw)


async def raw_loop(url: str, bodies: list[bytes], concurrency: int) -> float:
    """Leads per second posting the bodies with aiohttp, nothing stored."""
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(body: bytes) -> None:
            async with (
                sem,
                session.post(
                    url + "/post", data=body, headers={"Content-Type": "application/json"}
                ) as response,
            ):
                await response.read()

        start = time.perf_counter()
        await asyncio.gather(*(one(b) for b in bodies))
        return len(bodies) / (time.perf_counter() - start)


async def leadpost(
    store: DurableStore, campaign: CampaignPlan, lead: dict[str, Any], n: int, concurrency: int
) -> tuple[float, list[float]]:
    """Leads per second through Router.route; the wait of every awaited commit (seconds)."""
    waits: list[float] = []
    commit = store._commit

    async def timed(op: Any) -> Any:
        t = time.perf_counter()
        try:
            return await commit(op)
        finally:
            waits.append(time.perf_counter() - t)

    store._commit = timed  # type: ignore[method-assign]
    limiter = anyio.CapacityLimiter(concurrency)
    sold = 0
    async with Runtime(journal=store) as runtime:
        router = Router(runtime, store, SystemClock(), env="test")

        async def one(i: int) -> None:
            nonlocal sold
            async with limiter:
                result = await router.route(campaign, lead, lead_id=f"b-{uuid.uuid4().hex}")
            sold += result.sold

        for i in range(min(50, n)):  # warm the connection and the code
            await one(i)
        waits.clear()
        sold = 0
        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(one, i)
        rate = n / (time.perf_counter() - start)
    assert sold == n, f"only {sold} of {n} sold"
    return rate, waits


async def store_alone(store: DurableStore, n: int, concurrency: int) -> tuple[float, list[float]]:
    """Leads per second through the store's writes of one direct sale, without HTTP: the lead
    (queued), the hold, the intent (awaited), the outcome with its sale, the result (awaited)."""
    from decimal import Decimal

    from engine.runtime.outcome import Outcome, Timings

    waits: list[float] = []
    sem = asyncio.Semaphore(concurrency)

    async def timed(coro: Any) -> None:
        t = time.perf_counter()
        await coro
        waits.append(time.perf_counter() - t)

    async def one(i: int) -> None:
        lead_id = f"s-{uuid.uuid4().hex}"
        async with sem:
            await store.open_lead(lead_id, "bench", {"n": i, "source_id": "web"}, wait=False)
            await store.reserve(lead_id, "bench", Decimal("10.00"), [])
            await timed(store.sending(lead_id, "bench", "post", 1, f"{lead_id}:bench:post"))
            store.answered(lead_id, Outcome("bench", "post", "accepted", False, None, 1,
                                            Timings(0.001), 200))  # fmt: skip
            result = {"disposition": "sold", "buyer": "bench", "price": "10.00", "reason": "x"}
            await timed(store.finish(lead_id, result))

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - start), waits


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if values else 0


def make(kind: str, tmp: Path) -> tuple[DurableStore, str | None]:
    if kind == "sqlite-full":
        return SqliteStore(tmp / f"{uuid.uuid4().hex}.db"), None
    if kind == "sqlite-normal":
        return SqliteStore(tmp / f"{uuid.uuid4().hex}.db", sync="normal"), None
    if kind == "memory":
        return MemoryStore(), None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    return PostgresStore(PG_URL, schema=schema), schema


async def main(args: argparse.Namespace) -> None:
    logging.getLogger("leadpost").setLevel(logging.ERROR)
    tune_gc()
    if args.switch:
        sys.setswitchinterval(args.switch)
    port = multiprocessing.get_context("spawn").Value("i", 0)
    proc = multiprocessing.get_context("spawn").Process(
        target=serve, args=(args.delay / 1000.0, port), daemon=True
    )
    proc.start()
    while not port.value:
        await asyncio.sleep(0.05)
    url = f"http://127.0.0.1:{port.value}"
    campaign, lead = setup(url)
    plan = campaign.buyers[0].integration
    ctx = RenderContext(lead, lead_time := __import__("datetime").datetime.now(), {})
    del lead_time
    bodies = [
        render_request(plan, "post", ctx, "test", lead_id=f"r{i}").body for i in range(args.leads)
    ]
    print(f"{args.leads} direct posts, {args.concurrency} in flight, buyer answers after"
          f" {args.delay:g} ms; leads/s (ratio to raw aiohttp in the same run)")  # fmt: skip
    kinds = args.only.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            raw = await raw_loop(url, bodies, args.concurrency)
            store, schema = make(kind, Path(tmp))
            try:
                rate, waits = await leadpost(store, campaign, lead, args.leads, args.concurrency)
                per = store.writer.batched / max(store.writer.commits, 1)
            finally:
                store.close()
                if schema:
                    with psycopg.connect(PG_URL, autocommit=True) as conn:
                        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            print(f"  {kind:<14} {rate:7.0f}/s vs raw {raw:7.0f}/s = {rate / raw:4.2f}x;"
                  f" commit wait p50 {pct(waits, 50):5.1f} ms, p99 {pct(waits, 99):5.1f} ms;"
                  f" {per:4.1f} writes per transaction")  # fmt: skip
        print(f"the store alone (no HTTP), {args.concurrency} leads at once: durable leads/s")
        for kind in kinds:
            store, schema = make(kind, Path(tmp))
            try:
                rate, waits = await store_alone(store, args.leads, args.concurrency)
                per = store.writer.batched / max(store.writer.commits, 1)
            finally:
                store.close()
                if schema:
                    with psycopg.connect(PG_URL, autocommit=True) as conn:
                        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            print(f"  {kind:<14} {rate:7.0f}/s; commit wait p50 {pct(waits, 50):5.1f} ms,"
                  f" p99 {pct(waits, 99):5.1f} ms; {per:4.1f} writes per transaction")  # fmt: skip
    proc.terminate()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--leads", type=int, default=3000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--delay", type=float, default=0.0, help="buyer think time in ms")
    p.add_argument("--switch", type=float, default=0.0, help="sys.setswitchinterval (s)")
    p.add_argument("--only", default="sqlite-full,sqlite-normal,postgres,memory")
    asyncio.run(main(p.parse_args()))

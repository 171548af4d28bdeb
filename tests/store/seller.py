"""A selling process for the multi-process tests: routes numbered leads into a shared store.

    python -m tests.store.seller --store sqlite:PATH|postgres:SCHEMA --url BUYERS --mode caps|crash
        --prefix L --first 0 --count 2000 [--concurrency 20]

The key comes from LEADPOST_KEY. Prints ``SOLD <lead id>`` (flushed) for every sale ``route``
reported, and ``DONE`` when every lead of the range has a final disposition. In ``crash`` mode
it also runs the worker (retries, leads of killed processes) and skips leads already stored, so
a restarted process carries on where the killed one stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

import anyio

from engine.auction import Router
from engine.auction.worker import Worker
from engine.campaigns.plan import CampaignPlan
from engine.clock import SystemClock
from engine.plan import CapsPlan, RetryPlan, Timeouts
from engine.runtime.executor import Runtime
from engine.store import DurableStore, SqliteStore
from engine.store.crypto import keyring_from_env
from engine.store.postgres import PostgresStore
from tests.auction_kit import ENVIRON, campaign, plan, sample_lead
from tests.store.kit import PG_URL

CAP = 50


def open_store(spec: str) -> DurableStore:
    kind, _, where = spec.partition(":")
    keys = keyring_from_env(os.environ)
    if kind == "sqlite":
        return SqliteStore(where, keyring=keys, lease=1.5)
    return PostgresStore(PG_URL, schema=where, keyring=keys, lease=1.5)


def the_campaign(mode: str, url: str) -> CampaignPlan:
    if mode == "caps":
        capped = plan("poster", "capped", url, caps=CapsPlan(per_day=CAP))
        return campaign([capped], mode="direct", total=30.0)
    retry = RetryPlan(max_attempts=3, interval=0.05, max_delay=1.0, max_wait=0.5,
                      give_up_after=10.0**9)  # fmt: skip
    buyers = []
    for name in ("w1", "w2"):
        p = plan("poster", name, url, retry=retry)
        post = p.stages["post"]
        request = dataclasses.replace(post.request, timeouts=Timeouts(1.0, 0.3, 0.5))
        stages = {"post": dataclasses.replace(post, request=request)}
        buyers.append(dataclasses.replace(p, stages=stages))
    return campaign(buyers, mode="waterfall", total=30.0)


def done(store: DurableStore, ids: list[str]) -> bool:
    rows = store.backend.read(
        "SELECT COUNT(*) FROM leads WHERE disposition IS NOT NULL AND disposition <> 'scheduled'"
    )
    return int(rows[0][0]) >= len(ids)


async def main(args: argparse.Namespace) -> None:
    store = open_store(args.store)
    camp = the_campaign(args.mode, args.url)
    ids = [f"{args.prefix}{i:05d}" for i in range(args.first, args.first + args.count)]
    if args.mode == "crash":
        known = {r[0] for r in store.backend.read("SELECT lead_id FROM leads")}
        ids_to_sell = [i for i in ids if i not in known]
    else:
        ids_to_sell = ids
    lead: dict[str, Any] = sample_lead()
    limiter = anyio.CapacityLimiter(args.concurrency)
    async with Runtime(environ=ENVIRON, journal=store) as runtime:
        router = Router(runtime, store, SystemClock(), env="test")

        async def one(lead_id: str) -> None:
            async with limiter:
                result = await router.route(camp, lead, lead_id=lead_id)
            if result.sold:
                print(f"SOLD {lead_id}", flush=True)

        async with anyio.create_task_group() as tg:
            if args.mode == "crash":
                worker = Worker(router, {camp.campaign: camp}, idle=0.2)
                tg.start_soon(worker.run)
            async with anyio.create_task_group() as sellers:
                for lead_id in ids_to_sell:
                    sellers.start_soon(one, lead_id)
            while args.mode == "crash" and not done(store, ids):
                await anyio.sleep(0.2)
            tg.cancel_scope.cancel()
    store.close()
    print("DONE", flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--store", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--mode", choices=("caps", "crash"), required=True)
    p.add_argument("--prefix", default="L")
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--concurrency", type=int, default=20)
    return p.parse_args(argv)


if __name__ == "__main__":
    anyio.run(main, parse(sys.argv[1:]))

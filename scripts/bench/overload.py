"""Benchmark: `leadpost serve` under twice its sustainable load, with and without admission
control.

Fifty bidders on one loopback buyer process (its own process): 40 bid after ``--delay`` ms, 10
are slow (150 ms to 2 s, so they miss the 100 ms ping deadline); posts are accepted at once. One
auction campaign pings all fifty (ping deadline 100 ms, total 2 s); breakers are off so that the
slow bidders are pinged in every auction. The service runs as a subprocess (one worker, SQLite).

1. Sustainable load: ``--sources`` sources post leads back to back for ``--seconds``; the rate
   they reach is R.
2. Twice that: leads arrive at 2R a second, whatever the service answers, for ``--seconds`` —
   once with admission control (the default settings) and once without it (limits lifted).

For each run: leads answered 2xx and refused 503, p99 of the ping phase of the admitted
auctions (when the last ping result was recorded, read from the store's traces; target: at most
the ping deadline + 10 ms), p99 of the HTTP request, and the leads lost (a 2xx whose lead is not
in the store with that disposition; must be 0).

Run by hand:  .venv/bin/python scripts/bench/overload.py [--seconds S] [--sources N]
              [--delay MS]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
from serve import free_port  # noqa: E402

from engine.store.settings import open_store  # noqa: E402
from engine.store.sources import add_source  # noqa: E402

BUYERS = 50
SLOW = 10
PING_DEADLINE_MS = 100
SAMPLE = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text())

BIDDER = """\
buyer: {name}
name: Bidder {name}
version: "1"
environments:
  test:
    url: {url}/{name}
retry:
  max_attempts: 1
circuit_breaker:
  consecutive_failures: 1000000
  min_requests: 1000000
stages:
  ping:
    path: /ping
    timeout: {{connect: 1s, read: 5s, total: 5s}}
    fields:
      state: lead.address.state
      zip: lead.address.zip
    response:
      rules:
        - if: status == 'bid'
          outcome: accepted
        - outcome: rejected
      extract:
        price: bid
        ping_id: ping_id
  post:
    path: /post
    timeout: {{connect: 1s, read: 5s, total: 5s}}
    fields:
      ping_id:
        from: ping.ping_id
        type: string
      first_name: lead.first_name
      email: lead.email
      phone: lead.phone
    response:
      rules:
        - if: status == 'accepted'
          outcome: accepted
        - outcome: rejected
"""


# -- the buyers ---------------------------------------------------------------------------------


def delays(base: float) -> dict[str, float]:
    rng = random.Random(7)
    out = {f"b{i:02d}": base for i in range(BUYERS - SLOW)}
    out.update({f"b{i:02d}": rng.uniform(0.15, 2.0) for i in range(BUYERS - SLOW, BUYERS)})
    return out


async def _answer(table: dict[str, float], reader: Any, writer: Any) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            first = head.split(b"\r\n", 1)[0].split(b" ")
            path = first[1].decode() if len(first) > 1 else "/"
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            name = path.strip("/").split("/")[0]
            if path.endswith("/ping"):
                await asyncio.sleep(table.get(name, 0.0))
                body = json.dumps({"status": "bid", "bid": f"{5 + int(name[1:]) % 30}.00",
                                   "ping_id": "p1"}).encode()  # fmt: skip
            else:
                body = b'{"status":"accepted","lead_id":"L1"}'
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body)
            )
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def serve_buyers(base: float, port: Any) -> None:
    table = delays(base)

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _answer(table, r, w), "127.0.0.1", 0, backlog=4096
        )
        port.value = server.sockets[0].getsockname()[1]
        await asyncio.Event().wait()

    asyncio.run(main())


def project(folder: Path, url: str) -> Path:
    (folder / "buyers").mkdir(parents=True)
    (folder / "campaigns").mkdir()
    (folder / "lead-schema.yaml").write_text((ROOT / "integrations/lead-schema.yaml").read_text())
    names = [f"b{i:02d}" for i in range(BUYERS)]
    for name in names:
        (folder / "buyers" / f"{name}.yaml").write_text(BIDDER.format(name=name, url=url))
    lines = "\n".join(f"  - {n}" for n in names)
    (folder / "campaigns" / "overload.yaml").write_text(
        "campaign: overload\nname: Overload\nmode: auction\nbuyers:\n"
        f"{lines}\nping_deadline: {PING_DEADLINE_MS}ms\ntotal_deadline: 2s\n"
    )
    return folder / "campaigns"


# -- the sources --------------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.answered: dict[str, str] = {}
        self.times: list[float] = []
        self.refused = 0
        self.errors = 0

    async def post(self, session: aiohttp.ClientSession, url: str, key: str) -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        t = time.perf_counter()
        try:
            async with session.post(url + "/v1/leads?campaign=overload",
                                    data=json.dumps(SAMPLE), headers=headers) as r:  # fmt: skip
                doc = await r.json()
                if r.status == 503:
                    self.refused += 1
                elif r.status < 300:
                    self.times.append(time.perf_counter() - t)
                    self.answered[doc["lead_id"]] = doc["status"]
                else:
                    self.errors += 1
        except (TimeoutError, aiohttp.ClientError):
            self.errors += 1


async def closed_loop(url: str, key: str, sources: int, seconds: float) -> Tally:
    tally = Tally()
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def source() -> None:
            while time.perf_counter() < stop:
                await tally.post(session, url, key)

        await asyncio.gather(*(source() for _ in range(sources)))
    return tally


async def open_loop(url: str, key: str, rate: float, seconds: float) -> Tally:
    tally = Tally()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = []
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds:
            due = start + n / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.ensure_future(tally.post(session, url, key)))
            n += 1
        await asyncio.gather(*tasks)
    return tally


# -- one service --------------------------------------------------------------------------------


class Served:
    def __init__(self, campaigns: Path, data: Path, extra: list[str]) -> None:
        self.env = {**os.environ, "LEADPOST_DATA": str(data)}
        self.env.pop("LEADPOST_DATABASE_URL", None)
        store, _ = open_store(self.env)
        self.key = add_source(store, "bench", ["overload"])
        store.close()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())",
               "serve", "--campaigns", str(campaigns), "--port", str(port), "--log-level",
               "error", "--health-every", "off", "--no-watch", *extra]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL)

    async def ready(self) -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(self.url + "/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("the service did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=120)

    def judge(self, tally: Tally) -> dict[str, Any]:
        """Ping phase per admitted auction (ms, from the traces) and the leads lost."""
        store, _ = open_store(self.env)
        try:
            pings, lost = [], 0
            for lead_id, status in tally.answered.items():
                result = store.get_result(lead_id)
                if result is None or result.get("disposition") != status:
                    lost += 1
                    continue
                ends = [e["at"] for e in result.get("trace") or [] if e["step"] == "ping"]
                if ends:
                    pings.append(max(ends))
        finally:
            store.close()
        return {"pings": pings, "lost": lost}


def pct(values: list[float], q: int, scale: float = 1.0) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * scale


async def main(args: argparse.Namespace) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    port = ctx.Value("i", 0)
    buyers = ctx.Process(target=serve_buyers, args=(args.delay / 1000, port), daemon=True)
    buyers.start()
    while not port.value:
        await asyncio.sleep(0.05)
    with tempfile.TemporaryDirectory(prefix="bench-overload-") as tmp:
        campaigns = project(Path(tmp) / "integrations", f"http://127.0.0.1:{port.value}")
        print(f"{BUYERS} bidders ({SLOW} slow: 150 ms-2 s), ping deadline {PING_DEADLINE_MS} ms,"
              f" bids after {args.delay:g} ms; one worker, SQLite")  # fmt: skip
        runs = {
            "admission on": [],
            "admission off": ["--admission", "off"],
        }
        rate = None
        for label, extra in runs.items():
            served = Served(campaigns, Path(tmp) / f"data-{uuid.uuid4().hex[:6]}", extra)
            try:
                await served.ready()
                await closed_loop(served.url, served.key, 2, 3.0)  # warm up
                if rate is None:
                    sustained = await closed_loop(served.url, served.key, args.sources,
                                                  args.seconds)  # fmt: skip
                    rate = len(sustained.answered) / args.seconds
                    s = served.judge(sustained)
                    print(f"  sustainable ({args.sources} sources back to back): {rate:6.1f}"
                          f" leads/s; ping phase p99 {pct(s['pings'], 99):6.1f} ms;"
                          f" request p99 {pct(sustained.times, 99, 1000):6.1f} ms")  # fmt: skip
                tally = await open_loop(served.url, served.key, 2 * rate, args.seconds)
                j = served.judge(tally)
            finally:
                served.stop()
            within = sum(1 for p in j["pings"] if p <= PING_DEADLINE_MS + 10)
            share = within / len(j["pings"]) if j["pings"] else 0.0
            print(f"  2x ({2 * rate:5.1f}/s), {label:<13}: {len(tally.answered):5d} admitted,"
                  f" {tally.refused:5d} refused (503), {tally.errors} errors;"
                  f" ping phase p99 {pct(j['pings'], 99):7.1f} ms"
                  f" ({share:4.0%} within {PING_DEADLINE_MS + 10} ms);"
                  f" request p99 {pct(tally.times, 99, 1000):7.1f} ms;"
                  f" {j['lost']} lost")  # fmt: skip
    buyers.terminate()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    p.add_argument("--sources", type=int, default=8, help="sources for the sustainable load")
    p.add_argument("--delay", type=float, default=20.0, help="bid delay of the fast bidders, ms")
    asyncio.run(main(p.parse_args()))

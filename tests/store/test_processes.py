"""Real processes on one store: four sellers into one cap, and selling through SIGKILLs.

Each test runs on SQLite (one file) and PostgreSQL (one schema). The buyers are a loopback
server in this test process, so they outlive every killed seller and remember what they got.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from engine.store import DurableStore, SqliteStore
from engine.store.crypto import DataKey, Keyring
from engine.store.postgres import PostgresStore
from tests.buyer_server import BuyerServer, Received, Reply
from tests.paths import REPO
from tests.store.kit import PG_URL, drop_schema, new_schema, pg_ready
from tests.store.seller import CAP


class Backend:
    """One shared database for the test's processes, and a store on it for the checks."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.key = DataKey.generate()
        if kind == "sqlite":
            self.spec = f"sqlite:{tmp / 'shared.db'}"
        else:
            pg_ready()
            self.schema = new_schema()
            self.spec = f"postgres:{self.schema}"

    def store(self) -> DurableStore:
        keys = Keyring([self.key])
        if self.kind == "sqlite":
            return SqliteStore(self.spec.partition(":")[2], keyring=keys, heartbeat=False)
        return PostgresStore(PG_URL, schema=self.schema, keyring=keys, heartbeat=False)

    def close(self) -> None:
        if self.kind == "postgres":
            drop_schema(self.schema)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = Backend(request.param, tmp_path)
    yield b
    b.close()


class Seller:
    """One ``python -m tests.store.seller`` process; its output lines are collected."""

    def __init__(self, backend: Backend, url: str, mode: str, first: int, count: int) -> None:
        env = {**os.environ, "LEADPOST_KEY": backend.key.text(), "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-m", "tests.store.seller", "--store", backend.spec, "--url", url,
               "--mode", mode, "--first", str(first), "--count", str(count)]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.errors), daemon=True),
        ]
        for r in self._readers:
            r.start()

    @staticmethod
    def _read(stream: IO[str], into: list[str]) -> None:
        with stream:
            for line in stream:
                into.append(line.rstrip())

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for r in self._readers:
            r.join()

    def __enter__(self) -> Seller:
        return self

    def __exit__(self, *exc: object) -> None:
        """A seller still running when its test fails is killed and reaped, so it neither
        outlives the test nor warns in the next one."""
        if self.proc.poll() is None:
            self.kill()

    def wait(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for r in self._readers:
            r.join()
        assert self.proc.returncode == 0, "\n".join(self.errors[-40:])

    def sold(self) -> set[str]:
        return {line.split()[1] for line in self.lines if line.startswith("SOLD ")}


@pytest.mark.slow
def test_four_processes_sell_exactly_the_cap(backend: Backend) -> None:
    """Four processes sell 40 leads each to one buyer with a daily cap of 50 (each process's
    own count would allow 50): exactly 50 are sold, in the store and as reported by route."""
    with BuyerServer() as server:
        server.default("/capped/post", Reply.json({"status": "accepted", "lead_id": "C"}))
        with contextlib.ExitStack() as running:
            sellers = [
                running.enter_context(Seller(backend, server.url, "caps", i * 1000, 40))
                for i in range(4)
            ]
            for s in sellers:
                s.wait(timeout=240)
        received = len(server.received("/capped/post"))
    store = backend.store()
    try:
        sold = store.backend.read("SELECT COUNT(*) FROM holds WHERE state = 'sold'")[0][0]
        unsold = store.backend.read("SELECT COUNT(*) FROM leads WHERE disposition = 'unsold'")[0][0]
    finally:
        store.close()
    reported = set().union(*(s.sold() for s in sellers))
    assert (sold, len(reported), received, unsold) == (CAP, CAP, CAP, 160 - CAP)


class Recording(BuyerServer):
    """A buyer server that remembers which answer each request got."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: list[tuple[Received, Reply]] = []

    def _decide(self, request: Received) -> tuple[Reply, Received]:
        reply, request = super()._decide(request)
        with self._lock:
            self.answered.append((request, reply))
        return reply, request


def flaky_replies(name: str, rng: random.Random, n: int) -> list[Reply]:
    """Mostly accepted; 503s, 429s with Retry-After, rejections, and answers that come after
    the buyer's read timeout (the post arrived: an unknown outcome for us)."""
    accepted = Reply.json({"status": "accepted", "lead_id": f"{name}-x"})
    choices = [
        (70, accepted),
        (8, Reply(503, b"busy")),
        (5, Reply(429, b"slow down", {"Retry-After": "1"})),
        (10, Reply.json({"status": "rejected", "reason": "no"})),
        (7, Reply.json({"status": "accepted", "lead_id": f"{name}-late"}, delay=0.6)),
    ]
    weights = [w for w, _ in choices]
    return [rng.choices([r for _, r in choices], weights)[0] for _ in range(n)]


LEADS = 2000


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkilled_sellers_lose_nothing_and_sell_nothing_twice(backend: Backend) -> None:
    """2,000 leads, two flaky buyers in a waterfall, the selling process SIGKILLed at random
    moments five times and restarted: every lead ends with one final disposition, every post a
    buyer received is in the journal, no lead was accepted by two buyers, and every sale that
    route reported is a committed sale."""
    rng = random.Random(20261207)
    server = Recording()
    with server:
        for name in ("w1", "w2"):
            server.script(f"/{name}/post", *flaky_replies(name, rng, 6000))
        reported: set[str] = set()
        for _ in range(5):
            with Seller(backend, server.url, "crash", 0, LEADS) as seller:
                time.sleep(rng.uniform(2.0, 6.0))
                seller.kill()
            reported |= seller.sold()
        with Seller(backend, server.url, "crash", 0, LEADS) as final:
            final.wait(timeout=600)
        reported |= final.sold()
        answered = list(server.answered)
    store = backend.store()
    try:
        check_the_record(store, answered, reported)
    finally:
        store.close()


def story(store: DurableStore, answered: list[tuple[Received, Reply]], leads: set[str]) -> str:
    """What the journal and the buyers say of a few leads (for a failure's message)."""
    lines = []
    for lead in sorted(leads)[:3]:
        lines.append(f"{lead}: journal (buyer, attempt, state, kind, node):")
        for row in store.backend.read(
            "SELECT buyer, attempt, state, kind, owner FROM attempts WHERE lead_id = ? ORDER BY id",
            (lead,),
        ):
            lines.append(f"  {row}")
        for request, reply in answered:
            if request.headers["idempotency-key"].startswith(f"{lead}:"):
                body = reply.body[:50] if isinstance(reply.body, bytes) else b""
                lines.append(f"  buyer got {request.path} on connection {request.connection}:"
                             f" {reply.status} {body!r}")  # fmt: skip
    return "\n".join(lines)


def check_the_record(
    store: DurableStore, answered: list[tuple[Received, Reply]], reported: set[str]
) -> None:
    read = store.backend.read
    dispositions = Counter(d for (d,) in read("SELECT disposition FROM leads"))
    assert sum(dispositions.values()) == LEADS, dispositions
    assert set(dispositions) <= {"sold", "unsold", "unknown", "expired"}, dispositions
    journal: dict[tuple[str, str], int] = Counter()
    for lead_id, buyer in read("SELECT lead_id, buyer FROM attempts WHERE stage = 'post'"):
        journal[(lead_id, buyer)] += 1
    got: dict[tuple[str, str], int] = Counter()
    accepted_by: dict[str, set[str]] = defaultdict(set)
    for request, reply in answered:
        lead_id, buyer, _ = request.headers["idempotency-key"].split(":")
        got[(lead_id, buyer)] += 1
        if b'"accepted"' in (reply.body if isinstance(reply.body, bytes) else b""):
            accepted_by[lead_id].add(buyer)
    unjournaled = {k: n for k, n in got.items() if n > journal.get(k, 0)}
    assert unjournaled == {}, "posts the buyers got that the journal does not show:\n" + story(
        store, answered, {lead for lead, _ in unjournaled}
    )
    twice = {lead: buyers for lead, buyers in accepted_by.items() if len(buyers) > 1}
    assert twice == {}, "leads accepted by two buyers:\n" + story(store, answered, set(twice))
    sold = {lead for (lead,) in read("SELECT lead_id FROM holds WHERE state = 'sold'")}
    sold_leads = {lead for (lead,) in read("SELECT lead_id FROM leads WHERE disposition = 'sold'")}
    assert reported <= sold and sold == sold_leads
    print(f"\n{store.backend.dialect}: {dict(dispositions)}; posts received {sum(got.values())},"
          f" journal rows {sum(journal.values())}, reported sold {len(reported)}")  # fmt: skip

"""SqliteStore: the Store in one SQLite file (WAL), with batched writes and in-memory caps.

Safe to call from async code: every method holds a lock for microseconds. ``save_lead`` commits
before it returns, together with every row still pending, so a lead is on disk before its first
delivery attempt. Attempts, results, sales and posts are queued and committed in batches by a
small writer thread (every ``flush_interval`` seconds, or at once when ``batch_size`` rows wait);
reads of leads, attempts and results commit what is pending first. Sales and post outcomes are
also kept in a :class:`~engine.store.base.Ledger` (the last ``LEDGER_DAYS`` days, loaded from the
file on first use), so caps and acceptance rates never read the disk; older questions do.

Durability: WAL with ``synchronous=NORMAL`` survives a crash of the process (not of the machine)
without an fsync per commit; pass ``durable=True`` for ``synchronous=FULL``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

from engine.clock import Clock, SystemClock
from engine.runtime.outcome import Outcome
from engine.store.base import Ledger, epoch, outcome_record, to_json

DEFAULT_PATH = "leadpost.sqlite3"
#: How far back the in-memory ledger reaches (a monthly cap needs 31 days).
LEDGER_DAYS = 40
#: Seconds between WAL checkpoints, made by the writer thread on its own connection so that no
#: caller's commit pays for copying the log into the database file.
CHECKPOINT_EVERY = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leads (
    lead_id TEXT PRIMARY KEY, campaign TEXT NOT NULL, lead TEXT NOT NULL, saved_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY, lead_id TEXT NOT NULL, buyer TEXT NOT NULL, stage TEXT NOT NULL,
    kind TEXT NOT NULL, outcome TEXT NOT NULL, saved_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_lead ON attempts (lead_id, id);
CREATE TABLE IF NOT EXISTS results (
    lead_id TEXT PRIMARY KEY, result TEXT NOT NULL, saved_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sales (
    id INTEGER PRIMARY KEY, buyer TEXT NOT NULL, price TEXT, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sales_buyer_at ON sales (buyer, at);
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY, buyer TEXT NOT NULL, accepted INTEGER NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS posts_buyer_at ON posts (buyer, at);
CREATE TABLE IF NOT EXISTS suppressed (value TEXT PRIMARY KEY, added_at REAL NOT NULL);
"""
_LEAD = (
    "INSERT INTO leads (lead_id, campaign, lead, saved_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (lead_id) DO UPDATE SET campaign = excluded.campaign, lead = excluded.lead"
)
_ATTEMPT = (
    "INSERT INTO attempts (lead_id, buyer, stage, kind, outcome, saved_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_RESULT = (
    "INSERT INTO results (lead_id, result, saved_at) VALUES (?, ?, ?) "
    "ON CONFLICT (lead_id) DO UPDATE SET result = excluded.result, saved_at = excluded.saved_at"
)
_SALE = "INSERT INTO sales (buyer, price, at) VALUES (?, ?, ?)"
_POST = "INSERT INTO posts (buyer, accepted, at) VALUES (?, ?, ?)"

Row = tuple[str, tuple[Any, ...]]


class SqliteStore:
    """The Store in one SQLite file, created (with its tables) on first use."""

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        clock: Clock | None = None,
        flush_interval: float = 0.05,
        batch_size: int = 500,
        durable: bool = False,
    ) -> None:
        self.path = Path(path)
        self._clock = clock if clock is not None else SystemClock()
        self._flush_interval = flush_interval
        self._batch_size = batch_size
        self._durable = durable
        self._lock = threading.RLock()
        self._pending: list[Row] = []
        self._conn: sqlite3.Connection | None = None
        self._ledger: Ledger | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------------

    def _open(self) -> tuple[sqlite3.Connection, Ledger]:
        """The connection and ledger, opening the file on first use (call with the lock held)."""
        if self._conn is not None and self._ledger is not None:
            return self._conn, self._ledger
        if self._closed:
            raise RuntimeError("this store is closed")
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self._durable else 'NORMAL'}")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the writer thread checkpoints instead
        conn.executescript(_SCHEMA)
        floor = self._clock.wall().timestamp() - LEDGER_DAYS * 86400.0
        ledger = Ledger(LEDGER_DAYS * 86400.0, floor=floor)
        for buyer, price, at in conn.execute(
            "SELECT buyer, price, at FROM sales WHERE at >= ? ORDER BY at", (floor,)
        ):
            ledger.add_sale(buyer, None if price is None else Decimal(price), at)
        for buyer, accepted, at in conn.execute(
            "SELECT buyer, accepted, at FROM posts WHERE at >= ? ORDER BY at", (floor,)
        ):
            ledger.add_post(buyer, bool(accepted), at)
        self._conn, self._ledger = conn, ledger
        self._writer = threading.Thread(target=self._write_loop, name="leadpost-store", daemon=True)
        self._writer.start()
        return conn, ledger

    def close(self) -> None:
        """Commit what is pending, stop the writer thread and close the file (idempotent)."""
        with self._lock:
            writer = self._writer
            self._closed = True
        self._stop.set()
        self._wake.set()
        if writer is not None:
            writer.join()
        with self._lock:
            if self._conn is not None:
                self._flush()
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        """Commit queued rows every flush interval; checkpoint the WAL off the callers' path."""
        checkpointer = sqlite3.connect(self.path, isolation_level=None)
        last_checkpoint = 0.0
        try:
            while not self._stop.is_set():
                self._wake.wait()
                if self._stop.wait(self._flush_interval):
                    return
                with self._lock:
                    self._wake.clear()
                    try:
                        self._flush()
                    except sqlite3.Error:
                        self._wake.set()  # the rows stay pending; try again after the interval
                if time.monotonic() - last_checkpoint >= CHECKPOINT_EVERY:
                    last_checkpoint = time.monotonic()
                    with contextlib.suppress(sqlite3.Error):
                        checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            checkpointer.close()

    def _flush(self) -> None:
        """Commit every pending row in one transaction (call with the lock held)."""
        if not self._pending or self._conn is None:
            return
        conn = self._conn
        conn.execute("BEGIN")
        try:
            for sql, rows in groupby(self._pending, key=lambda row: row[0]):
                conn.executemany(sql, [params for _, params in rows])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._pending.clear()

    def _queue(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            self._open()
            self._pending.append((sql, params))
            if len(self._pending) >= self._batch_size:
                self._flush()
            else:
                self._wake.set()

    def _now(self) -> float:
        return self._clock.wall().timestamp()

    def save_lead(self, lead_id: str, campaign: str, lead: Mapping[str, Any]) -> None:
        text = to_json(lead)
        with self._lock:
            self._open()
            self._pending.append((_LEAD, (lead_id, campaign, text, self._now())))
            self._flush()

    def save_attempt(self, lead_id: str, outcome: Outcome) -> None:
        text = to_json(outcome_record(outcome))
        row = (lead_id, outcome.buyer, outcome.stage, outcome.kind, text, self._now())
        self._queue(_ATTEMPT, row)

    def save_result(self, lead_id: str, result: Mapping[str, Any]) -> None:
        self._queue(_RESULT, (lead_id, to_json(result), self._now()))

    def record_sale(self, buyer: str, price: Decimal | None, at: datetime) -> None:
        moment = epoch(at)
        with self._lock:
            _, ledger = self._open()
            ledger.add_sale(buyer, price, moment)
            self._queue(_SALE, (buyer, None if price is None else str(price), moment))

    def record_post(self, buyer: str, accepted: bool, at: datetime) -> None:
        moment = epoch(at)
        with self._lock:
            _, ledger = self._open()
            ledger.add_post(buyer, accepted, moment)
            self._queue(_POST, (buyer, int(accepted), moment))

    def add_suppressed(self, values: Iterable[str]) -> int:
        rows = [(v, self._now()) for v in dict.fromkeys(values)]
        with self._lock:
            conn, _ = self._open()
            self._flush()
            before = conn.total_changes
            with conn:  # committed before returning: a number added now is refused from now on
                conn.executemany(
                    "INSERT INTO suppressed (value, added_at) VALUES (?, ?) "
                    "ON CONFLICT (value) DO NOTHING",
                    rows,
                )
            return conn.total_changes - before

    def suppressed(self, values: Iterable[str]) -> str | None:
        wanted = [v for v in values if v]
        if not wanted:
            return None
        marks = ", ".join("?" * len(wanted))
        rows = self._read(f"SELECT value FROM suppressed WHERE value IN ({marks})", tuple(wanted))
        found = {r[0] for r in rows}
        return next((v for v in wanted if v in found), None)

    # -- reading ---------------------------------------------------------------------------------

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            conn, _ = self._open()
            self._flush()
            return conn.execute(sql, params).fetchall()

    def get_result(self, lead_id: str) -> Mapping[str, Any] | None:
        rows = self._read("SELECT result FROM results WHERE lead_id = ?", (lead_id,))
        return json.loads(rows[0][0]) if rows else None

    def get_lead(self, lead_id: str) -> tuple[str, Mapping[str, Any]] | None:
        rows = self._read("SELECT campaign, lead FROM leads WHERE lead_id = ?", (lead_id,))
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def attempts(self, lead_id: str) -> list[Mapping[str, Any]]:
        rows = self._read("SELECT outcome FROM attempts WHERE lead_id = ? ORDER BY id", (lead_id,))
        return [json.loads(text) for (text,) in rows]

    def sales(self, buyer: str, since: datetime) -> tuple[int, Decimal]:
        with self._lock:
            _, ledger = self._open()
        if ledger.covers(since):
            return ledger.sales(buyer, since)
        rows = self._read(
            "SELECT price FROM sales WHERE buyer = ? AND at >= ?", (buyer, epoch(since))
        )
        return len(rows), sum((Decimal(p) for (p,) in rows if p is not None), Decimal(0))

    def acceptance_rate(self, buyer: str, since: datetime) -> float | None:
        with self._lock:
            _, ledger = self._open()
        if ledger.covers(since):
            return ledger.acceptance_rate(buyer, since)
        rows = self._read(
            "SELECT COUNT(*), SUM(accepted) FROM posts WHERE buyer = ? AND at >= ?",
            (buyer, epoch(since)),
        )
        count, accepted = rows[0]
        return (accepted or 0) / count if count else None

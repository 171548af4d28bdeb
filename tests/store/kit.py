"""Stores for the contract tests: memory, SQLite in a temporary file, PostgreSQL in its own schema.

PostgreSQL runs at 127.0.0.1:5432 on our machines (``LEADPOST_TEST_DATABASE_URL`` to point
elsewhere). Each test gets a schema of its own, dropped afterwards, so runs and parallel workers
never see each other's rows. An unreachable server FAILS the test (it is never skipped): start it
with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from engine.clock import Clock
from engine.store import DurableStore, MemoryStore, SqliteStore
from engine.store.crypto import Keyring
from engine.store.postgres import PostgresStore

PG_URL = os.environ.get("LEADPOST_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("memory", "sqlite", "postgres")


def pg_ready(patience: float = 30.0) -> None:
    """Fail (never skip) with instructions when PostgreSQL is not reachable (after waiting up
    to ``patience`` seconds: a test may be restarting it)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            with psycopg.connect(PG_URL, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            raise AssertionError(
                f"PostgreSQL is not reachable at {PG_URL} ({exc}); start it with "
                "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
            ) from exc


def new_schema() -> str:
    return f"lp_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def drop_schema(schema: str) -> None:
    pg_ready()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema name, dropped afterwards."""
    pg_ready()
    schema = new_schema()
    try:
        yield schema
    finally:
        drop_schema(schema)


class Made:
    """Stores made for one test (several nodes may share one database); closes them all."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.schema = new_schema() if kind == "postgres" else ""
        self.stores: list[DurableStore] = []
        self.memory: MemoryStore | None = None
        if kind == "postgres":
            pg_ready()

    def store(self, clock: Clock | None = None, keyring: Keyring | None = None, **kw: Any
              ) -> DurableStore:  # fmt: skip
        """A store on this test's database (memory: the same in-memory store every time)."""
        made: DurableStore
        if self.kind == "memory":
            if self.memory is None:
                self.memory = MemoryStore(clock=clock)
            return self.memory
        kw.setdefault("heartbeat", False)
        if self.kind == "sqlite":
            made = SqliteStore(self.tmp / "s.db", clock=clock, keyring=keyring, **kw)
        else:
            made = PostgresStore(PG_URL, schema=self.schema, clock=clock, keyring=keyring, **kw)
        self.stores.append(made)
        return made

    def close(self) -> None:
        for s in [*self.stores, *([self.memory] if self.memory else [])]:
            s.close()
        if self.kind == "postgres":
            drop_schema(self.schema)

"""The two databases behind the durable store: SQLite (one file) and PostgreSQL (psycopg 3).

Both offer the same small surface — a write transaction, a read, migrations — so the journal's
SQL is written once with ``?`` placeholders (turned into ``%s`` for psycopg) and the few places
that differ (``FOR UPDATE``, ``SKIP LOCKED``, partitions) ask :attr:`Backend.dialect`.

Durability, as measured and documented in README.md:
- SQLite in WAL mode with ``synchronous=FULL`` (the default here): every commit is fsynced
  before it returns, so a commit survives a crash of the process and a loss of power.
  ``LEADPOST_SQLITE_SYNC=normal`` skips that fsync: a commit survives the process being killed
  (it is in the operating system's cache) but the last commits may be lost on power loss.
- PostgreSQL with its default ``synchronous_commit=on``: a commit is flushed to the server's WAL
  before it returns; it survives our process, the server process and power loss of the server.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from engine.store.schema import LATEST, MIGRATIONS, migrations_table, statements

Row = tuple[Any, ...]


class Tx(Protocol):
    """One open write transaction."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Execute ``sql``; the rows it returns (empty for statements without rows)."""
        ...

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute ``sql``; how many rows it changed."""
        ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute ``sql`` once per row of parameters (a statement without result rows)."""
        ...


class Backend(Protocol):
    dialect: str
    """``sqlite`` or ``postgres``."""
    where: str
    """The file or the server and schema, for messages."""

    def transaction(self) -> contextlib.AbstractContextManager[Tx]: ...

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def transient(self, exc: BaseException) -> bool:
        """True for a failure that a retry after reconnecting may fix (connection lost)."""
        ...

    def close(self) -> None: ...


@lru_cache(maxsize=512)
def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


# -- SQLite -----------------------------------------------------------------------------------


class _SqliteTx:
    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)


class SqliteBackend:
    """The writer thread's connection, and for a file a second one for reads (each
    ``check_same_thread=False``, under its own lock): with WAL a read sees what is committed and
    never waits for a write in progress — a lead's suppression lookup on the event loop does
    not sit behind a commit's fsync. An in-memory database has one connection for both (a
    second one would be another database). ``BEGIN IMMEDIATE`` with a busy timeout serializes
    the writers of several processes on one file."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, sync: str = "full") -> None:
        self.where = str(path)
        memory = str(path) in (":memory:", "")  # "" is a private temporary database
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        wal = False
        if not memory:
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
            wal = bool(mode) and str(mode[0]).lower() == "wal"
        self._conn.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
        self._conn.execute("PRAGMA busy_timeout=30000")
        # Without WAL (a file system that refuses it) a second connection's reads would contend
        # with this process's own writer: then reads share the one connection.
        self._reader, self._read_lock = self._conn, self._lock
        if wal:
            try:
                reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                reader.execute("PRAGMA busy_timeout=30000")
            except BaseException:
                self._conn.close()
                raise
            self._reader, self._read_lock = reader, threading.RLock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    def transient(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def close(self) -> None:
        with self._read_lock:
            if self._reader is not self._conn:
                self._reader.close()
        with self._lock:
            self._conn.close()


# -- PostgreSQL -------------------------------------------------------------------------------

#: How leadpost's connections are named in pg_stat_activity.
APPLICATION = "leadpost"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: The PostgreSQL advisory lock that serializes creating the schema and applying migrations.
MIGRATION_LOCK = 7357001


@lru_cache(maxsize=512)
def _rows(sql: str) -> bool:
    """True when ``sql`` may return rows (a SELECT, a WITH, anything with RETURNING): its
    caller reads the answer now. Any other statement's result is an empty list whatever the
    server says, so it is queued in the pipeline without waiting for it."""
    head = sql.lstrip()[:6].upper()
    return head.startswith(("SELECT", "WITH")) or "RETURNING" in sql.upper()


class _PgTx:
    """A transaction in psycopg's pipeline mode: a statement whose result nobody reads is sent
    without waiting for its answer, so a batch of 60 writes costs a round trip per read (a
    ``SELECT … FOR SHARE``, a cap count, a row count) plus the commit, not one per statement.
    Order is kept: the server runs the queued statements before the read that follows them,
    so every read sees every earlier write. A queued statement that fails raises at the next
    read or at the commit, still inside the batch, which the writer then runs op by op."""

    __slots__ = ("cur", "pipeline")

    def __init__(self, cur: Any, pipeline: Any) -> None:
        self.cur = cur
        self.pipeline = pipeline

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.cur.execute(_pg(sql), params)
        if not _rows(sql):
            return []
        self.pipeline.sync()
        return list(self.cur.fetchall()) if self.cur.description is not None else []

    def count(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.cur.execute(_pg(sql), params)
        self.pipeline.sync()
        return int(self.cur.rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cur.executemany(_pg(sql), rows)


class PostgresBackend:
    """Connections to ``url``, every one on ``schema`` (its search_path): one of its own for the
    writer thread's transactions, reconnected at once when the server dropped it (the writer
    retries with its own short backoff; psycopg-pool's reconnection backs off to many seconds
    when connections keep being killed), and a psycopg-pool pool for reads, whose check
    replaces a connection the server dropped."""

    dialect = "postgres"

    def __init__(
        self,
        url: str,
        *,
        schema: str = "public",
        max_size: int = 4,
        application: str = APPLICATION,
    ) -> None:
        import psycopg  # imported here: SQLite-only installs and tests do not pay for it
        from psycopg_pool import ConnectionPool

        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"schema name {schema!r}: use lower-case letters, digits and _")
        self.where = f"{_redact(url)} (schema {schema})"
        self.schema = schema
        self._psycopg = psycopg
        with psycopg.connect(url, connect_timeout=10) as conn:
            # CREATE ... IF NOT EXISTS is not safe against a concurrent creator (two processes
            # starting together on a new schema: one fails on pg_namespace's unique index), so
            # creators take the migrations' lock first.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.commit()

        def configure(conn: Any) -> None:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.commit()

        self._url = url
        self._configure = configure
        self._application = application
        self._conn: Any = None

        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"connect_timeout": 10, "application_name": application},
            configure=configure,
            check=ConnectionPool.check_connection,
            open=True,
            timeout=30.0,
            reconnect_timeout=3600.0,
        )

    def _writer_connection(self) -> Any:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            self._conn = None
            conn = self._psycopg.connect(
                self._url, connect_timeout=10, application_name=self._application
            )
            self._configure(conn)
            self._conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction on the writer's connection (call from one thread: the writer)."""
        conn = self._writer_connection()
        try:
            with conn.pipeline() as pipeline, conn.transaction(), conn.cursor() as cur:
                yield _PgTx(cur, pipeline)
        except self._psycopg.OperationalError:
            conn.close()
            raise

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.execute(_pg(sql), params)
            return list(cur.fetchall())

    def transient(self, exc: BaseException) -> bool:
        from psycopg_pool import PoolTimeout

        errors = self._psycopg.errors
        retry: tuple[type[BaseException], ...] = (
            self._psycopg.OperationalError,
            PoolTimeout,
            errors.DeadlockDetected,
            errors.SerializationFailure,
        )
        return isinstance(exc, retry)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._pool.close()


def _redact(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


# -- migrations -------------------------------------------------------------------------------


def applied(backend: Backend) -> list[tuple[int, str, float]]:
    """(version, name, applied_at) of every migration applied, oldest first."""
    with backend.transaction() as tx:
        if backend.dialect == "postgres":
            # Created under the migrations' lock (two nodes creating it together would race on
            # the catalog), which is taken only when the table is missing: `db status` need not
            # wait for another node's migration.
            if tx.run("SELECT to_regclass('schema_migrations')")[0][0] is None:
                tx.run("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                tx.run(migrations_table(backend.dialect))
        else:
            tx.run(migrations_table(backend.dialect))
    rows = backend.read("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    return [(int(v), str(n), float(a)) for v, n, a in rows]


def upgrade(backend: Backend) -> list[int]:
    """Apply every migration not yet applied (each in its own transaction, taking a lock so
    two processes starting together do not both apply it); the versions applied now."""
    done = {v for v, _, _ in applied(backend)}
    now: list[int] = []
    for m in MIGRATIONS:
        if m.version in done:
            continue
        with backend.transaction() as tx:
            if backend.dialect == "postgres":
                tx.run("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            if tx.run("SELECT 1 FROM schema_migrations WHERE version = ?", (m.version,)):
                continue  # another process applied it meanwhile
            for statement in statements(m.sqlite if backend.dialect == "sqlite" else m.postgres):
                tx.run(statement)
            tx.run(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (m.version, m.name, time.time()),
            )
        now.append(m.version)
    return now


def pending(backend: Backend) -> list[int]:
    done = {v for v, _, _ in applied(backend)}
    return [m.version for m in MIGRATIONS if m.version not in done]


__all__ = ["LATEST", "Backend", "PostgresBackend", "SqliteBackend", "Tx", "pending", "upgrade"]

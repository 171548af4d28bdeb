"""Versioned schema migrations for SQLite and PostgreSQL, applied in order on start.

Each migration is (version, name, SQLite text, PostgreSQL text); ``schema_migrations`` records
which ran. A migration is never edited once released: a change is a new version. The tables:

- ``leads``: one row per lead — the sealed document (AES-256-GCM, its key id), campaign, source,
  the node routing it (``owner``), and once it ends its disposition and result (no PII).
- ``attempts``: the journal. A post's row is written as ``sending`` before its first byte leaves
  and becomes its outcome when classified; pings and checks are written once, done.
- ``attempts_archive``: attempts older than the hot window (monthly partitions on PostgreSQL).
- ``holds``: a buyer's claim on a lead. Reserved before the post, counted against caps while
  ``held`` or ``sold``; at most one live hold per lead (a unique index), so no lead is sold twice.
- ``jobs``: posts waiting for a retry (due time, attempt, reason), claimed with a lease.
- ``nodes``: every running process's lease; a node whose lease ran out is dead and its leads and
  jobs are recovered by the others.
- ``returns``, ``posts`` (answers for acceptance rates), ``buyer_locks`` (the row a PostgreSQL
  reservation locks with ``SELECT … FOR UPDATE``).
- ``suppressed_sealed`` (version 2): the suppression list, each phone or email sealed and found
  by its blind index (``digest``); version 1's ``suppressed`` kept them in clear, and a store
  opened with a key moves them over and empties it.
- version 3, for ``leadpost serve``: ``sources``, the API keys of lead sources and operators
  (only their SHA-256 hash) with the campaigns a source may post to; ``paused_buyers``, buyers an
  operator paused; ``operator_actions``, the audit of what operators did.
- version 4: ``attempts`` loses its (state, kind) index, which no query needs; every attempt row
  (50 pings an auction) wrote to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sqlite: str
    postgres: str


_V1_COMMON = """
CREATE TABLE leads (
    lead_id TEXT PRIMARY KEY, campaign TEXT NOT NULL, source TEXT, key_id TEXT, document {blob},
    received_at {real} NOT NULL, owner TEXT, disposition TEXT, buyer TEXT, price TEXT,
    reason TEXT, result TEXT, finished_at {real}, purged_at {real});
CREATE INDEX leads_received ON leads (received_at);
CREATE INDEX leads_source ON leads (source, received_at);
CREATE INDEX leads_status ON leads (disposition, owner);
CREATE TABLE attempts (
    id {serial}, lead_id TEXT NOT NULL, buyer TEXT NOT NULL, stage TEXT NOT NULL,
    attempt INTEGER NOT NULL, idem_key TEXT, state TEXT NOT NULL, kind TEXT, status INTEGER,
    started_at {real} NOT NULL, finished_at {real}, ms {real}, record TEXT, owner TEXT,
    UNIQUE (lead_id, buyer, stage, attempt));
CREATE INDEX attempts_time ON attempts (started_at);
CREATE INDEX attempts_buyer ON attempts (buyer, started_at);
CREATE INDEX attempts_status ON attempts (state, kind);
CREATE TABLE holds (
    id {serial}, lead_id TEXT, buyer TEXT NOT NULL, price TEXT,
    units BIGINT NOT NULL DEFAULT 0, at {real} NOT NULL, state TEXT NOT NULL);
CREATE UNIQUE INDEX holds_live ON holds (lead_id) WHERE state <> 'released';
CREATE INDEX holds_buyer ON holds (buyer, at);
CREATE TABLE buyer_locks (buyer TEXT PRIMARY KEY);
CREATE TABLE jobs (
    lead_id TEXT NOT NULL, buyer TEXT NOT NULL, stage TEXT NOT NULL, attempt INTEGER NOT NULL,
    due_at {real} NOT NULL, reason TEXT, prior TEXT, owner TEXT, lease_until {real},
    PRIMARY KEY (lead_id, buyer));
CREATE INDEX jobs_due ON jobs (due_at);
CREATE TABLE nodes (
    node TEXT PRIMARY KEY, lease_until {real} NOT NULL, started_at {real} NOT NULL,
    host TEXT, pid INTEGER);
CREATE TABLE returns (
    lead_id TEXT NOT NULL, buyer TEXT NOT NULL, reason TEXT NOT NULL, at {real} NOT NULL,
    price TEXT, PRIMARY KEY (lead_id, buyer));
CREATE INDEX returns_at ON returns (at);
CREATE TABLE posts (
    id {serial}, buyer TEXT NOT NULL, accepted INTEGER NOT NULL, at {real} NOT NULL);
CREATE INDEX posts_buyer_at ON posts (buyer, at);
CREATE TABLE suppressed (value TEXT PRIMARY KEY, added_at {real} NOT NULL);
"""

_ARCHIVE_COLUMNS = """
    id BIGINT, lead_id TEXT NOT NULL, buyer TEXT NOT NULL, stage TEXT NOT NULL,
    attempt INTEGER NOT NULL, idem_key TEXT, state TEXT NOT NULL, kind TEXT, status INTEGER,
    started_at {real} NOT NULL, finished_at {real}, ms {real}, record TEXT, owner TEXT"""

_SQLITE = {"blob": "BLOB", "real": "REAL", "serial": "INTEGER PRIMARY KEY"}
_PG = {"blob": "BYTEA", "real": "DOUBLE PRECISION", "serial": "BIGSERIAL PRIMARY KEY"}

_V2 = """
CREATE TABLE suppressed_sealed (
    digest TEXT PRIMARY KEY, key_id TEXT NOT NULL, sealed {blob} NOT NULL,
    added_at {real} NOT NULL);
CREATE INDEX suppressed_sealed_key ON suppressed_sealed (key_id);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "journal, leads, holds, jobs, nodes, returns",
        _V1_COMMON.format(**_SQLITE)
        + "CREATE TABLE attempts_archive ("
        + _ARCHIVE_COLUMNS.format(**_SQLITE)
        + ");\nCREATE INDEX attempts_archive_lead ON attempts_archive (lead_id);\n"
        + "CREATE INDEX attempts_archive_time ON attempts_archive (started_at);\n",
        _V1_COMMON.format(**_PG)
        + "CREATE TABLE attempts_archive ("
        + _ARCHIVE_COLUMNS.format(**_PG)
        + ") PARTITION BY RANGE (started_at);\n"
        + "CREATE INDEX attempts_archive_lead ON attempts_archive (lead_id);\n"
        + "CREATE INDEX attempts_archive_time ON attempts_archive (started_at);\n",
    ),
    Migration(
        2,
        "the suppression list sealed, found by blind index",
        _V2.format(**_SQLITE),
        _V2.format(**_PG),
    ),
)

_V3_SOURCES = """
CREATE TABLE sources (
    key_hash TEXT PRIMARY KEY, name TEXT NOT NULL, campaigns TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'source', created_at {real} NOT NULL, revoked_at {real});
CREATE INDEX sources_name ON sources (name);
CREATE TABLE paused_buyers (buyer TEXT PRIMARY KEY, by_whom TEXT NOT NULL, at {real} NOT NULL);
CREATE TABLE operator_actions (
    id {serial}, at {real} NOT NULL, operator TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT);
CREATE INDEX operator_actions_at ON operator_actions (at);
"""

MIGRATIONS += (
    Migration(
        3,
        "API keys of lead sources and operators, paused buyers, operator actions",
        _V3_SOURCES.format(**_SQLITE),
        _V3_SOURCES.format(**_PG),
    ),
)

# Every attempt row (50 pings per auction) paid for an index no query needs: (state, kind).
# Only the archive and the purge used it on SQLite, for ``state = 'done'``, which nearly every
# row matches; the time index, which reads only the old rows, serves them better. Dropping it
# is a change of the catalog only, so it applies at once however many attempts there are.
# (The buyer index could hold posts only, too, but building that index inside a migration's
# transaction would stop every node's writes for the whole build on PostgreSQL.)
_V4_INDEXES = """
DROP INDEX IF EXISTS attempts_status;
"""

MIGRATIONS += (
    Migration(
        4,
        "attempts: no index on (state, kind), which no query needs",
        _V4_INDEXES,
        _V4_INDEXES,
    ),
)

LATEST = MIGRATIONS[-1].version

MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {real} NOT NULL)"
)


def migrations_table(dialect: str) -> str:
    return MIGRATIONS_TABLE.format(real="REAL" if dialect == "sqlite" else "DOUBLE PRECISION")


def statements(text: str) -> list[str]:
    """The statements of a migration text (split on ``;`` at line ends; no ``;`` in literals)."""
    return [s.strip() for s in text.split(";\n") if s.strip().rstrip(";")]

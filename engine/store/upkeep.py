"""Keeping the store small and its data protected: archiving, purging, re-sealing under a new key.

- :func:`archive` moves attempts older than ``days`` (90 by default) into ``attempts_archive``
  (monthly partitions on PostgreSQL, made as needed), so the hot journal stays small; history and
  stats read both.
- :func:`purge` deletes lead documents (the only place personal data is stored) of finished leads
  received before a date, keeping their dispositions, counters and masked audit rows; and deletes
  masked audit rows older than the audit retention (five years unless set otherwise).
- :func:`rotate` re-seals every document and suppression-list entry sealed under an older key with
  the current one (recomputing the entry's blind index), a batch per transaction; records stay
  readable and findable the whole time (the keyring holds both keys).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.store.journal import SUPPRESSED, DurableStore

ARCHIVE_DAYS = 90
_ROTATE_BATCH = 500
_COLUMNS = (
    "id, lead_id, buyer, stage, attempt, idem_key, state, kind, status, started_at,"
    " finished_at, ms, record, owner"
)


def _months(start: float, end: float) -> list[tuple[str, float, float]]:
    """(suffix, from, to) of each calendar month (UTC) from ``start`` to ``end``."""
    at = datetime.fromtimestamp(start, UTC).replace(day=1, hour=0, minute=0, second=0,
                                                     microsecond=0)  # fmt: skip
    out = []
    while at.timestamp() <= end:
        nxt = at.replace(year=at.year + at.month // 12, month=at.month % 12 + 1)
        out.append((f"{at:%Y_%m}", at.timestamp(), nxt.timestamp()))
        at = nxt
    return out


def archive(store: DurableStore, now: float, days: int = ARCHIVE_DAYS) -> int:
    """Move finished attempts older than ``days`` to the archive; how many moved."""
    cutoff = now - days * 86400.0
    rows = store.backend.read(
        "SELECT MIN(started_at), MAX(started_at) FROM attempts"
        " WHERE started_at < ? AND state = 'done'",
        (cutoff,),
    )
    if not rows or rows[0][0] is None:
        return 0
    first, last = float(rows[0][0]), float(rows[0][1])

    def op(tx: Any) -> int:
        if store.backend.dialect == "postgres":
            for suffix, start, end in _months(first, last):
                tx.run(
                    f"CREATE TABLE IF NOT EXISTS attempts_archive_{suffix} PARTITION OF"
                    f" attempts_archive FOR VALUES FROM ({start!r}) TO ({end!r})"
                )
        tx.run(
            f"INSERT INTO attempts_archive ({_COLUMNS}) SELECT {_COLUMNS} FROM attempts"
            " WHERE started_at < ? AND state = 'done'",
            (cutoff,),
        )
        sql = "DELETE FROM attempts WHERE started_at < ? AND state = 'done'"
        deleted: int = tx.count(sql, (cutoff,))
        return deleted

    moved: int = store.writer.call(op)
    return moved


def purge(store: DurableStore, before: float, now: float, audit_days: int) -> tuple[int, int]:
    """(documents deleted, audit rows deleted): documents of finished leads received before
    ``before``; audit rows (attempts, archived or not) older than ``audit_days``."""
    audit_cutoff = now - audit_days * 86400.0

    def op(tx: Any) -> tuple[int, int]:
        docs = tx.count(
            "UPDATE leads SET document = NULL, key_id = NULL, purged_at = ?"
            " WHERE received_at < ? AND document IS NOT NULL AND disposition IS NOT NULL"
            " AND disposition <> 'scheduled'",
            (now, before),
        )
        audit = tx.count("DELETE FROM attempts WHERE started_at < ? AND state = 'done'",
                         (audit_cutoff,))  # fmt: skip
        audit += tx.count("DELETE FROM attempts_archive WHERE started_at < ?", (audit_cutoff,))
        return docs, audit

    got: tuple[int, int] = store.writer.call(op)
    return got


def rotate(store: DurableStore) -> int:
    """Re-seal every document and suppression-list entry not sealed with the current key; how
    many records were re-sealed."""
    return _rotate_documents(store) + _rotate_suppressions(store)


def _rotate_suppressions(store: DurableStore) -> int:
    """Each entry re-sealed, and its blind index recomputed, under the current key."""
    keys = store.keyring
    total = 0
    while True:
        rows = store.backend.read(
            "SELECT digest, key_id, sealed FROM suppressed_sealed WHERE key_id <> ? LIMIT ?",
            (keys.current, _ROTATE_BATCH),
        )
        if not rows:
            return total
        batch = []
        for digest, key_id, sealed in rows:
            value = keys.open(key_id, bytes(sealed), SUPPRESSED).decode()
            batch.append((digest, keys.digest(value), *keys.seal(value.encode(), SUPPRESSED)))

        def op(tx: Any, batch: list[tuple[str, str, str, bytes]] = batch) -> None:
            for old, new, key_id, blob in batch:
                tx.run(
                    "UPDATE suppressed_sealed SET digest = ?, key_id = ?, sealed = ?"
                    " WHERE digest = ?",
                    (new, key_id, blob, old),
                )

        store.writer.call(op)
        total += len(rows)


def _rotate_documents(store: DurableStore) -> int:
    keys = store.keyring
    total = 0
    while True:
        rows = store.backend.read(
            "SELECT lead_id, key_id, document FROM leads"
            " WHERE document IS NOT NULL AND key_id <> ? LIMIT ?",
            (keys.current, _ROTATE_BATCH),
        )
        if not rows:
            return total
        sealed = []
        for lead_id, key_id, document in rows:
            plain = keys.open(key_id, bytes(document), lead_id)
            sealed.append((lead_id, key_id, *keys.seal(plain, lead_id)))

        def op(tx: Any, batch: list[tuple[str, str, str, bytes]] = sealed) -> None:
            for lead_id, old, new, blob in batch:
                tx.run(
                    "UPDATE leads SET key_id = ?, document = ? WHERE lead_id = ? AND key_id = ?",
                    (new, blob, lead_id, old),
                )

        store.writer.call(op)
        total += len(rows)

"""Lead sources' API keys: made once, kept only as a SHA-256 hash, each naming its campaigns.

A key is 32 random bytes (``lps_`` and URL-safe base64), so a plain SHA-256 of it cannot be
turned back into the key by guessing: a slow password hash (bcrypt, argon2) protects low-entropy
passwords and would only cost every request time here. The key's text is shown once, when it is
made; the store can tell which source holds a key but never give the key back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from engine.store.backend import Tx
from engine.store.journal import DurableStore

PREFIX = "lps_"


@dataclass(frozen=True, slots=True)
class Source:
    """A lead source that may post leads to ``campaigns`` (``*`` stands for every campaign)."""

    name: str
    campaigns: tuple[str, ...]

    def may_post(self, campaign: str) -> bool:
        return "*" in self.campaigns or campaign in self.campaigns


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def add_source(store: DurableStore, name: str, campaigns: Sequence[str]) -> str:
    """Make a key for source ``name`` allowed to post to ``campaigns``; returns the key's text
    (the only time it is seen). A source may hold several keys (to rotate them)."""
    key = new_key()
    row = (key_hash(key), name, json.dumps(sorted(set(campaigns))), store.clock.wall().timestamp())

    def op(tx: Tx) -> None:
        tx.run(
            "INSERT INTO sources (key_hash, name, campaigns, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            row,
        )

    store.writer.call(op)
    return key


def revoke_source(store: DurableStore, name: str) -> int:
    """Revoke every key of source ``name``; how many were live."""
    now = store.clock.wall().timestamp()

    def op(tx: Tx) -> int:
        return tx.count(
            "UPDATE sources SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (now, name)
        )

    revoked: int = store.writer.call(op)
    return revoked


def find_source(store: DurableStore, key: str) -> Source | None:
    """The source holding the live key ``key``, or None."""
    wanted = key_hash(key)
    rows = store.backend.read(
        "SELECT key_hash, name, campaigns FROM sources WHERE key_hash = ? AND revoked_at IS NULL",
        (wanted,),
    )
    if not rows or not hmac.compare_digest(rows[0][0], wanted):
        return None
    return Source(rows[0][1], tuple(json.loads(rows[0][2])))


def list_sources(store: DurableStore) -> list[tuple[Source, int]]:
    """Every source with live keys, and how many it has."""
    rows = store.backend.read(
        "SELECT name, campaigns FROM sources WHERE revoked_at IS NULL ORDER BY name, created_at"
    )
    found: dict[str, tuple[set[str], int]] = {}
    for name, campaigns in rows:
        names, count = found.get(name, (set(), 0))
        found[name] = (names | set(json.loads(campaigns)), count + 1)
    return [(Source(n, tuple(sorted(c))), k) for n, (c, k) in found.items()]

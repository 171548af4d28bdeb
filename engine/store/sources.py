"""API keys of lead sources and operators: made once, kept only as a SHA-256 hash; a source's
key names its campaigns, an operator's key allows the operator's actions (pause a buyer,
redeliver a lead), each written to the audit (``operator_actions``) with who did it.

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
from typing import Any

from engine.store.backend import Tx
from engine.store.journal import DurableStore

PREFIX = "lps_"


@dataclass(frozen=True, slots=True)
class Source:
    """A lead source that may post leads to ``campaigns`` (``*`` stands for every campaign), or
    an operator (``role``)."""

    name: str
    campaigns: tuple[str, ...]
    role: str = "source"

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    def may_post(self, campaign: str) -> bool:
        return "*" in self.campaigns or campaign in self.campaigns


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def add_source(
    store: DurableStore, name: str, campaigns: Sequence[str], *, role: str = "source"
) -> str:
    """Make a key for source ``name`` allowed to post to ``campaigns`` (``role="operator"``: an
    operator's key); returns the key's text (the only time it is seen). A source may hold
    several keys (to rotate them)."""
    key = new_key()
    now = store.clock.epoch()
    row = (key_hash(key), name, json.dumps(sorted(set(campaigns))), role, now)

    def op(tx: Tx) -> None:
        tx.run(
            "INSERT INTO sources (key_hash, name, campaigns, role, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            row,
        )

    store.writer.call(op)
    return key


def revoke_source(store: DurableStore, name: str) -> int:
    """Revoke every key of source ``name``; how many were live."""
    now = store.clock.epoch()

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
        "SELECT key_hash, name, campaigns, role FROM sources"
        " WHERE key_hash = ? AND revoked_at IS NULL",
        (wanted,),
    )
    if not rows or not hmac.compare_digest(rows[0][0], wanted):
        return None
    return Source(rows[0][1], tuple(json.loads(rows[0][2])), rows[0][3])


def list_sources(store: DurableStore) -> list[tuple[Source, int]]:
    """Every source with live keys, and how many it has."""
    rows = store.backend.read(
        "SELECT name, campaigns, role FROM sources WHERE revoked_at IS NULL"
        " ORDER BY name, created_at"
    )
    found: dict[str, tuple[set[str], int, str]] = {}
    for name, campaigns, role in rows:
        names, count, _ = found.get(name, (set(), 0, role))
        found[name] = (names | set(json.loads(campaigns)), count + 1, role)
    return [(Source(n, tuple(sorted(c)), r), k) for n, (c, k, r) in found.items()]


# -- operators: paused buyers and the audit of their actions -----------------------------------


def record_action(
    store: DurableStore, operator: str, action: str, target: str, detail: str = ""
) -> Any:
    """The write (an Op) recording an operator's action; run it in the same transaction as the
    action itself, or alone."""
    now = store.clock.epoch()

    def op(tx: Tx) -> None:
        tx.run(
            "INSERT INTO operator_actions (at, operator, action, target, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            (now, operator, action, target, detail),
        )

    return op


def set_paused(store: DurableStore, operator: str, buyer: str, paused: bool) -> None:
    """Pause (or resume) ``buyer`` for every node of the store, and audit it (one commit)."""
    now = store.clock.epoch()
    audit = record_action(store, operator, "pause" if paused else "resume", buyer)

    def op(tx: Tx) -> None:
        if paused:
            tx.run(
                "INSERT INTO paused_buyers (buyer, by_whom, at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (buyer, operator, now),
            )
        else:
            tx.run("DELETE FROM paused_buyers WHERE buyer = ?", (buyer,))
        audit(tx)

    store.writer.call(op)


def paused_buyers(store: DurableStore) -> frozenset[str]:
    return frozenset(r[0] for r in store.backend.read("SELECT buyer FROM paused_buyers"))


def operator_actions(store: DurableStore, limit: int = 50) -> list[dict[str, Any]]:
    """The latest operator actions, newest first."""
    rows = store.backend.read(
        "SELECT at, operator, action, target, detail FROM operator_actions"
        " ORDER BY at DESC, id DESC LIMIT ?",
        (limit,),
    )
    return [{"at": float(r[0]), "operator": r[1], "action": r[2], "target": r[3],
             "detail": r[4]} for r in rows]  # fmt: skip

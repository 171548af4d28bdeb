"""Which store the commands open, from the environment (the same rules for every command).

- ``LEADPOST_DATABASE_URL=postgresql://…``: PostgreSQL (``LEADPOST_DATABASE_SCHEMA``, default
  ``public``); several nodes share it.
- otherwise SQLite in the data folder ``LEADPOST_DATA`` (default ``.leadpost/``), file
  ``leadpost.sqlite3``; ``LEADPOST_SQLITE_SYNC=full`` (default) or ``normal``.
- the key: see :mod:`engine.store.crypto`. Outside production, with no key configured, a key file
  is made in the data folder (readable by its owner only) so that later runs can read the leads;
  in production (``LEADPOST_ENV=production``) leadpost refuses to start without a key.
- ``LEADPOST_LEASE``: seconds a node stays alive without renewing its lease (default 30).
- ``LEADPOST_AUDIT_RETENTION_DAYS``: how long masked audit rows are kept (default five years).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from engine.errors import LeadpostError
from engine.store.crypto import DataKey, KeyError_, Keyring, keyring_from_env
from engine.store.journal import LEASE, DurableStore

DEFAULT_DATA = ".leadpost"
#: The guide: keep transaction logs at least five years (TCPA defence).
AUDIT_RETENTION_DAYS = 5 * 365 + 1


def data_folder(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("LEADPOST_DATA") or DEFAULT_DATA)


def audit_retention_days(environ: Mapping[str, str]) -> int:
    text = environ.get("LEADPOST_AUDIT_RETENTION_DAYS", "")
    if not text:
        return AUDIT_RETENTION_DAYS
    if not text.isdigit() or int(text) < 1:
        raise LeadpostError(
            f"LEADPOST_AUDIT_RETENTION_DAYS is {text!r}: give a whole number of days, e.g. 1826"
        )
    return int(text)


def keyring(environ: Mapping[str, str]) -> tuple[Keyring, str | None]:
    """The configured keyring, and a notice when a development key file was made now."""
    data = data_folder(environ)
    try:
        return keyring_from_env(environ, data), None
    except KeyError_:
        if environ.get("LEADPOST_ENV", "").lower() == "production":
            raise
        if environ.get("LEADPOST_KEY") or environ.get("LEADPOST_KEY_FILE"):
            raise
    key = DataKey.generate()
    data.mkdir(parents=True, exist_ok=True)
    path = data / "key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.text() + "\n")
    notice = (
        f"made a development encryption key in {path} (outside production only); in"
        " production set LEADPOST_KEY_FILE to a key made with `leadpost keys new`"
    )
    return Keyring([key]), notice


def open_store(
    environ: Mapping[str, str] | None = None, *, keys: Keyring | None = None
) -> tuple[DurableStore, str | None]:
    """The store the environment names, migrated to the latest schema, and a notice to show
    (a key file made), if any."""
    env = os.environ if environ is None else environ
    notice = None
    if keys is None:
        keys, notice = keyring(env)
    lease = float(env.get("LEADPOST_LEASE") or LEASE)
    url = env.get("LEADPOST_DATABASE_URL")
    if url:
        from engine.store.postgres import PostgresStore

        schema = env.get("LEADPOST_DATABASE_SCHEMA") or "public"
        return PostgresStore(url, schema=schema, keyring=keys, lease=lease), notice
    from engine.store.sqlite import FILE_NAME, SqliteStore

    sync = (env.get("LEADPOST_SQLITE_SYNC") or "full").lower()
    if sync not in ("full", "normal"):
        raise LeadpostError(f"LEADPOST_SQLITE_SYNC is {sync!r}: use full or normal")
    path = data_folder(env) / FILE_NAME
    return SqliteStore(path, keyring=keys, sync=sync, lease=lease), notice

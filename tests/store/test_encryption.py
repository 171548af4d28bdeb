"""Protection at rest: no planted personal data in the database files, key rotation, production
without a key, and a SIGKILLed demo leaving nothing readable behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engine.auction import Router
from engine.clock import SystemClock
from engine.runtime.executor import Runtime
from engine.sandbox.leads import make_leads
from engine.store import SqliteStore
from engine.store.crypto import DataKey, KeyError_, Keyring, keyring_from_env
from engine.store.postgres import PostgresStore
from engine.store.settings import keyring
from engine.store.upkeep import rotate
from tests.auction_kit import ENVIRON, accept, campaign, plan, sample_lead
from tests.buyer_server import BuyerServer
from tests.paths import REPO
from tests.store.kit import PG_URL, pg_schema

PII = ("Quillonfeather", "zyx.planted.person@example.org", "5125557391", "742 Evergreen Terrace")


def planted() -> dict[str, Any]:
    lead = sample_lead()
    person = lead["lead"]
    person.update(first_name=PII[0], email=PII[1], phone=PII[2])
    person["address"] = {**person["address"], "street": PII[3]}
    return lead


async def sell_planted(store: Any, server: BuyerServer) -> None:
    accept(server, "w1")
    camp = campaign([plan("poster", "w1", server.url)], mode="direct")
    async with Runtime(environ=ENVIRON, journal=store) as runtime:
        result = await Router(runtime, store, SystemClock(), env="test").route(
            camp, planted(), lead_id="lead-1"
        )
    assert result.sold
    assert server.received("/w1/post")[0].json()["email"] == PII[1]  # the buyer got it all


def found(blob: bytes) -> list[str]:
    variants = {p: (p.encode(), json.dumps(p).encode()) for p in PII}
    return [p for p, forms in variants.items() if any(f in blob for f in forms)]


@pytest.mark.anyio
async def test_the_sqlite_files_hold_none_of_a_planted_leads_pii(
    tmp_path: Path, buyer_server: BuyerServer
) -> None:
    """After selling a lead, the database and its WAL contain none of its personal data; the
    lead still reads back whole through the store."""
    store = SqliteStore(tmp_path / "s.db", keyring=Keyring([DataKey.generate()]))
    await sell_planted(store, buyer_server)
    store.writer.flush()
    assert store.get_lead("lead-1") is not None
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    store.close()
    blob += b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert len(blob) > 10_000
    assert found(blob) == []


@pytest.mark.anyio
async def test_the_postgres_tables_hold_none_of_a_planted_leads_pii(
    buyer_server: BuyerServer,
) -> None:
    """Every row of every table, as text, is free of the planted lead's personal data."""
    with pg_schema() as schema:
        store = PostgresStore(PG_URL, schema=schema)
        try:
            await sell_planted(store, buyer_server)
            store.writer.flush()
        finally:
            store.close()
        with psycopg.connect(PG_URL) as conn:
            tables = [t for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )]  # fmt: skip
            text = "".join(
                str(conn.execute(f'SELECT array_agg(t)::text FROM "{schema}"."{t}" t').fetchone())
                for t in tables
            )
    assert "attempts" in tables and "lead-1" in text
    assert found(text.encode()) == []


def test_rotation_keeps_every_record_readable(tmp_path: Path) -> None:
    """Records sealed with key A are re-sealed with B; meanwhile both read; afterwards B
    alone reads them all."""
    a, b = DataKey.generate(), DataKey.generate()
    with SqliteStore(tmp_path / "s.db", keyring=Keyring([a])) as store:
        for i in range(5):
            store.save_lead(f"L{i}", "c", {"n": i})
    with SqliteStore(tmp_path / "s.db", keyring=Keyring([b, a])) as store:
        store.save_lead("L5", "c", {"n": 5})
        assert [store.get_lead(f"L{i}") for i in (0, 5)] == [("c", {"n": 0}), ("c", {"n": 5})]
        assert rotate(store) == 5
        assert rotate(store) == 0
    with SqliteStore(tmp_path / "s.db", keyring=Keyring([b])) as store:
        assert [store.get_lead(f"L{i}") for i in range(6)] == [("c", {"n": i}) for i in range(6)]
    with SqliteStore(tmp_path / "s.db", keyring=Keyring([a])) as store, pytest.raises(
        KeyError_, match=f"sealed with key {b.id}, which is not configured"
    ):  # fmt: skip
        store.get_lead("L0")


def test_keys_are_read_from_the_environment_and_checked() -> None:
    """LEADPOST_KEY may hold several keys (the first seals); a damaged key is refused."""
    a, b = DataKey.generate(), DataKey.generate()
    ring = keyring_from_env({"LEADPOST_KEY": f"{b.text()},{a.text()}"})
    assert ring.current == b.id and {k.id for k in ring.keys} == {a.id, b.id}
    damaged = a.text()[:-2] + ("AA" if not a.text().endswith("AA") else "BB")
    with pytest.raises(KeyError_, match="is damaged"):
        keyring_from_env({"LEADPOST_KEY": damaged})
    with pytest.raises(KeyError_, match="looks like lpk1"):
        keyring_from_env({"LEADPOST_KEY": "hunter2"})


def test_production_without_a_key_is_refused_with_how_to_make_one(tmp_path: Path) -> None:
    """No key in production: refused, naming `leadpost keys new`. Elsewhere a development key
    file is made in the data folder, readable by its owner only."""
    env = {"LEADPOST_ENV": "production", "LEADPOST_DATA": str(tmp_path)}
    with pytest.raises(KeyError_, match="leadpost keys new"):
        keyring(env)
    ring, notice = keyring({"LEADPOST_DATA": str(tmp_path)})
    assert notice is not None and "development encryption key" in notice
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    assert keyring({"LEADPOST_DATA": str(tmp_path)})[0].current == ring.current


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_sigkilled_demo_leaves_no_clear_text_in_the_temp_folder(tmp_path: Path) -> None:
    """The demo is killed while selling; its temporary folder stays behind (nobody removed it),
    and none of the generated leads' emails or streets can be read in it."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    cmd = [sys.executable, "-m", "engine.cli", "demo", "--leads", "300"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "a simulated lead source posts" in line:
            break
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp.rglob("demo.sqlite3-wal")):
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    files = [p for p in tmp.rglob("*") if p.is_file()]
    assert any(p.name == "demo.sqlite3" for p in files), files
    blob = b"".join(p.read_bytes() for p in files)
    leads = make_leads(300, 2024, datetime.now(UTC))
    secrets = {lead["lead"]["email"] for lead in leads} | {
        lead["lead"]["address"]["street"] for lead in leads if lead["lead"].get("address")
    }
    assert len(secrets) > 100
    assert [s for s in secrets if s.encode() in blob] == []

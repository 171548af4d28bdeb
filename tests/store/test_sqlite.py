"""SqliteStore specifics: one WAL file made on first use, leads committed at once, batches."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from engine.clock import FakeClock
from engine.store import DEFAULT_PATH, SqliteStore
from tests.store.test_contract import T0, outcome


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    """What another connection sees in the file right now."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_default_path() -> None:
    """Without a path the store uses leadpost.sqlite3 in the working folder."""
    assert DEFAULT_PATH == "leadpost.sqlite3"
    assert SqliteStore().path == Path("leadpost.sqlite3")


def test_the_file_is_created_on_first_use_in_wal_mode(tmp_path: Path) -> None:
    """Constructing the store touches nothing; the first call creates the file, in WAL mode."""
    path = tmp_path / "leads.sqlite3"
    store = SqliteStore(path)
    assert not path.exists()
    store.save_lead("L1", "c", {})
    assert path.exists()
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]
    store.close()


def test_a_lead_is_committed_before_save_lead_returns(tmp_path: Path) -> None:
    """Another connection sees the lead (and every row queued before it) at once."""
    path = tmp_path / "s.db"
    store = SqliteStore(path, flush_interval=3600)
    store.save_attempt("L0", outcome())
    store.save_lead("L1", "home-auction", {"n": 1})
    assert rows(path, "SELECT lead_id, campaign FROM leads") == [("L1", "home-auction")]
    assert rows(path, "SELECT lead_id, kind FROM attempts") == [("L0", "accepted")]
    store.close()


def test_queued_rows_are_committed_in_batches(tmp_path: Path) -> None:
    """Rows wait in memory until batch_size of them are queued, then go in one commit."""
    path = tmp_path / "s.db"
    store = SqliteStore(path, flush_interval=3600, batch_size=3)
    store.save_lead("L1", "c", {})
    store.record_post("a", True, T0)
    store.record_post("a", False, T0)
    assert rows(path, "SELECT COUNT(*) FROM posts") == [(0,)]
    store.record_post("a", True, T0)
    assert rows(path, "SELECT COUNT(*) FROM posts") == [(3,)]
    store.close()


def test_close_commits_what_is_pending(tmp_path: Path) -> None:
    """Nothing queued is lost when the store is closed."""
    path = tmp_path / "s.db"
    store = SqliteStore(path, flush_interval=3600)
    store.save_result("L1", {"disposition": "sold"})
    store.close()
    assert rows(path, "SELECT lead_id FROM results") == [("L1",)]


def test_everything_survives_reopening(tmp_path: Path) -> None:
    """A new store on the same file reads leads, attempts, results, sales and posts back."""
    path = tmp_path / "s.db"
    clock = FakeClock(wall_start=T0 + timedelta(hours=1))
    with SqliteStore(path, clock=clock) as first:
        first.save_lead("L1", "home-auction", {"n": 1})
        first.save_attempt("L1", outcome())
        first.save_result("L1", {"disposition": "sold"})
        first.record_sale("a", Decimal("38.00"), T0)
        first.record_post("a", True, T0)
    with SqliteStore(path, clock=clock) as again:
        assert again.get_lead("L1") == ("home-auction", {"n": 1})
        assert [a["kind"] for a in again.attempts("L1")] == ["accepted"]
        assert again.get_result("L1") == {"disposition": "sold"}
        assert again.sales("a", T0) == (1, Decimal("38.00"))
        assert again.acceptance_rate("a", T0) == 1.0


def test_questions_older_than_the_ledger_are_answered_from_the_file(tmp_path: Path) -> None:
    """Sales older than the in-memory window (40 days) still count when asked about."""
    path = tmp_path / "s.db"
    old = datetime(2024, 1, 5, tzinfo=UTC)
    with SqliteStore(path) as first:
        first.record_sale("a", Decimal("10"), old)
        first.record_post("a", False, old)
        first.record_sale("a", Decimal("5"), T0)
    clock = FakeClock(wall_start=T0 + timedelta(days=1))
    with SqliteStore(path, clock=clock) as store:
        assert store.sales("a", T0 - timedelta(days=1)) == (1, Decimal("5"))
        assert store.sales("a", datetime(2024, 1, 1, tzinfo=UTC)) == (2, Decimal("15"))
        assert store.acceptance_rate("a", datetime(2024, 1, 1, tzinfo=UTC)) == 0.0

"""SQLite reads on their own connection: what is committed, without waiting for a write."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.store.backend import SqliteBackend


def test_a_read_does_not_wait_for_a_write_in_progress(tmp_path: Path) -> None:
    """While the writer holds a transaction open (as during a commit's fsync), a read — the
    router's suppression lookup on the event loop — answers at once with what is committed."""
    backend = SqliteBackend(tmp_path / "store.db")
    with backend.transaction() as tx:
        tx.run("CREATE TABLE t (v INTEGER)")
        tx.run("INSERT INTO t VALUES (1)")
    inside, release = threading.Event(), threading.Event()

    def write() -> None:
        with backend.transaction() as tx:
            tx.run("INSERT INTO t VALUES (2)")
            inside.set()
            release.wait(30)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert inside.wait(30)
        answered: list[object] = []
        reader = threading.Thread(
            target=lambda: answered.append(backend.read("SELECT SUM(v) FROM t")[0][0])
        )
        reader.start()
        reader.join(30)  # a bound for a failure only: with one shared connection it would hang
        assert answered == [1]  # the uncommitted row is not seen
    finally:
        release.set()
        writer.join(30)
    assert backend.read("SELECT SUM(v) FROM t")[0][0] == 3
    backend.close()


def test_an_in_memory_database_reads_what_it_wrote(tmp_path: Path) -> None:
    """A second connection to :memory: would be another database: it reads through the one."""
    backend = SqliteBackend(":memory:")
    with backend.transaction() as tx:
        tx.run("CREATE TABLE t (v INTEGER)")
        tx.run("INSERT INTO t VALUES (5)")
    assert backend.read("SELECT v FROM t") == [(5,)]
    backend.close()

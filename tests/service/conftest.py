"""Fixtures of the service tests: a store on SQLite and on PostgreSQL (never skipped)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.store.journal import DurableStore
from tests.store.kit import Made


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DurableStore]:
    """A fresh durable store of each kind (PostgreSQL: a schema of its own)."""
    made = Made(request.param, tmp_path)
    try:
        yield made.store()
    finally:
        made.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[DurableStore]:
    """A fresh durable store in a SQLite file (for tests that do not depend on the backend)."""
    made = Made("sqlite", tmp_path)
    try:
        yield made.store()
    finally:
        made.close()

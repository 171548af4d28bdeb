"""Fixtures of the store tests: the same test over memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.kit import BACKENDS, Made


@pytest.fixture(params=BACKENDS)
def made(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Made]:
    """A maker of stores on one fresh database of each kind (PostgreSQL: its own schema)."""
    m = Made(request.param, tmp_path)
    yield m
    m.close()


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Made]:
    """Like ``made``, for tests of several nodes on one database (not the in-memory store,
    which is one node by nature)."""
    m = Made(request.param, tmp_path)
    yield m
    m.close()

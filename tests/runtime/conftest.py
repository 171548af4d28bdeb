"""Fixtures of the runtime's tests (the executor's own are in executor/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.listener import Listener


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback listener counting the connections that reach it."""
    server = Listener()
    yield server
    server.close()

"""Every executor test runs over both wires: aiohttp directly and httpx (same loopback buyers)."""

from __future__ import annotations

import dataclasses

import pytest

from engine.runtime import transport


@pytest.fixture(autouse=True, params=["aiohttp", "httpx"])
def wire(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The HTTP/1.1 wire of every runtime the test makes without settings."""
    name: transport.Http1 = request.param
    settings = dataclasses.replace(transport.DEFAULT_SETTINGS, http1=name)
    monkeypatch.setattr(transport, "DEFAULT_SETTINGS", settings)
    return name

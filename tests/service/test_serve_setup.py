"""`leadpost serve`'s setup in-process: arguments to settings, files checked before listening,
the worker processes' factory, the store opened and closed (uvicorn itself is stubbed or run in
a thread here; tests/service/test_serve_command.py runs the real command)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from engine.cli import main
from engine.service.factory import SETTINGS, Settings, create_app
from engine.service.runner import ServiceThread
from engine.store.settings import open_store
from tests.paths import REPO

CAMPAIGNS = str(REPO / "integrations" / "campaigns")


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADPOST_DATA", str(tmp_path))
    monkeypatch.delenv("LEADPOST_DATABASE_URL", raising=False)
    return tmp_path


def test_serve_builds_the_service_and_hands_it_to_uvicorn(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One process: uvicorn.Server gets the application on the chosen host and port; the
    banner names the store, the campaigns and the dashboard. --workers 2: uvicorn.run gets the
    factory and the settings travel in LEADPOST_SERVE."""
    served: list[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: served.append(self.config))
    code = main(["serve", "--campaigns", CAMPAIGNS, "--port", "8123", "--health-every", "1h",
                 "--max-lag", "0.05", "--no-watch"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and served[0].port == 8123 and served[0].host == "127.0.0.1"
    assert "leadpost serve on http://127.0.0.1:8123" in out and "home-auction" in out
    assert "dashboard http://127.0.0.1:8123/" in out
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv(SETTINGS, raising=False)
    code = main(["serve", "--campaigns", CAMPAIGNS, "--workers", "2", "--health-every", "off",
                 "--admission", "off"])  # fmt: skip
    assert code == 0 and calls[0][0] == "engine.service.factory:create_app"
    assert calls[0][1]["workers"] == 2 and calls[0][1]["factory"] is True
    settings = json.loads(os.environ[SETTINGS])
    assert settings["health_every"] is None and settings["admission"] is False
    assert settings["campaigns"] == CAMPAIGNS


def test_a_campaign_with_problems_stops_serve_before_it_listens(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A campaign folder with no campaign: the command says so and exits 1, never listening."""
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: pytest.fail("it listened"))
    empty = tmp_path / "none"
    empty.mkdir()
    assert main(["serve", "--campaigns", str(empty)]) == 1
    assert "no campaign files in" in capsys.readouterr().err


def test_the_worker_factory_serves_and_closes_its_store(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_app (what each --workers process runs) reads LEADPOST_SERVE, opens the store of
    the environment, serves, and closes the store when it stops."""
    # admission off: readiness must not depend on how busy the machine is (loop lag)
    settings = Settings(campaigns=CAMPAIGNS, health_every=None, watch=False, admission=False)
    monkeypatch.setenv(SETTINGS, settings.to_env())
    app = create_app()
    with ServiceThread(app) as running:
        ready = httpx.get(running.url + "/readyz", timeout=10)
        assert ready.status_code == 200 and "home-auction" in ready.json()["campaigns"]
    store, _ = open_store({"LEADPOST_DATA": str(data)})
    try:  # closing a store ends its node's lease (lease_until 0)
        ended = store.backend.read("SELECT COUNT(*) FROM nodes WHERE lease_until = 0")[0][0]
    finally:
        store.close()
    assert ended == 1

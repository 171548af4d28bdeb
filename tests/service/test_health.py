"""Scheduled health checks: each buyer's test environment probed with the preflight checklist;
results kept, shown on the dashboard, logged, and alerted on."""

from __future__ import annotations

import socket
import time

import pytest

from engine.service.alerts import DEFAULT_RULES, load_rules
from engine.service.health import HealthChecks
from engine.store.journal import DurableStore
from tests.auction_kit import campaign, plan
from tests.buyer_server import BuyerServer
from tests.service.kit import serving


def closed_port() -> str:
    """An address on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_health_checks_find_the_dead_buyer(
    sqlite_store: DurableStore, buyer_server: BuyerServer, caplog: pytest.LogCaptureFixture
) -> None:
    """alive answers; dead refuses connections: its check fails (logged with the failed item),
    the dashboard lists both results, and the 'scheduled health check failed' alert fires for
    dead only."""
    camp = campaign([plan("poster", "alive", buyer_server.url),
                     plan("poster", "dead", closed_port())], mode="waterfall")  # fmt: skip
    health = HealthChecks(3600.0, first=0.0)
    with serving(sqlite_store, [camp], health=health, rules=load_rules(DEFAULT_RULES),
                 alert_interval=0.05) as svc, svc.client() as client:  # fmt: skip
        for _ in range(1000):  # until the first round and an alert look are done
            board = client.get("/dashboard.json").json()
            if len(board["health"]) == 2 and board["alerts"]:
                break
            time.sleep(0.02)
    results = {h["buyer"]: h for h in board["health"]}
    assert results["alive"]["ok"] is True and results["dead"]["ok"] is False
    assert any(f.startswith("endpoint reachable: no connection") for f in results["dead"]["failed"])
    fired = {(a["buyer"], a["rule"]) for a in board["alerts"]}
    assert ("dead", "scheduled health check failed") in fired
    assert ("alive", "scheduled health check failed") not in fired
    assert "health check of dead (test) failed: endpoint reachable" in caplog.text

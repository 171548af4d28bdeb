"""Alert rules: the file (every problem at its line), the judging, and fired alerts in the log,
on the dashboard and at a webhook; reloading rules and campaigns (SIGHUP's work)."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from pathlib import Path

import pytest

from engine.errors import AuthoringError, LeadpostError
from engine.service.alerts import DEFAULT_RULES, MEASURES, Rules, judge, load_rules
from engine.service.catalog import Catalog
from engine.service.factory import Settings, build_service
from engine.store.journal import DurableStore
from tests.auction_kit import bid, campaign, plan, refuse
from tests.buyer_server import BuyerServer, Reply
from tests.paths import REPO
from tests.service.kit import Running, catalog, sample_body, serving, source_key


def test_the_default_rules_are_the_guides() -> None:
    """The shipped file loads: five critical and five warning rules, every measure used."""
    rules = load_rules(DEFAULT_RULES)
    assert rules.window == 3600.0
    assert [r.severity for r in rules.rules].count("critical") == 5
    assert [r.severity for r in rules.rules].count("warning") == 5
    assert {r.measure for r in rules.rules} == set(MEASURES)


def test_a_bad_rules_file_names_every_problem(tmp_path: Path) -> None:
    """Unknown measure, bad severity, two comparisons and a word for a number: every one
    reported at once, each at its line (LP556)."""
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "window: 1h\nrules:\n"
        "  - name: a\n    severity: loud\n    measure: success_rate\n    below: 0.8\n"
        "  - name: b\n    severity: warning\n    measure: speed\n    above: 1\n    below: 2\n"
        "  - name: c\n    severity: warning\n    measure: queue_depth\n    above: many\n"
    )
    with pytest.raises(AuthoringError) as caught:
        load_rules(path)
    issues = caught.value.issues
    assert all(i.code == "LP556" for i in issues)
    lines = sorted((i.span.line if i.span else 0) for i in issues)
    assert lines == [4, 7, 9, 15]
    assert "rule 2: measure is one of success_rate" in caught.value.report()


def test_judging_rates_streaks_and_the_queue() -> None:
    """success_rate waits for min_posts; at_least includes the threshold; queue_depth is the
    service's own."""
    rules = load_rules(DEFAULT_RULES)
    measures = {
        "alpha": {"posts": 20.0, "success_rate": 0.8, "consecutive_failures": 5.0},
        "beta": {"posts": 3.0, "success_rate": 0.0, "consecutive_failures": 3.0},
        "gamma": {"posts": 20.0, "success_rate": 0.88, "auth_failures": 1.0},
    }
    fired = {(f.buyer, f.rule) for f in judge(rules, measures, depth=1001)}
    assert fired == {
        ("alpha", "delivery success below 85%"),
        ("alpha", "delivery success below 90%"),
        ("alpha", "5 or more failed posts in a row"),
        ("gamma", "delivery success below 90%"),
        ("gamma", "authentication failure"),
        (None, "retry queue above capacity"),
    }
    assert judge(Rules(3600.0, (), "x"), measures, 5000) == []


def test_fired_alerts_reach_the_log_the_dashboard_and_the_webhook(
    sqlite_store: DurableStore, buyer_server: BuyerServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A buyer that turns down five posts in a row fires the critical streak alert: it is
    logged once, listed by /dashboard.json and POSTed to the webhook as firing."""
    s = buyer_server
    bid(s, "alpha", "9.00")
    refuse(s, "alpha")
    s.default("/hook", Reply(204))
    camp = campaign([plan("bidder", "alpha", s.url)])
    key = source_key(sqlite_store)
    rules = load_rules(DEFAULT_RULES)
    caplog.set_level(logging.WARNING, logger="leadpost.alerts")
    with serving(sqlite_store, [camp], rules=rules, alert_interval=0.05,
                 webhook=s.url + "/hook") as svc, svc.client(key) as client:  # fmt: skip
        for _ in range(5):
            r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
            assert r.json()["disposition"] == "unsold"
        for _ in range(1000):  # until the alert loop has looked (no timing is asserted)
            if s.received("/hook"):
                break
            time.sleep(0.01)
        board = client.get("/dashboard.json").json()
    hooks = [r.json() for r in s.received("/hook")]
    assert hooks[0]["status"] == "firing"
    assert hooks[0]["alert"]["rule"] == "5 or more failed posts in a row"
    assert hooks[0]["alert"]["buyer"] == "alpha" and hooks[0]["alert"]["severity"] == "critical"
    assert any(a["rule"] == "5 or more failed posts in a row" for a in board["alerts"])
    streak = [r for r in caplog.records if "failed posts in a row" in r.getMessage()]
    assert len(streak) == 1 and streak[0].levelno == logging.ERROR


def test_reload_keeps_the_previous_version_when_a_file_is_wrong(
    sqlite_store: DurableStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A catalog that fails to load is refused with its problems logged, and the old campaigns
    keep serving; a good one replaces them (the worker too). Rules likewise."""
    first = campaign([])
    renamed = dataclasses.replace(first, campaign="renamed")
    versions: list[Catalog | Exception] = [
        LeadpostError("no campaign files in x"),
        catalog(renamed),
    ]
    rules_path = tmp_path / "alerts.yaml"
    rules_path.write_text("rules:\n  - name: x\n")

    def loader() -> Catalog:
        item = versions.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    with serving(sqlite_store, [first], loader=loader, rules_path=rules_path) as svc:
        service = svc.service
        assert service.reload() is False
        assert list(service.catalog.campaigns) == ["test-campaign"]
        assert "campaigns not reloaded" in caplog.text and "alert rules not reloaded" in caplog.text
        rules_path.write_text(DEFAULT_RULES.read_text())
        assert service.reload() is True
        assert service.rules is not None and len(service.rules.rules) == 10
        assert list(service.catalog.campaigns) == ["renamed"]
        assert service.worker is not None and list(service.worker.campaigns) == ["renamed"]


def test_a_changed_file_reloads_the_campaigns(
    sqlite_store: DurableStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Watching the project: a campaign file edited on disk is reloaded by itself; a broken
    edit is refused and the last good version keeps serving."""
    root = tmp_path / "integrations"
    shutil.copytree(REPO / "integrations", root)
    settings = Settings(campaigns=str(root / "campaigns"), alerts=str(DEFAULT_RULES))
    assert settings.watched()[0] == root.resolve()
    service = build_service(settings, sqlite_store)
    service.debounce_ms = 50
    assert service.catalog.campaigns["harbor-direct"].plan.name == "Harbor Mutual exclusive"
    with Running(service):
        path = root / "campaigns" / "harbor-direct.yaml"
        path.write_text(path.read_text().replace("Harbor Mutual exclusive", "Harbor only"))
        for _ in range(1000):  # until the watcher has reloaded (no timing is asserted)
            if service.catalog.campaigns["harbor-direct"].plan.name == "Harbor only":
                break
            time.sleep(0.01)
        assert service.catalog.campaigns["harbor-direct"].plan.name == "Harbor only"
        before = service.catalog
        path.write_text(path.read_text().replace("mode: direct", "mode: lottery"))
        for _ in range(1000):  # until the watcher has tried (no timing is asserted)
            if "campaigns not reloaded" in caplog.text:
                break
            time.sleep(0.01)
        assert "campaigns not reloaded" in caplog.text and "harbor-direct.yaml" in caplog.text
        assert service.catalog is before

"""/metrics in Prometheus format after leads were sold, and the served OpenAPI document."""

from __future__ import annotations

import dataclasses
import re

from prometheus_client.parser import text_string_to_metric_families
from ruamel import yaml

from engine.plan import RetryPlan
from engine.service.app import OPENAPI
from engine.store.journal import DurableStore
from tests.auction_kit import accept, bid, campaign, plan
from tests.buyer_server import BuyerServer, Reply
from tests.service.kit import sample_body, serving, source_key


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_leads_posts_outcomes_and_revenue(
    sqlite_store: DurableStore, buyer_server: BuyerServer
) -> None:
    """Two leads sold to beta at $20: leads by source and campaign, pings and posts per buyer
    and outcome, a response-time histogram per buyer and stage, revenue, breaker state per
    endpoint, queue depth, in-flight and loop lag."""
    s = buyer_server
    bid(s, "alpha", None)
    bid(s, "beta", "20.00")
    accept(s, "beta")
    camp = campaign([plan("bidder", "alpha", s.url), plan("bidder", "beta", s.url)])
    key = source_key(sqlite_store, "web")
    with serving(sqlite_store, [camp]) as svc, svc.client(key) as client:
        for _ in range(2):
            r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
            assert r.json()["disposition"] == "sold"
        page = client.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    m = samples(page.text)
    c = ("campaign", "test-campaign")
    assert m[("leadpost_leads_received_total", (c, ("source", "web")))] == 2
    assert m[("leadpost_leads_total", (c, ("disposition", "sold")))] == 2
    beta_post = (("buyer", "beta"), ("outcome", "accepted"), ("stage", "post"))
    assert m[("leadpost_buyer_attempts_total", beta_post)] == 2
    assert m[("leadpost_buyer_attempts_total", (("buyer", "alpha"), ("outcome", "rejected"),
                                                ("stage", "ping")))] == 2  # fmt: skip
    count = ("leadpost_buyer_response_seconds_count", (("buyer", "beta"), ("stage", "ping")))
    assert m[count] == 2
    assert m[("leadpost_revenue_total", (("buyer", "beta"), c))] == 40.0
    assert m[("leadpost_breaker_state", (("endpoint", "beta/test"),))] == 0
    assert m[("leadpost_queue_depth", ())] == 0
    assert ("leadpost_loop_lag_seconds", ()) in m and ("leadpost_leads_in_flight", ()) in m
    assert m[("leadpost_token_fetches_total", ())] == 0  # no OAuth buyer here


def test_retries_timeouts_and_recoveries_are_counted(
    sqlite_store: DurableStore, buyer_server: BuyerServer
) -> None:
    """A waterfall: first answers a 500 and is sent again at once (a retry), then turns the
    lead down, so the fallback buyer saver buys it (a recovery); for the next lead first's
    retry is accepted (a retry that succeeded). A bidder answering after the ping deadline is
    a timeout."""
    s = buyer_server
    bid(s, "slow", "30.00", delay=0.5)
    s.script(
        "/first/post",
        Reply(500), Reply.json({"status": "rejected", "reason": "no"}),
        Reply(500), Reply.json({"status": "accepted", "lead_id": "F1"}),
    )  # fmt: skip
    accept(s, "saver")
    again = RetryPlan(max_attempts=2, interval=0.01, jitter="none", give_up_after=1e9)
    first = dataclasses.replace(plan("poster", "first", s.url), retry=again)
    waterfall = campaign([first], fallback=[plan("poster", "saver", s.url)], mode="waterfall")
    auction = dataclasses.replace(
        campaign([plan("bidder", "slow", s.url)], ping=0.1), campaign="auction"
    )
    key = source_key(sqlite_store, "web")
    with serving(sqlite_store, [waterfall, auction]) as svc, svc.client(key) as client:
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.json()["buyer"] == "saver", r.text
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.json()["buyer"] == "first", r.text
        r = client.post("/v1/leads", params={"campaign": "auction"}, json=sample_body())
        assert r.json()["disposition"] == "unsold", r.text
        m = samples(client.get("/metrics").text)
    first_post = (("buyer", "first"), ("stage", "post"))
    assert m[("leadpost_retries_total", (*first_post[:1], ("outcome", "rejected"),
                                         first_post[1]))] == 1  # fmt: skip
    assert m[("leadpost_retries_total", (*first_post[:1], ("outcome", "accepted"),
                                         first_post[1]))] == 1  # fmt: skip
    assert m[("leadpost_waterfall_recoveries_total", (("campaign", "test-campaign"),))] == 1
    assert m[("leadpost_timeouts_total", (("buyer", "slow"), ("stage", "ping")))] == 1


def test_the_openapi_document_is_served(sqlite_store: DurableStore) -> None:
    """GET /openapi.yaml serves the document kept in the repository."""
    with serving(sqlite_store, [campaign([])]) as svc, svc.client() as client:
        r = client.get("/openapi.yaml")
    assert r.status_code == 200 and r.content == OPENAPI.read_bytes()


def test_the_prometheus_rules_use_metrics_the_service_exports(
    sqlite_store: DurableStore, buyer_server: BuyerServer
) -> None:
    """Every metric named in prometheus-rules.yaml is one /metrics exports, and every rule has
    a severity and a summary (so the shipped rules cannot drift from the code)."""
    rules_file = OPENAPI.with_name("prometheus-rules.yaml")
    doc = yaml.YAML(typ="safe").load(rules_file.read_text())
    rules = [r for group in doc["groups"] for r in group["rules"]]
    assert len(rules) >= 8
    named = {m for r in rules for m in re.findall(r"leadpost_[a-z_]+", r["expr"])}
    bid(buyer_server, "alpha", "9.00")
    accept(buyer_server, "alpha")
    camp = campaign([plan("bidder", "alpha", buyer_server.url)])
    key = source_key(sqlite_store)
    with serving(sqlite_store, [camp]) as svc, svc.client(key) as client:
        client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        exported = {name for name, _ in samples(client.get("/metrics").text)}
    assert named and named <= exported, named - exported
    for r in rules:
        assert r["labels"]["severity"] in ("critical", "warning") and r["annotations"]["summary"]

"""/metrics in Prometheus format after leads were sold, and the served OpenAPI document."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from engine.service.app import OPENAPI
from engine.store.journal import DurableStore
from tests.auction_kit import accept, bid, campaign, plan
from tests.buyer_server import BuyerServer
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


def test_the_openapi_document_is_served(sqlite_store: DurableStore) -> None:
    """GET /openapi.yaml serves the document kept in the repository."""
    with serving(sqlite_store, [campaign([])]) as svc, svc.client() as client:
        r = client.get("/openapi.yaml")
    assert r.status_code == 200 and r.content == OPENAPI.read_bytes()

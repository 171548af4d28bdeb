"""``POST /v1/leads`` and ``GET /v1/leads/{id}`` on a real server with loopback buyers."""

from __future__ import annotations

import json
import time

from engine.errors import LeadError
from engine.lead import validate_lead
from engine.lead.schema import load_lead_schema
from engine.store.journal import DurableStore
from tests.auction_kit import PII_VALUES, accept, bid, campaign, plan, refuse
from tests.buyer_server import BuyerServer
from tests.paths import REPO
from tests.service.kit import sample_body, serving, source_key


def test_a_lead_is_sold_and_its_trail_is_masked(
    store: DurableStore, buyer_server: BuyerServer
) -> None:
    """Two bidders: the lead goes to the higher bid; the answer names buyer, price and lead id;
    the store records the lead under its source; GET shows the disposition and a trail without
    the lead's personal data; a second lead reuses the same runtime (one token cache, breakers)."""
    s = buyer_server
    bid(s, "alpha", "12.50")
    bid(s, "beta", "20.00")
    accept(s, "alpha")
    accept(s, "beta")
    camp = campaign([plan("bidder", "alpha", s.url), plan("bidder", "beta", s.url)])
    key = source_key(store, "web-form", ["test-campaign"])
    with serving(store, [camp]) as svc, svc.client(key) as client:
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["disposition"] == "sold" and body["buyer"] == "beta"
        assert body["price"] == "20.00" and body["lead_id"].startswith("ld-")
        trail = client.get(f"/v1/leads/{body['lead_id']}")
        assert trail.status_code == 200
        t = trail.json()
        assert t["disposition"] == "sold" and t["source"] == "web-form"
        assert {a["stage"] for a in t["attempts"]} == {"ping", "post"}
        assert not any(v in trail.text for v in PII_VALUES)
        second = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert second.json()["disposition"] == "sold"
    assert store.get_result(body["lead_id"])["disposition"] == "sold"  # type: ignore[index]


def test_unsold_and_wait_false(sqlite_store: DurableStore, buyer_server: BuyerServer) -> None:
    """Nobody accepts: 200 unsold with every buyer's reason. ?wait=false answers 202 with the
    lead id once the lead is stored; the lead is then sold in the background and GET shows how
    it ended."""
    s = buyer_server
    bid(s, "alpha", "12.50")
    refuse(s, "alpha", "duplicate lead")
    camp = campaign([plan("bidder", "alpha", s.url)])
    key = source_key(sqlite_store)
    with serving(sqlite_store, [camp]) as svc, svc.client(key) as client:
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.status_code == 200
        assert r.json()["disposition"] == "unsold" and "alpha" in r.json()["reasons"]
        r = client.post(
            "/v1/leads", params={"campaign": "test-campaign", "wait": "false"}, json=sample_body()
        )
        assert r.status_code == 202 and r.json()["disposition"] == "queued"
        lead_id = r.json()["lead_id"]
        assert r.headers["location"] == f"/v1/leads/{lead_id}"
        assert sqlite_store.get_lead(lead_id) is not None  # stored before the answer
        for _ in range(500):
            got = client.get(f"/v1/leads/{lead_id}").json()
            if got["status"] != "in flight":
                break
            time.sleep(0.01)  # polling for the background sale; no timing is asserted
        assert got["disposition"] == "unsold"


def test_a_bad_lead_names_every_bad_field_like_the_cli(sqlite_store: DurableStore) -> None:
    """422 with every problem: the same codes and messages as validating the lead in-process
    (what `leadpost route` prints)."""
    doc = sample_body()
    address = {**doc["lead"]["address"], "state": "ZZ", "zip": "1"}
    doc["lead"] = {**doc["lead"], "email": "not-an-email", "address": address}
    del doc["lead"]["first_name"]
    schema = load_lead_schema(REPO / "integrations" / "lead-schema.yaml")
    try:
        validate_lead(schema, doc)
        raise AssertionError("the lead should be refused")
    except LeadError as exc:
        expected = [(i.code, i.message) for i in exc.issues]
    assert len(expected) >= 3
    key = source_key(sqlite_store)
    with serving(sqlite_store, [campaign([])]) as svc, svc.client(key) as client:
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=doc)
    assert r.status_code == 422
    body = r.json()
    assert [(p["code"], p["message"]) for p in body["problems"]] == expected
    assert body["error"] == f"the lead has {len(expected)} problems"
    fields = {p["field"] for p in body["problems"]}
    assert {"lead.first_name", "lead.email", "lead.address.state"} <= fields


def test_requests_refused_cleanly(sqlite_store: DurableStore) -> None:
    """Malformed JSON 400 (LP512), wrong content type 415, too large 413 (declared or
    streamed), no key / unknown key 401, other campaign 403, unknown campaign 404, none 422:
    each a JSON refusal with its code, never a traceback."""
    key = source_key(sqlite_store, "aff", ["other"])
    good = source_key(sqlite_store, "web", ["test-campaign"])
    camp = campaign([])
    with serving(sqlite_store, [camp], max_body=2048) as svc, svc.client(good) as client:
        q = {"campaign": "test-campaign"}
        headers = {"content-type": "application/json"}
        cases = [
            (client.post("/v1/leads", params=q, content=b'{"a": ', headers=headers), 400, "LP512"),
            (client.post("/v1/leads", params=q, content=b"a=b",
                         headers={"content-type": "application/x-www-form-urlencoded"}),
             415, "LP550"),
            (client.post("/v1/leads", params=q, content=b"{}"), 415, "LP550"),
            (client.post("/v1/leads", params=q, content=b"x" * 5000, headers=headers), 413,
             "LP551"),
            (client.post("/v1/leads", params=q, content=iter([b"[", b" " * 4000, b"]"]),
                         headers=headers), 413, "LP551"),
            (client.post("/v1/leads", params={"campaign": "nope"}, json={}), 404, "LP552"),
            (client.post("/v1/leads", params={"campaign": "nope"}, json={},
                         headers={"authorization": ""}), 401, "LP553"),
            (client.post("/v1/leads", json={}), 422, "LP552"),
            (client.post("/v1/leads", params=q, json={}, headers={"authorization": ""}), 401,
             "LP553"),
            (client.post("/v1/leads", params=q, json={},
                         headers={"authorization": "Bearer lps_wrong"}), 401, "LP553"),
            (client.post("/v1/leads", params=q, json={}, headers={"authorization": "",
                                                                   "x-api-key": key}),
             403, "LP554"),
        ]  # fmt: skip
        for response, status, code in cases:
            assert response.status_code == status, (status, response.text)
            body = json.loads(response.text)
            assert body["status"] == status and body["problems"][0]["code"] == code
        metrics = client.get("/metrics").text
    assert 'leadpost_leads_refused_total{status="401"} 3.0' in metrics


def test_health_and_readiness(sqlite_store: DurableStore) -> None:
    """/healthz says the process is up; /readyz that the store answers and campaigns are loaded."""
    with serving(sqlite_store, [campaign([])]) as svc, svc.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["campaigns"] == ["test-campaign"]


def test_a_source_sees_only_its_own_leads(sqlite_store: DurableStore, buyer_server: BuyerServer
                                          ) -> None:  # fmt: skip
    """GET of another source's lead is 404, as for a lead that does not exist."""
    bid(buyer_server, "alpha", "5.00")
    accept(buyer_server, "alpha")
    camp = campaign([plan("bidder", "alpha", buyer_server.url)])
    mine, theirs = source_key(sqlite_store, "mine"), source_key(sqlite_store, "theirs")
    with serving(sqlite_store, [camp]) as svc, svc.client(mine) as client:
        lead_id = client.post("/v1/leads", params={"campaign": "test-campaign"},
                              json=sample_body()).json()["lead_id"]  # fmt: skip
        assert client.get(f"/v1/leads/{lead_id}").status_code == 200
        other = client.get(f"/v1/leads/{lead_id}", headers={"authorization": f"Bearer {theirs}"})
        assert other.status_code == 404
        assert client.get("/v1/leads/ld-none").status_code == 404


def test_a_failure_inside_leadpost_parks_the_lead(sqlite_store: DurableStore) -> None:
    """If selling raises (a bug), the answer is a JSON 500 naming the lead, and the stored lead
    ends `unknown` (parked for an operator, never offered to a second buyer) — not a traceback,
    not a lead left without a disposition."""
    key = source_key(sqlite_store)
    with serving(sqlite_store, [campaign([])]) as svc, svc.client(key) as client:
        router = svc.service.router
        assert router is not None

        async def broken(*args: object, **kw: object) -> object:
            raise RuntimeError("a bug")

        router.route = broken  # type: ignore[method-assign, assignment]
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
    assert r.status_code == 500 and "parked for an operator" in r.json()["error"]
    result = sqlite_store.get_result(r.json()["lead_id"])
    assert result is not None and result["disposition"] == "unknown"

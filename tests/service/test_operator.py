"""Operator actions: pause and resume a buyer, redeliver a lead — operator keys only, each
written to the audit; a paused buyer is offered nothing new."""

from __future__ import annotations

from engine.store.journal import DurableStore
from engine.store.sources import add_source, operator_actions, paused_buyers
from tests.auction_kit import accept, bid, campaign, plan, refuse
from tests.buyer_server import BuyerServer
from tests.service.kit import sample_body, serving, source_key


def test_pause_resume_and_redeliver(store: DurableStore, buyer_server: BuyerServer) -> None:
    """A source's key may not pause (403). The operator pauses beta (the higher bidder): the
    next lead goes to alpha and beta is not pinged; resumed, beta wins again. An unsold lead
    is redelivered to alpha and sold; a sold one is refused (409). Every action is audited
    with the operator's name, in order."""
    s = buyer_server
    bid(s, "alpha", "5.00")
    bid(s, "beta", "9.00")
    accept(s, "alpha")
    accept(s, "beta")
    camp = campaign([plan("bidder", "alpha", s.url), plan("bidder", "beta", s.url)])
    source = source_key(store, "web")
    ops = add_source(store, "olga", ["*"], role="operator")
    with serving(store, [camp]) as svc, svc.client(source) as web:
        op = {"Authorization": f"Bearer {ops}"}
        assert web.post("/v1/buyers/beta/pause").status_code == 403
        assert web.post("/v1/buyers/nobody/pause", headers=op).status_code == 404
        r = web.post("/v1/buyers/beta/pause", headers=op)
        assert r.status_code == 200 and r.json() == {"buyer": "beta", "paused": True, "by": "olga"}
        pings = len(s.received("/beta/ping"))
        sold = web.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert sold.json()["buyer"] == "alpha" and len(s.received("/beta/ping")) == pings
        assert paused_buyers(store) == {"beta"}
        assert web.post("/v1/buyers/beta/resume", headers=op).json()["paused"] is False
        again = web.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert again.json()["buyer"] == "beta"
        refuse(s, "alpha")
        refuse(s, "beta")
        unsold = web.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert unsold.json()["disposition"] == "unsold"
        accept(s, "alpha")
        lead_id = unsold.json()["lead_id"]
        assert web.post(f"/v1/leads/{lead_id}/redeliver").status_code == 403
        r = web.post(f"/v1/leads/{lead_id}/redeliver", params={"buyer": "alpha"}, headers=op)
        assert r.status_code == 200 and r.json()["disposition"] == "sold", r.text
        r = web.post(f"/v1/leads/{lead_id}/redeliver", headers=op)
        assert r.status_code == 409 and "a lead is sold once" in r.json()["error"]
        listed = web.get("/v1/operator/actions", headers=op).json()["actions"]
        board = web.get("/dashboard.json").json()
    audit = [(a["operator"], a["action"], a["target"]) for a in operator_actions(store)]
    assert audit == [
        ("olga", "redeliver", lead_id),
        ("olga", "resume", "beta"),
        ("olga", "pause", "beta"),
    ]
    assert [a["action"] for a in listed] == ["redeliver", "resume", "pause"]
    assert board["paused"] == [] and board["actions"][0]["action"] == "redeliver"

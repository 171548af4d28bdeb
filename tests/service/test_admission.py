"""Admission control: 503 with Retry-After when the loop's lag or the leads in flight say a
new auction would miss its deadline (lag injected, no wall time involved)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from engine.clock import FakeClock, SystemClock
from engine.service.admission import START, WINDOW, Admission
from engine.store.journal import DurableStore
from tests.auction_kit import accept, bid, campaign, plan
from tests.buyer_server import BuyerServer
from tests.service.kit import sample_body, serving, source_key


def test_the_decision() -> None:
    """Lag above a quarter of the ping deadline (or max_lag) refuses, with a Retry-After that
    grows with the lag; a full house refuses; a lag spike is remembered for WINDOW probes."""
    a = Admission(FakeClock(), max_in_flight=2, probing=False)
    assert a.refuse(0.1) is None
    a.observe(0.03)
    why, wait = a.refuse(0.1) or ("", 0)
    assert "event loop runs 30 ms late" in why and wait == 1
    assert a.refuse(1.0) is None  # a 1 s ping deadline tolerates 30 ms
    a.observe(0.25)
    assert (a.refuse(0.1) or ("", 0))[1] == 3
    for _ in range(WINDOW):
        a.observe(0.0)
    assert a.lag == 0.0 and a.refuse(0.1) is None
    a.in_flight = 2
    assert (a.refuse(0.1) or ("",))[0] == "the service is overloaded (2 leads in flight)"
    fixed = Admission(FakeClock(), max_lag=0.5, probing=False)
    fixed.observe(0.4)
    assert fixed.refuse(0.1) is None


def test_the_in_flight_limit_adapts_to_late_auctions() -> None:
    """AIMD: it starts at START and grows by one per auction on time (slow start) until the
    first late auction, which cuts it by a tenth (never below 1); then an auction on time grows
    it by 1/limit (never above max_in_flight); at the limit, leads are refused. With
    adaptive=False it stays max_in_flight."""
    a = Admission(FakeClock(), max_in_flight=100, probing=False)
    assert a.allowed == START
    a.finished(0.0)
    assert a.allowed == START + 1
    a.allowed = START
    a.finished(0.011)
    assert a.allowed == pytest.approx(START * 0.9)
    a.finished(0.0)
    assert a.allowed == pytest.approx(START * 0.9 + 1 / (START * 0.9))
    for _ in range(100):
        a.finished(0.5)
    assert a.allowed == 1.0
    a.in_flight = 1
    assert a.refuse(0.1) is not None
    a.in_flight = 0
    assert a.refuse(0.1) is None
    for _ in range(20000):
        a.finished(-0.02)
    assert a.allowed == 100.0
    fixed = Admission(FakeClock(), max_in_flight=10, probing=False, adaptive=False)
    fixed.finished(1.0)
    assert fixed.allowed == 10.0


@pytest.mark.anyio
async def test_the_monitor_measures_lag_on_its_clock() -> None:
    """The probe's lag is how much later than asked its sleep returned, on the injected clock."""

    class Late(FakeClock):
        async def sleep(self, seconds: float) -> None:
            self.advance(seconds + 0.2)  # the loop was 200 ms late
            a.probing = False

    a = Admission(Late())
    await a.monitor()
    assert a.lag == pytest.approx(0.2)


def test_an_overloaded_service_answers_503_with_retry_after(
    sqlite_store: DurableStore, buyer_server: BuyerServer
) -> None:
    """With the loop late, a lead is refused (503, LP555, Retry-After) before it is stored, and
    /readyz says not ready; once the lag is gone the next lead is taken and sold."""
    bid(buyer_server, "alpha", "9.00")
    accept(buyer_server, "alpha")
    camp = campaign([plan("bidder", "alpha", buyer_server.url)], ping=0.2)
    admission = Admission(SystemClock(), probing=False)
    key = source_key(sqlite_store)
    with serving(sqlite_store, [camp], admission=admission) as svc, svc.client(key) as client:
        admission.observe(0.5)
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["problems"][0]["code"] == "LP555"
        assert client.get("/readyz").status_code == 503
        assert sqlite_store.backend.read("SELECT COUNT(*) FROM leads")[0][0] == 0
        for _ in range(WINDOW):
            admission.observe(0.0)
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.status_code == 200 and r.json()["disposition"] == "sold"
        admission.in_flight = admission.max_in_flight  # as if that many auctions were running
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        admission.in_flight = 0


def test_a_campaign_may_queue_leads_under_overload(
    sqlite_store: DurableStore, buyer_server: BuyerServer
) -> None:
    """`when_overloaded: queue`: while the loop is late the lead is stored and answered 202
    queued (not 503); once the lag is gone it is sold by waterfall — each bidder pinged and
    posted in turn, no auction."""
    bid(buyer_server, "alpha", "9.00")
    accept(buyer_server, "alpha")
    camp = dataclasses.replace(
        campaign([plan("bidder", "alpha", buyer_server.url)], ping=0.2), when_overloaded="queue"
    )
    admission = Admission(SystemClock(), probing=False, interval=0.01)
    key = source_key(sqlite_store)
    with serving(sqlite_store, [camp], admission=admission) as svc, svc.client(key) as client:
        admission.observe(0.5)
        r = client.post("/v1/leads", params={"campaign": "test-campaign"}, json=sample_body())
        assert r.status_code == 202 and r.json()["disposition"] == "queued", r.text
        lead_id = r.json()["lead_id"]
        assert sqlite_store.get_lead(lead_id) is not None
        assert client.get(f"/v1/leads/{lead_id}").json()["status"] == "in flight"
        assert buyer_server.received("/alpha/ping") == []
        for _ in range(WINDOW):
            admission.observe(0.0)
        for _ in range(1000):  # until the background sale ends (no timing is asserted)
            got = client.get(f"/v1/leads/{lead_id}").json()
            if got["status"] != "in flight":
                break
            time.sleep(0.01)
    assert got["disposition"] == "sold" and got["buyer"] == "alpha"
    assert [e["step"] for e in got["trace"] if e["buyer"] == "alpha"][-2:] == ["ping", "post"]

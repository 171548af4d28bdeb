"""The dashboard in a real browser: headless Chromium from Debian's `chromium` package, driven
by playwright against a running service that has sold leads; the numbers match the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from engine.store.journal import DurableStore
from engine.store.sources import add_source, paused_buyers
from tests.auction_kit import accept, bid, campaign, plan
from tests.buyer_server import BuyerServer, Reply
from tests.service.kit import sample_body, serving, source_key

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system Chromium (scripts/test installs it with apt when missing); never a
    downloaded browser. Missing, it fails the test: it is not skipped."""
    assert CHROMIUM.exists(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        try:
            yield b
        finally:
            b.close()


def test_the_dashboard_shows_what_the_store_says(
    store: DurableStore, buyer_server: BuyerServer, browser: Browser
) -> None:
    """Three leads: alpha turns the first post down (it goes to beta), then buys two; gamma's
    pings fail. The page shows each buyer's posts, accepted and success rate, the sold count,
    gamma's errors, a latency chart and the three dispositions — each equal to the store's
    own numbers, and no personal data."""
    s = buyer_server
    bid(s, "alpha", "20.00")
    bid(s, "beta", "10.00")
    s.default("/gamma/ping", Reply(500, b"down"))
    s.script("/alpha/post", Reply.json({"status": "rejected", "reason": "dupe"}))
    accept(s, "alpha")
    accept(s, "beta")
    camp = campaign([plan("bidder", n, s.url) for n in ("alpha", "beta", "gamma")])
    key = source_key(store, "web")
    with serving(store, [camp]) as svc:
        with svc.client(key) as client:
            for _ in range(3):
                r = client.post("/v1/leads", params={"campaign": "test-campaign"},
                                json=sample_body())  # fmt: skip
                assert r.json()["disposition"] == "sold"
        page = browser.new_page()
        page.goto(svc.url + "/")
        page.wait_for_selector("#recent tbody tr:nth-child(3)")
        store.writer.flush()
        expected = {
            b: (int(n), int(ok))
            for b, n, ok in store.backend.read(
                "SELECT buyer, COUNT(*), SUM(CASE WHEN kind = 'accepted' THEN 1 ELSE 0 END)"
                " FROM attempts WHERE stage = 'post' GROUP BY buyer"
            )
        }
        assert expected == {"alpha": (3, 2), "beta": (1, 1)}
        for buyer, (posts, ok) in expected.items():
            row = page.locator(f'#buyers tr[data-buyer="{buyer}"] td')
            cells = row.all_inner_texts()
            assert cells[:4] == [buyer, str(posts), str(ok), f"{100 * ok / posts:.1f}%"]
            assert cells[4] == "closed"
        sold = store.backend.read("SELECT COUNT(*) FROM leads WHERE disposition = 'sold'")[0][0]
        assert page.inner_text("#sold-hour") == str(sold) == "3"
        assert page.inner_text("#queue-retry") == "0"
        shown = {
            page.locator(f'#recent tr[data-lead="{lead_id}"] td.disposition').inner_text(): None
            for (lead_id,) in store.backend.read("SELECT lead_id FROM leads")
        }
        assert list(shown) == ["sold"]
        gamma = page.locator("#errors tbody tr").filter(has_text="gamma").all_inner_texts()
        pings = store.backend.read(
            "SELECT COUNT(*) FROM attempts WHERE buyer = 'gamma' AND stage = 'ping'"
        )[0][0]
        assert len(gamma) == 1 and gamma[0].split("\t")[-1] == str(pings) == "3"
        assert page.locator('#latency polyline[data-series="mean_ms"]').count() == 1
        text = page.inner_text("body")
        assert "John" not in text and "5125550142" not in text and "Smith" not in text
        alpha = page.locator('#buyers tr[data-buyer="alpha"]')
        alpha.locator("button").click()  # without a key: refused, nothing paused
        page.wait_for_function(
            "document.getElementById('operator-note').textContent.includes('API key')"
        )
        assert paused_buyers(store) == frozenset()
        page.fill("#operator-key", add_source(store, "olga", ["*"], role="operator"))
        alpha.locator("button").click()
        page.wait_for_selector('#buyers tr[data-buyer="alpha"] td.paused')
        assert paused_buyers(store) == {"alpha"}
        assert page.locator("#actions tbody tr td").all_inner_texts()[1:4] == [
            "olga",
            "pause",
            "alpha",
        ]
        page.close()

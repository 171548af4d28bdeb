"""The demo (``scripts/demo``): sandbox, checks, leads over HTTP, summary, clean stop."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Console

from engine.auction import RouteResult, TraceEntry
from engine.commands.demo import BuyerRow, buyer_rows, run_demo
from engine.sandbox.leads import make_leads
from tests.paths import REPO
from tests.props import SLOW


@SLOW
def test_demo_runs_end_to_end_with_a_few_leads() -> None:
    """With a small lead count the demo checks every file, starts `leadpost serve`, posts the
    leads to it over HTTP as a lead source would, prints the buyer table, the outcomes and the
    dashboard's address, stops the service and the sandbox threads, and exits 0."""
    out = io.StringIO()
    console = Console(file=out, width=140, color_system=None)
    before = {t.name for t in threading.enumerate()}
    code = run_demo(["--leads", "24", "--concurrency", "6", "--root", str(REPO)], console)
    text = out.getvalue()
    assert code == 0, text
    assert "lint: " in text and "no problems found" in text
    assert "test: " in text and " 0 failed" in text
    assert "what each buyer did" in text
    for column in ("pinged", "bids", "won", "accepted", "rejected", "errors", "revenue"):
        assert column in text
    assert "24 leads in " in text
    assert "leadpost serve on http://127.0.0.1:" in text and "dashboard http://127.0.0.1:" in text
    assert "a simulated lead source posts 24 leads over HTTP" in text
    assert "stopped the service and the simulated buyers" in text
    left = {t.name for t in threading.enumerate()} - before
    assert "leadpost-sandbox" not in left and "leadpost-serve" not in left


def test_generated_leads_are_seeded_and_varied() -> None:
    """The same seed gives the same leads; states and names vary; a few are meant to fail."""
    now = datetime(2024, 12, 15, tzinfo=UTC)
    first, again = make_leads(60, 7, now), make_leads(60, 7, now)
    assert first == again
    assert len({lead["lead"]["address"]["state"] for lead in first}) > 4
    assert len({lead["lead"]["first_name"] for lead in first}) > 8
    spoiled = [lead for i, lead in enumerate(first) if i % 20 == 7]
    assert len(spoiled) == 3


def test_buyer_rows_count_from_traces() -> None:
    """Per-buyer counts come from the trace: pings, bids, late pings, first posts, results."""
    trace = (
        TraceEntry(1, "a", "eligibility", "eligible"),
        TraceEntry(1, "b", "eligibility", "excluded", reason="capped"),
        TraceEntry(90, "a", "ping", "accepted", Decimal("10"), 80.0),
        TraceEntry(95, "c", "ping", "late", None, 100.0),
        TraceEntry(180, "a", "post", "server_error", Decimal("10"), 20.0),
        TraceEntry(200, "a", "post", "accepted", Decimal("10"), 30.0, "attempt 2"),
    )
    result = RouteResult("l", "x", "sold", "sold", "a", Decimal("10"), trace=trace)
    rows = buyer_rows([result])
    assert rows["a"] == BuyerRow(
        pinged=1, bids=1, won=1, accepted=1, errors=1, latencies=[80.0, 20.0, 30.0],
        revenue=Decimal("10"),
    )  # fmt: skip
    assert rows["b"].excluded == 1
    assert (rows["c"].pinged, rows["c"].late, rows["c"].latencies) == (1, 1, [])

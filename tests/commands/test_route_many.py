"""``leadpost route CAMPAIGN --leads FILE.jsonl|-``: many leads in one process, one runtime."""

from __future__ import annotations

import io
import json
from pathlib import Path

import anyio
import pytest

from engine.cli import main
from engine.commands.route import route_many
from engine.sandbox import SandboxThread, sandbox_environ
from engine.service.batch import Sold
from engine.store import MemoryStore
from tests.examples import steady_sandbox_config
from tests.paths import REPO

CAMPAIGN = REPO / "integrations" / "campaigns" / "home-auction.yaml"
SAMPLE = json.loads((REPO / "integrations" / "leads" / "sample.json").read_text())
CONFIG = steady_sandbox_config()


def jsonl(count: int, bad: int | None = None) -> str:
    lines = []
    for i in range(count):
        doc = json.loads(json.dumps(SAMPLE))
        doc["source_id"] = f"pub-{i}"
        if i == bad:
            doc["lead"]["email"] = "nope"
            del doc["timestamp"]
        lines.append(json.dumps(doc))
    return "\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n"


def test_many_leads_share_one_runtime_and_store(steady_sandbox: SandboxThread) -> None:
    """Twelve lines (one blank, one bad): eleven results, each naming its line; the bad line
    names every problem and the others are sold or not through one runtime into one store."""
    store = MemoryStore()
    seen: list[Sold] = []
    counts = anyio.run(
        lambda: route_many(
            CAMPAIGN, io.StringIO(jsonl(11, bad=4)), environ=sandbox_environ(CONFIG),
            origins=(f"http://127.0.0.1:{CONFIG.port}", steady_sandbox.url), store=store,
            show=seen.append, concurrency=4,
        )
    )  # fmt: skip
    assert sum(counts.values()) == 11 and counts["invalid"] == 1
    assert sorted(s.line for s in seen) == [1, 2, *range(4, 13)]
    bad = next(s for s in seen if s.result is None)
    assert bad.line == 6  # the fifth lead, after the blank line
    codes = [p["code"] for p in bad.record()["problems"]]
    assert codes == ["LP501", "LP504"] or sorted(codes) == ["LP501", "LP504"]
    for s in seen:
        if s.result is not None:
            assert store.get_result(s.result.lead_id) is not None


def test_route_leads_from_stdin_writes_one_json_line_per_lead(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """On a pipe, `route --leads -` writes one JSON object per lead and nothing else; exit 0
    when every line was a lead."""
    monkeypatch.setattr("sys.stdin", io.StringIO(jsonl(3)))
    sandbox = str(REPO / "integrations" / "sandbox.yaml")
    code = main(["route", str(CAMPAIGN), "--leads", "-", "--sandbox", sandbox])
    out = capsys.readouterr().out.splitlines()
    assert code == 0 and len(out) == 3
    records = [json.loads(line) for line in out]
    assert {r["line"] for r in records} == {1, 2, 4}
    assert all(r["disposition"] in ("sold", "unsold") and r["lead_id"] for r in records)

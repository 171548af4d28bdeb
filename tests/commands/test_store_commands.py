"""The store's commands on a store in a temporary data folder: history, stats, returns, purge,
keys, db, redeliver, worker, and route --keep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from engine.cli import main
from engine.runtime.outcome import Exchange, Outcome, Timings
from engine.store.settings import open_store
from tests.paths import REPO


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """LEADPOST_DATA in a temporary folder, with one sold lead (L1, harbor-mutual, $38) and
    one parked lead (L2), recorded the way the router records them."""
    monkeypatch.setenv("LEADPOST_DATA", str(tmp_path))
    monkeypatch.delenv("LEADPOST_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEADPOST_KEY", raising=False)
    monkeypatch.delenv("LEADPOST_KEY_FILE", raising=False)
    store, _ = open_store({"LEADPOST_DATA": str(tmp_path)})
    exchange = Exchange("POST", "https://api.example/leads", (("X-Api-Key", "***"),),
                        '{"phone": "***"}', 200, (), '{"ok": true}')  # fmt: skip

    async def record() -> None:
        for lead_id, source in (("L1", "pub-1"), ("L2", "pub-2")):
            await store.open_lead(lead_id, "home-auction", {"source_id": source})
            assert await store.reserve(lead_id, "harbor-mutual", Decimal("38.00"), []) is None
            await store.sending(lead_id, "harbor-mutual", "post", 1, f"{lead_id}:harbor:post")
        accepted = Outcome("harbor-mutual", "post", "accepted", False, None, 1,
                           Timings(0.12), 200, {}, exchange=exchange)  # fmt: skip
        store.answered("L1", accepted)
        await store.finish("L1", {"disposition": "sold", "buyer": "harbor-mutual",
                                  "price": "38.00", "reason": "sold to harbor-mutual"})  # fmt: skip
        lost = Outcome("harbor-mutual", "post", "unknown", False, "no answer", 1, Timings(5.0))
        store.answered("L2", lost)
        await store.finish("L2", {"disposition": "unknown", "buyer": "harbor-mutual",
                                  "reason": "parked"})  # fmt: skip

    anyio.run(record)
    store.close()
    yield tmp_path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_history_of_a_lead_as_a_table_and_as_json(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The trail names the post, its outcome, the hold and the disposition; JSON adds the
    masked exchange and the idempotency key; an unknown lead is exit 1."""
    code, out = cli(capsys, "history", "L1")
    assert code == 0
    assert "harbor-mutual" in out and "accepted" in out and "SOLD: sold to harbor-mutual" in out
    assert "hold: harbor-mutual sold at 38.00" in out
    code, out = cli(capsys, "history", "L1", "--format", "json")
    found = json.loads(out)
    assert found["attempts"][0]["idempotency_key"] == "L1:harbor:post"
    assert found["attempts"][0]["record"]["exchange"]["request_body"] == '{"phone": "***"}'
    assert found["document"].startswith("sealed with key ")
    assert cli(capsys, "history", "nope")[0] == 1


def test_history_by_buyer_time_and_outcome(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--buyer/--since/--outcome filter the attempts; a bad duration says how to write one."""
    code, out = cli(capsys, "history", "--buyer", "harbor-mutual", "--since", "1h",
                    "--outcome", "unknown", "--format", "json")  # fmt: skip
    assert code == 0 and [a["lead_id"] for a in json.loads(out)] == ["L2"]
    code, out = cli(capsys, "history", "--buyer", "harbor-mutual", "--since", "1h")
    assert code == 0 and "L1" in out and "L2" in out
    assert cli(capsys, "history", "--buyer", "x", "--since", "1h")[1].strip() == "no attempts match"
    code, out = cli(capsys, "history", "--since", "an hour")
    assert code == 1 and "write it like 30m, 1h, 24h or 7d" in out
    assert "name a lead id" in cli(capsys, "history")[1]


def test_returns_count_in_stats(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A return of a bought lead is recorded once and credited; a return of a lead the buyer
    never bought is refused; stats show revenue net of returns and the return rates."""
    code, out = cli(capsys, "stats", "--since", "24h")
    assert code == 0 and "$38.00" in out
    code, out = cli(capsys, "return", "L1", "--buyer", "harbor-mutual", "--reason", "bad phone")
    assert code == 0 and "recorded (credit $38.00)" in out
    assert "already recorded" in cli(capsys, "return", "L1", "--buyer", "harbor-mutual",
                                     "--reason", "bad phone")[1]  # fmt: skip
    code, out = cli(capsys, "return", "L2", "--buyer", "harbor-mutual", "--reason", "x")
    assert code == 1 and "harbor-mutual never bought lead L2" in out
    code, out = cli(capsys, "stats")
    row = next(line for line in out.splitlines() if line.startswith("│ harbor-mutual"))
    assert "$0.00" in row and "100.0%" in row
    assert "pub-1" in out
    code, out = cli(capsys, "history", "L1")
    assert "returned by harbor-mutual" in out


def test_returns_import_records_good_rows_and_names_bad_ones(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good rows are recorded; a refused row is named by file:line; exit 1."""
    csv = tmp_path / "returns.csv"
    csv.write_text("lead_id,buyer,reason,date\nL1,harbor-mutual,duplicate,2026-01-01\n"
                   "L2,harbor-mutual,bad phone,2026-01-01\n")  # fmt: skip
    code, out = cli(capsys, "returns", "import", str(csv))
    assert code == 1
    assert f"{csv}:3: harbor-mutual never bought lead L2" in out
    assert "1 returns recorded, 0 already recorded, 1 refused" in out
    csv.write_text("lead,buyer\nL1,harbor-mutual\n")
    code, out = cli(capsys, "returns", "import", str(csv))
    assert code == 1 and "missing: lead_id, reason" in out


def test_purge_keeps_the_record_without_the_document(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After purge the lead's document is gone; its disposition and attempts remain."""
    code, out = cli(capsys, "purge", "--before", "2999-01-01")
    assert code == 0 and "deleted 2 lead documents" in out
    code, out = cli(capsys, "history", "L1", "--format", "json")
    found = json.loads(out)
    assert (found["document"], found["disposition"]) == ("purged", "sold")
    assert len(found["attempts"]) == 1
    assert "YYYY-MM-DD" in cli(capsys, "purge", "--before", "tomorrow")[1]


def test_keys_new_and_rotate(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """keys new prints a key; with it first (and the old one after), rotate re-seals both."""
    code, new = cli(capsys, "keys", "new")
    assert code == 0 and new.startswith("lpk1.")
    old = (data / "key").read_text().strip()
    monkeypatch.setenv("LEADPOST_KEY", f"{new.strip()},{old}")
    code, out = cli(capsys, "keys", "rotate")
    assert code == 0 and "re-sealed 2 records" in out
    monkeypatch.setenv("LEADPOST_KEY", new.strip())
    store, _ = open_store()
    try:
        assert store.get_lead("L1") == ("home-auction", {"source_id": "pub-1"})
    finally:
        store.close()


def test_db_status_upgrade_and_archive(
    data: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """status lists the migrations; upgrade says the version; archive moves old attempts."""
    code, out = cli(capsys, "db", "status")
    assert code == 0 and "journal, leads, holds" in out and "up to date" in out
    assert "schema version 4 (latest 4)" in cli(capsys, "db", "upgrade")[1]
    assert "moved 0 attempts" in cli(capsys, "db", "archive")[1]
    assert "moved 2 attempts" in cli(capsys, "db", "archive", "--days", "0")[1]
    code, out = cli(capsys, "history", "L1", "--format", "json")
    assert len(json.loads(out)["attempts"]) == 1  # read from the archive
    monkeypatch.setenv("LEADPOST_DATA", str(tmp_path / "empty"))
    assert "no store yet" in cli(capsys, "db", "status")[1]


def test_redeliver_refuses_a_sold_lead(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sold lead is not sent again, and the message says why."""
    campaigns = str(REPO / "integrations" / "campaigns")
    code, out = cli(capsys, "redeliver", "L1", "--campaigns", campaigns)
    assert code == 1 and "was sold to harbor-mutual: a lead is sold once" in out
    code, out = cli(capsys, "redeliver", "L9", "--campaigns", campaigns)
    assert code == 1 and "there is no lead L9" in out


def test_worker_once_with_nothing_due(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """worker --once does one look, finds nothing due and stops."""
    campaigns = str(REPO / "integrations" / "campaigns")
    code, out = cli(capsys, "worker", "--once", "--campaigns", campaigns)
    assert code == 0 and "handled 0 retries and recovered leads" in out
    code, out = cli(capsys, "worker", "--once", "--campaigns", str(data))
    assert code == 1 and "no campaign files in" in out


def test_route_keep_journals_the_lead_in_the_configured_store(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """route --keep --sandbox sells through the simulated buyers and keeps the lead, its
    attempts and its disposition in LEADPOST_DATA, where history finds them."""
    campaign = str(REPO / "integrations" / "campaigns" / "harbor-direct.yaml")
    lead = str(REPO / "integrations" / "leads" / "sample.json")
    code, out = cli(capsys, "route", campaign, "--lead", lead, "--sandbox", "--keep")
    assert code in (0, 1), out
    store, _ = open_store()
    try:
        rows = store.backend.read("SELECT lead_id, disposition FROM leads WHERE campaign = ?",
                                  ("harbor-direct",))  # fmt: skip
    finally:
        store.close()
    assert len(rows) == 1 and rows[0][1] is not None
    code, out = cli(capsys, "history", rows[0][0])
    assert code == 0 and "harbor-mutual" in out

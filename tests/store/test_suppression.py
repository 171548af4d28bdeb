"""The suppression list kept in the store: filled by `leadpost suppress`, checked before a ping."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

from engine.auction import Router
from engine.campaigns.checks import contact_keys, stored_suppression
from engine.campaigns.compile import check_campaign
from engine.campaigns.plan import CheckPlan
from engine.cli import main
from engine.store import MemoryStore, SqliteStore, Store
from engine.store.crypto import DataKey, Keyring
from engine.store.upkeep import rotate
from tests.auction_kit import FakeRuntime, campaign, plan, sample_lead
from tests.paths import REPO

ROOT = REPO


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


def test_store_keeps_phones_and_emails(store: Store) -> None:
    """Entries are added once; a lookup names the first listed value it is given."""
    assert store.add_suppressed(["5125550142", "a@example.com", "5125550142"]) == 2
    assert store.add_suppressed(["a@example.com"]) == 0
    assert store.suppressed(["2125550100", "a@example.com"]) == "a@example.com"
    assert store.suppressed(["2125550100"]) is None
    assert store.suppressed([]) is None


def test_lead_is_looked_up_by_its_normalized_phone_and_email() -> None:
    """The check reads the lead's phone as 10 digits and its email in lower case."""
    lead = sample_lead()
    lead["lead"]["email"] = " John.Smith@Gmail.com "
    assert contact_keys(lead) == (lead["lead"]["phone"], "john.smith@gmail.com")
    listed = MemoryStore()
    assert stored_suppression(lead, listed.suppressed) is None
    listed.add_suppressed(["john.smith@gmail.com"])
    assert stored_suppression(lead, listed.suppressed) == (
        "the email address is on the suppression list kept in the store"
    )


def test_suppressed_lead_is_refused_before_any_ping() -> None:
    """A critical store suppression check ends the lead as rejected; no buyer is pinged."""
    runtime = FakeRuntime({"b0": ("accepted", Decimal("20"))}, {"b0": "accepted"})
    check = CheckPlan("suppression:store", "critical", None, in_store=True)
    camp = campaign([plan("bidder", "b0", "http://127.0.0.1:9")], checks=[check])
    store = MemoryStore()
    lead = sample_lead()
    store.add_suppressed([lead["lead"]["phone"]])
    result = anyio.run(lambda: Router(runtime, store, runtime.clock, env="test").route(camp, lead))
    assert (result.disposition, runtime.sent) == ("rejected", [])
    assert "phone number is on the suppression list kept in the store" in (result.reason or "")


def test_campaign_can_name_the_store_list(tmp_path: Path) -> None:
    """`suppression: {store: true}` compiles into a check answered from the store."""
    path = ROOT / "integrations" / "campaigns" / "home-auction.yaml"
    text = path.read_text().replace("    file: ../suppression.txt", "    store: true")
    copy = ROOT / "integrations" / "campaigns" / "home-auction.yaml"
    target = tmp_path / "campaigns" / copy.name
    target.parent.mkdir()
    target.write_text(text)
    plan_, issues, _ = check_campaign(target, buyers_dir=ROOT / "integrations" / "buyers")
    assert plan_ is not None, [i.render() for i in issues]
    assert [c.name for c in plan_.checks if c.in_store] == ["suppression:store"]


def test_a_suppression_section_needs_a_list(tmp_path: Path) -> None:
    """Neither a file nor the store is a clear error."""
    path = ROOT / "integrations" / "campaigns" / "home-auction.yaml"
    target = tmp_path / "campaigns" / path.name
    target.parent.mkdir()
    target.write_text(path.read_text().replace("    file: ../suppression.txt", "    level: warn"))
    _plan, issues, _ = check_campaign(target, buyers_dir=ROOT / "integrations" / "buyers")
    assert [(i.code, i.message) for i in issues if i.severity == "error"] == [
        ("LP204", "name a suppression 'file', or write 'store: true' (or both)")
    ]


def test_suppress_command_imports_a_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`leadpost suppress FILE --store DB` adds the file's entries (sealed with the configured
    key, so a later process finds them); bad lines are named."""
    key = DataKey.generate()
    monkeypatch.setenv("LEADPOST_KEY", key.text())
    listing = tmp_path / "dnc.txt"
    listing.write_text("# do not call\n(512) 555-0142\nA@Example.com\nnot a number\n")
    db = tmp_path / "store.db"
    assert main(["suppress", str(listing), "--store", str(db)]) == 1
    out = capsys.readouterr().out
    assert f"{listing}:4: not a phone number or email, skipped: not a number" in out
    assert "1 phone numbers and 1 emails read; 2 new on the suppression list" in out
    with SqliteStore(db, keyring=Keyring([key])) as store:
        assert store.suppressed(["a@example.com"]) == "a@example.com"
        assert store.suppressed(["5125550142"]) == "5125550142"


def test_the_list_is_sealed_at_rest_and_follows_key_rotation(tmp_path: Path) -> None:
    """No listed value is in the database file in clear; entries a version-1 store kept in
    clear are sealed when it is opened; after rotation to a new key every entry is still found
    and sealed only with the new key."""

    old, new = DataKey.generate(), DataKey.generate()
    path = tmp_path / "s.db"
    with SqliteStore(path, keyring=Keyring([old])) as first:
        assert first.add_suppressed(["5125550142", "listed@example.com"]) == 2
        legacy = "INSERT INTO suppressed (value, added_at) VALUES ('legacy@example.com', 0)"
        first.writer.call(lambda tx: tx.run(legacy))
    with SqliteStore(path, keyring=Keyring([old])) as second:  # moves the clear entry over
        assert second.backend.read("SELECT COUNT(*) FROM suppressed") == [(0,)]
        assert second.suppressed(["legacy@example.com"]) == "legacy@example.com"
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for value in (b"5125550142", b"listed@example.com", b"legacy@example.com"):
        assert value not in raw
    with SqliteStore(path, keyring=Keyring([new, old])) as rotated:
        assert rotate(rotated) == 3
        assert rotated.backend.read("SELECT DISTINCT key_id FROM suppressed_sealed") == [(new.id,)]
        assert rotated.add_suppressed(["listed@example.com"]) == 0
    with SqliteStore(path, keyring=Keyring([new])) as after:
        assert after.suppressed(["x@example.com", "5125550142"]) == "5125550142"
        assert after.suppressed(["legacy@example.com"]) == "legacy@example.com"

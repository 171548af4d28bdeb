"""Lead sources' API keys: made by `leadpost keys add-source`, stored hashed, revocable."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from engine.store.journal import DurableStore
from engine.store.settings import open_store
from engine.store.sources import add_source, find_source, key_hash, list_sources, revoke_source


def test_keys_are_stored_only_as_hashes(store: DurableStore) -> None:
    """The key's text is nowhere in the database; its hash finds the source and its campaigns;
    a revoked key finds nothing."""
    key = add_source(store, "aff-1", ["home-auction", "auto-waterfall"])
    rows = store.backend.read("SELECT key_hash, name, campaigns FROM sources")
    assert rows[0][0] == key_hash(key) and key not in repr(rows)
    found = find_source(store, key)
    assert found is not None and found.name == "aff-1"
    assert found.may_post("home-auction") and not found.may_post("life-waterfall")
    assert find_source(store, key + "x") is None
    assert [(s.name, n) for s, n in list_sources(store)] == [("aff-1", 1)]
    assert revoke_source(store, "aff-1") == 1
    assert find_source(store, key) is None and list_sources(store) == []


def test_keys_add_source_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """add-source prints the key once; sources lists it; revoke-source revokes it; a source
    without a campaign is refused with a sentence."""
    monkeypatch.setenv("LEADPOST_DATA", str(tmp_path))
    monkeypatch.delenv("LEADPOST_DATABASE_URL", raising=False)
    assert main(["keys", "add-source", "web", "--campaign", "home-auction"]) == 0
    key = capsys.readouterr().out.splitlines()[0]
    assert key.startswith("lps_")
    assert main(["keys", "sources"]) == 0
    assert "web  1 key  home-auction" in capsys.readouterr().out
    assert main(["keys", "add-source", "web"]) == 1
    assert "at least one --campaign" in capsys.readouterr().out
    store, _ = open_store({"LEADPOST_DATA": str(tmp_path)})
    try:
        assert find_source(store, key) is not None
    finally:
        store.close()
    assert main(["keys", "revoke-source", "web"]) == 0
    assert "revoked 1 keys of source web" in capsys.readouterr().out
    assert main(["keys", "add-operator", "olga"]) == 0
    op_key = capsys.readouterr().out.splitlines()[0]
    assert main(["keys", "sources"]) == 0
    assert "olga  1 key  operator" in capsys.readouterr().out
    store, _ = open_store({"LEADPOST_DATA": str(tmp_path)})
    try:
        found = find_source(store, op_key)
        assert found is not None and found.operator
    finally:
        store.close()

"""Shared by the command-line tests: a working folder copied from tests/fixtures/cli."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.paths import FIXTURES

CLI_FIXTURES = FIXTURES / "cli"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture folder (buyer, lead schema, lead) as the working folder."""
    for f in CLI_FIXTURES.iterdir():
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def edit(ws: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` once in the workspace's buyer file (which must contain it)."""
    path = ws / "acme.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))

"""The tutorial of dsl-spec.md ("Your first buyer in 15 minutes") works as written: a starter
project, the buyer's spec drafted into a buyer file by ``leadpost new`` (whose fields are the
finished file's, whose TODOs lint lists, whose bodies ``test --update`` records), then the
finished file and sandbox lines, lint, test and a preflight."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.cli import main
from engine.dsl.loader import load_yaml, load_yaml_text
from tests.paths import REPO
from tests.props import SLOW

SPEC = (REPO / "dsl-spec.md").read_text(encoding="utf-8")
SECTION = SPEC[SPEC.index("## Your first buyer in 15 minutes") : SPEC.index("## How values")]


def _block(pattern: str) -> str:
    m = re.search(pattern, SECTION, re.MULTILINE | re.DOTALL)
    assert m is not None, pattern
    return m.group(1)


@SLOW
def test_the_tutorial_from_init_to_preflight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "my-leads"]) == 0
    monkeypatch.chdir(tmp_path / "my-leads")
    spec = Path("integrations/specs/pinecrest.post.schema.json")
    spec.parent.mkdir()
    spec.write_text(_block(r"^```json spec\n(.*?)^```"), encoding="utf-8")
    draft = "leadpost new buyer pinecrest --from-spec integrations/specs/pinecrest.post.schema.json"
    assert draft in SECTION
    assert main(draft.split()[1:]) == 0
    target = Path("integrations/buyers/pinecrest.yaml")
    buyer = _block(r"^```yaml integration\n(# Pinecrest:.*?)^```")
    finished = load_yaml_text(buyer, "pinecrest.yaml").data
    drafted = load_yaml(target).data
    assert drafted["stages"]["post"]["fields"] == finished["stages"]["post"]["fields"]
    assert drafted["stages"]["post"]["spec"] == finished["stages"]["post"]["spec"]
    capsys.readouterr()
    assert main(["lint", "integrations"]) == 1
    listed = capsys.readouterr().out
    for code in ("LP802", "LP409", "LP803"):  # the TODOs step 2 names, and no others
        assert code in SECTION and code in listed
    assert "LP800" not in listed and "LP801" not in listed
    update = "leadpost test integrations/buyers/pinecrest.yaml --update"
    assert update in SECTION
    assert main(update.split()[1:]) == 0
    recorded = load_yaml(target).data["tests"]
    expected = finished["tests"][0]
    assert [t["expect_body"] for t in recorded if t["lead"] == expected["lead"]] == [
        expected["expect_body"]
    ]
    target.write_text(buyer, encoding="utf-8")
    lines = _block(r"^```text\n(credentials:\n.*?)^```").splitlines()
    credential, entry = lines[1], "\n".join(lines[3:])
    sandbox = Path("integrations/sandbox.yaml")
    text = sandbox.read_text(encoding="utf-8")
    text = text.replace("credentials:\n", f"credentials:\n{credential}\n")
    sandbox.write_text(text.replace("buyers:\n", f"buyers:\n{entry}\n"), encoding="utf-8")
    assert main(["lint", "integrations", "--strict"]) == 0
    assert main(["test", "integrations"]) == 0
    report = tmp_path / "preflight.md"
    command = "leadpost preflight integrations/buyers/pinecrest.yaml --sandbox"
    assert command in SECTION
    assert main([*command.split()[1:], "--out", str(report)]) == 0
    out = capsys.readouterr().out
    assert "✓ test lead 'the sample lead, as the document describes it'  post accepted" in out
    assert "ready to go live" in out

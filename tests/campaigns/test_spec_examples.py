"""Every ```yaml campaign block of the reference compiles against the example buyer files.

The blocks are read from dsl-spec.md once it holds campaign examples, else from the campaign
fragment the reference is assembled from (/work/notes/spec-campaigns.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.campaigns.compile import check_campaign
from tests.spec_examples import ROOT, SPEC, Example, examples

FRAGMENT = Path("/work/notes/spec-campaigns.md")
BUYERS = ROOT / "integrations" / "buyers"


def campaign_examples() -> tuple[Path | None, list[Example]]:
    """The first reference file holding campaign examples, and those examples."""
    for source in (SPEC, FRAGMENT):
        if source.is_file():
            found = [
                e for e in examples(source.read_text(encoding="utf-8")) if e.kind == "campaign"
            ]
            if found:
                return source, found
    return None, []


SOURCE, EXAMPLES = campaign_examples()


def test_there_is_a_campaign_example_for_every_mode() -> None:
    """The reference shows a direct, a waterfall and an auction campaign."""
    assert SOURCE is not None, (
        "neither dsl-spec.md nor the campaign fragment has yaml campaign blocks"
    )
    modes = {line.split(":", 1)[1].strip() for e in EXAMPLES for line in e.text.splitlines()
             if line.startswith("mode:")}  # fmt: skip
    assert modes == {"direct", "waterfall", "auction"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_campaign_example_compiles(example: Example, tmp_path: Path) -> None:
    """Written to integrations-like folders (with the suppression list), it compiles cleanly."""
    shutil.copy(ROOT / "integrations" / "suppression.txt", tmp_path / "suppression.txt")
    (tmp_path / "campaigns").mkdir()
    path = tmp_path / "campaigns" / f"example-at-line-{example.line}.yaml"
    path.write_text(example.text, encoding="utf-8")
    plan, issues, text = check_campaign(path, buyers_dir=BUYERS)
    assert issues == [], "\n".join(i.render(text) for i in issues)
    assert plan is not None

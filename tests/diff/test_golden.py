"""``leadpost diff`` on real revisions of the example files, compared with golden files.

A temporary git repository holds two commits (see tests/diff_kit.py): BASE, a copy of the real
integrations/ tree, and HEAD, realistic edits to copies of real files (Harbor Mutual's retry,
phone format, a new and a removed field, filters, caps; the open auction's ping deadline; a
comment and key-order change in Beacon's file). Each output style is compared with
tests/golden/diff/<name>.

To regenerate the golden files after an intended change of the output, run::

    LEADPOST_REGEN_GOLDEN=1 .venv/bin/python -m pytest -q tests/diff/test_golden.py -p no:randomly

and review the changes to tests/golden/diff/ before committing them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import main
from tests.diff_kit import apply_edits, copy_integrations, git_env, make_repo
from tests.paths import GOLDEN, REPO

DIFF_GOLDEN = GOLDEN / "diff"
REGENERATE = os.environ.get("LEADPOST_REGEN_GOLDEN") == "1"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-commit repository (HEAD~1 = BASE, HEAD = the edits)."""
    root = tmp_path_factory.mktemp("diff") / "repo"
    make_repo(root)
    return root


@pytest.fixture
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The repository as the working folder, git reading no config of this machine."""
    for key, value in git_env(repo.parent).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(repo)
    yield repo


def check_golden(name: str, text: str) -> None:
    path = DIFF_GOLDEN / name
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with LEADPOST_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "style,golden",
    [("text", "revisions.txt"), ("markdown", "revisions.md"), ("github", "revisions.github")],
)
def test_revisions_match_the_golden_output(
    in_repo: Path, capsys: pytest.CaptureFixture[str], style: str, golden: str
) -> None:
    """``leadpost diff HEAD~1 HEAD integrations --format STYLE`` prints the golden report and
    exits 1 (behavioural changes)."""
    code = main(["diff", "HEAD~1", "HEAD", "integrations", "--format", style])
    out = capsys.readouterr()
    assert out.err == ""
    check_golden(golden, out.out)
    assert code == 1


def test_folders_match_the_golden_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two folders are compared file by file, named as the HEAD folder was written."""
    for side in ("base", "head"):
        copy_integrations(tmp_path / side)
    apply_edits(tmp_path / "head")
    monkeypatch.chdir(tmp_path)
    code = main(["diff", "base/integrations", "head/integrations"])
    check_golden("folders.txt", capsys.readouterr().out)
    assert code == 1


def test_a_comment_only_change_is_not_behavioural(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Limited to Beacon's file (comments and key order only), the diff says so and exits 0."""
    code = main(["diff", "HEAD~1", "HEAD", "integrations/buyers/beacon-ping.yaml"])
    out = capsys.readouterr().out
    assert "1 integration file changed: 1 formatting only" in out
    assert "no behavioural change (comments, formatting or key order only)" in out
    assert code == 0


def test_the_same_revision_twice_changes_nothing(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HEAD against HEAD: no files changed, exit 0."""
    assert main(["diff", "HEAD", "HEAD"]) == 0
    assert "no integration files changed" in capsys.readouterr().out


def test_the_golden_files_exist_and_are_not_empty() -> None:
    """Every golden file the tests compare with is there (a regeneration wrote them all)."""
    names = sorted(p.name for p in DIFF_GOLDEN.iterdir())
    assert names == ["folders.txt", "revisions.github", "revisions.md", "revisions.txt"]
    assert all((DIFF_GOLDEN / n).stat().st_size > 200 for n in names)


def test_the_golden_repository_does_not_need_the_machines_git_config(tmp_path: Path) -> None:
    """The kit builds its repository with HOME in the temp folder and no system config."""
    env = make_repo(tmp_path / "r")
    assert env["HOME"] == str(tmp_path / "r-home")
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert not (tmp_path / "r-home" / ".gitconfig").exists()
    shutil.rmtree(tmp_path / "r")


def _section(text: str) -> str:
    start = text.index("## Reviewing changes: leadpost diff")
    return text[start : text.index("\n## Problem codes", start)]


def _lines(text: str) -> str:
    """Line numbers in file:line references left out: other edits of the example files move
    them, and the golden files are regenerated then, while the reference is not."""
    return re.sub(r"(\.yaml:)\d+", r"\1N", text)


def test_the_reference_shows_real_output() -> None:
    """Every text and markdown example in dsl-spec.md's leadpost diff section is a piece of
    a golden file (line numbers aside), so the reference shows what the command prints."""
    section = _section((REPO / "dsl-spec.md").read_text(encoding="utf-8"))
    fences = re.findall(r"^```(text|markdown)\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    goldens = {
        "text": _lines((DIFF_GOLDEN / "revisions.txt").read_text(encoding="utf-8")),
        "markdown": _lines((DIFF_GOLDEN / "revisions.md").read_text(encoding="utf-8")),
    }
    examples = [(kind, body) for kind, body in fences if not body.startswith("leadpost diff BASE")]
    assert len(examples) == 3
    for kind, body in examples:
        assert _lines(body) in goldens[kind], body

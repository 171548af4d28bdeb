"""``leadpost test --update``: rendered bodies written into expect_body, after the diff is shown;
comments and layout kept; refused when the file has other changes pending."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from engine.cli import main
from tests.cli_kit import edit

OLD = """'{"state":"TX","owner":"Y"}'"""
WRONG = """'{"state":"TX","owner":"N"}'"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["test", *args])
    return code, capsys.readouterr().out


def _git(ws: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "PATH": "/usr/bin:/bin",
        "HOME": str(ws),
    }
    subprocess.run(["git", *args], cwd=ws, env=env, check=True, capture_output=True)


def test_update_shows_the_diff_then_writes_the_body(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The failing case's diff is printed, expect_body gets the rendered body, the rest of the
    file (comments, quotes, the | block of another case) is untouched, and the re-run passes."""
    edit(ws, OLD, WRONG)
    before = (ws / "acme.yaml").read_text()
    code, out = run(capsys, "acme.yaml", "--update")
    assert code == 0
    assert '    -  "owner": "N"\n    +  "owner": "Y"\n' in out
    assert "updated acme.yaml: expect_body of 'the ping carries state and ownership'" in out
    assert out.endswith("after the update: 5 passed, 0 failed\n")
    after = (ws / "acme.yaml").read_text()
    assert after == before.replace(WRONG, OLD)


def test_update_keeps_a_block_scalar(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A body written as a | block stays a | block."""
    edit(ws, '"first_name":"John"', '"first_name":"Jon"')
    code, _ = run(capsys, "acme.yaml", "--update")
    assert code == 0
    text = (ws / "acme.yaml").read_text()
    assert '    expect_body: |\n      {"ping_id":"77","first_name":"John",' in text


def test_nothing_to_update(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (ws / "acme.yaml").read_text()
    code, out = run(capsys, "acme.yaml", "--update")
    assert code == 0
    assert out.endswith("--update: no expect_body differs; nothing to update\n")
    assert (ws / "acme.yaml").read_text() == before


def test_uncommitted_changes_are_refused(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In a git repository, a file with uncommitted changes is left alone, with the reason."""
    _git(ws, "init", "-q")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-qm", "start")
    edit(ws, OLD, WRONG)
    before = (ws / "acme.yaml").read_text()
    code, out = run(capsys, "acme.yaml", "--update")
    assert code == 1
    assert "not updated acme.yaml: it has uncommitted changes: commit them first" in out
    assert (ws / "acme.yaml").read_text() == before
    _git(ws, "commit", "-qam", "the owner is N now")
    assert run(capsys, "acme.yaml", "--update")[0] == 0


def test_a_file_git_never_committed_is_updated(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new file (a fresh draft of leadpost new) has no earlier version to review the update
    against: untracked or just added, it is updated."""
    _git(ws, "init", "-q")
    edit(ws, OLD, WRONG)
    assert run(capsys, "acme.yaml", "--update")[0] == 0
    edit(ws, OLD, WRONG)
    _git(ws, "add", "acme.yaml")
    assert run(capsys, "acme.yaml", "--update")[0] == 0
    assert OLD in (ws / "acme.yaml").read_text()


def test_a_file_that_does_not_round_trip_is_refused(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A layout the writer would change (list items not indented under tests:) is left alone."""
    path = ws / "acme.yaml"
    head, tail = path.read_text().replace(OLD, WRONG).split("tests:\n")
    tail = tail.replace("\n  ", "\n")
    path.write_text(head + "tests:\n" + tail[2:])
    before = path.read_text()
    assert main(["test", "acme.yaml"]) == 1
    capsys.readouterr()
    code, out = run(capsys, "acme.yaml", "--update")
    assert code == 1
    assert "writing it back would change its layout: run leadpost fmt on it first" in out
    assert path.read_text() == before

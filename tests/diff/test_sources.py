"""``leadpost diff``: where BASE and HEAD come from (files, folders, revisions) and exit codes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import main
from engine.diff import SourceError, diff_command
from tests.diff_kit import HARBOR, apply_edits, copy_integrations, git_env, make_repo


@pytest.fixture
def trees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """base/ and head/ each holding a copy of the real integrations/ tree; the working folder."""
    for side in ("base", "head"):
        copy_integrations(tmp_path / side)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The two-commit repository of tests/diff_kit.py as the working folder."""
    env = make_repo(tmp_path / "repo")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path / "repo")
    yield tmp_path / "repo"


def edit(root: Path, file: str, old: str, new: str) -> None:
    apply_edits(root, ((file, old, new),))


def test_file_against_file(trees: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two files are compared with each other, reported under the HEAD file's name."""
    edit(trees / "head", HARBOR, "  max_attempts: 4\n", "  max_attempts: 3\n")
    code = main(["diff", f"base/{HARBOR}", f"head/{HARBOR}"])
    out = capsys.readouterr().out
    assert f"head/{HARBOR} — buyer harbor-mutual" in out
    assert "retry attempts 4 → 3" in out
    assert code == 1


def test_identical_folders_exit_0(trees: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing changed: 'no integration files changed', exit 0."""
    assert main(["diff", "base", "head"]) == 0
    assert "no integration files changed" in capsys.readouterr().out


def test_added_and_removed_files_are_reported(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file only in HEAD is added, one only in BASE removed; both are behavioural."""
    buyers = trees / "head" / "integrations" / "buyers"
    (buyers / "keystone-legacy.yaml").unlink()
    text = (buyers / "summit-crm.yaml").read_text().replace("buyer: summit-crm", "buyer: summit-2")
    (buyers / "summit-2.yaml").write_text(text)
    code = main(["diff", "base", "head"])
    out = capsys.readouterr().out
    assert "head/integrations/buyers/summit-2.yaml — buyer summit-2 added" in out
    assert "base/integrations/buyers/keystone-legacy.yaml — buyer keystone-legacy removed" in out
    assert "2 integration files changed: 2 behavioural changes" in out
    assert code == 1


def test_a_file_that_no_longer_compiles_shows_its_errors(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A HEAD file with errors: its lint errors with file:line:col instead of a diff, exit 1."""
    edit(trees / "head", HARBOR, "  max_attempts: 4\n", "  max_attempts: four\n")
    code = main(["diff", "base", "head"])
    out = capsys.readouterr().out
    assert f"head/{HARBOR} — does not compile in HEAD (head)" in out
    assert f"head/{HARBOR}:25:17: LP203" in out
    assert "1 integration file changed: 1 does not compile" in out
    assert code == 1


def test_a_file_that_did_not_compile_in_base(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A BASE file with errors is reported the same way, naming BASE."""
    edit(trees / "base", HARBOR, "  max_attempts: 4\n", "  max_attempts: 0\n")
    assert main(["diff", "base", "head"]) == 1
    assert "does not compile in BASE (base)" in capsys.readouterr().out


def test_file_against_folder_is_a_usage_error(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file and a folder cannot be compared: exit 2 with one sentence."""
    assert main(["diff", f"base/{HARBOR}", "head"]) == 2
    assert "compare a file with a file, or a folder with a folder" in capsys.readouterr().err


def test_a_bad_revision_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A revision the repository does not have: exit 2, one sentence, no traceback."""
    assert main(["diff", "no-such-branch", "HEAD"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-branch' is not a file, a folder or a revision of the git repository" in err
    assert "Traceback" not in err


def test_a_revision_that_looks_like_an_option_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A revision starting with '-' is never passed to git as an option."""
    assert main(["diff", "--", "--output=x", "HEAD"]) == 2
    assert "is not a file, a folder or a revision" in capsys.readouterr().err
    assert not (repo / "x").exists()


def test_outside_a_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names that are neither paths nor revisions of a repository here: exit 2."""
    for key, value in git_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    assert main(["diff", "HEAD~1", "HEAD"]) == 2
    assert "is not inside a git repository" in capsys.readouterr().err


def test_paths_limit_the_files(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """PATHS keeps only the files under them (the buyers' edits are left out here)."""
    code = main(["diff", "HEAD~1", "HEAD", "integrations/campaigns"])
    out = capsys.readouterr().out
    assert "1 integration file changed: 1 behavioural change" in out
    assert "harbor-mutual" not in out
    assert code == 1


def test_a_path_neither_revision_has_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PATH that names nothing (a typo such as 'integration') is said, exit 2: "no files
    changed" there would pass a review that saw nothing."""
    assert main(["diff", "HEAD~1", "HEAD", "integration"]) == 2
    assert "integration names no file in HEAD~1 or HEAD" in capsys.readouterr().err


def test_a_path_neither_folder_has_is_a_usage_error(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same between two folders."""
    assert main(["diff", "base", "head", "buyers/nope.yaml"]) == 2
    assert "buyers/nope.yaml names no file in base or head" in capsys.readouterr().err


def test_a_subfolder_of_the_repository_works(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """From integrations/, PATHS are relative to it and files are named from there."""
    monkeypatch.chdir(repo / "integrations")
    assert main(["diff", "HEAD~1", "HEAD", "campaigns"]) == 1
    assert "campaigns/open-auction.yaml — campaign open-auction" in capsys.readouterr().out


def test_given_leads_replace_the_sample_leads(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--lead renders only the leads given (named as given)."""
    edit(trees / "head", HARBOR, "transform: [{phone: dashes}]", "transform: [{phone: dots}]")
    lead = "base/integrations/leads/sample-fl-obrien.json"
    code = main(["diff", "base", "head", "--lead", lead])
    out = capsys.readouterr().out
    assert f"post payload, {lead}" in out
    assert "post payload, leads/sample.json" not in out
    assert '+    "phone": "305.555.0123",' in out
    assert code == 1


def test_a_missing_lead_file_is_a_usage_error(
    trees: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--lead naming no file: exit 2."""
    assert main(["diff", "base", "head", "--lead", "nope.json"]) == 2
    assert "cannot read the lead file" in capsys.readouterr().err


def test_help_states_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    """--help explains BASE/HEAD and the three exit codes."""
    assert main(["diff", "--help"]) == 0
    out = capsys.readouterr().out
    assert "0  nothing behavioural changed" in out
    assert "1  a behavioural change, or a file that does not compile" in out
    assert "2  usage mistake" in out


def test_diff_command_raises_source_error(tmp_path: Path) -> None:
    """The library function raises SourceError (the CLI turns it into exit 2)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b.yaml").write_text("x: 1\n")
    with pytest.raises(SourceError):
        diff_command("a", "b.yaml", cwd=tmp_path)


def test_non_integration_files_are_listed(trees: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A changed file that is neither buyer nor campaign (the suppression list) is listed as
    such and counts as a change (exit 1): its effect cannot be told from here."""
    (trees / "head" / "integrations" / "suppression.txt").write_text("5125550100\n")
    shutil.rmtree(trees / "head" / "integrations" / "leads")
    shutil.copytree(
        trees / "base" / "integrations" / "leads", trees / "head" / "integrations" / "leads"
    )
    assert main(["diff", "base", "head"]) == 1
    out = capsys.readouterr().out
    assert "suppression.txt — changed (not a buyer or campaign file)" in out
    assert "1 integration file changed: 1 not a buyer or campaign file" in out

"""The CI recipe: scripts/ci-lint, the pre-commit hooks and the documented GitHub workflow."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine.cli import main
from tests.paths import REPO
from tests.props import SLOW

ROOT = REPO
SPEC = (ROOT / "dsl-spec.md").read_text(encoding="utf-8")
LEADPOST = Path(sys.executable).with_name("leadpost")


def _fence(kind: str) -> str:
    m = re.search(rf"^```{re.escape(kind)}\n(.*?)^```", SPEC, re.MULTILINE | re.DOTALL)
    assert m, f"dsl-spec.md has no ```{kind} block"
    return m.group(1)


def _hooks() -> list[dict[str, object]]:
    return list(YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text()))


@SLOW
def test_every_pre_commit_hook_runs_a_leadpost_command_that_passes_on_the_examples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each hook's entry is a real leadpost command, and the example integrations pass it."""
    monkeypatch.chdir(ROOT)
    for hook in _hooks():
        program, *args = shlex.split(str(hook["entry"]))
        assert program == "leadpost"
        assert hook["pass_filenames"] is False
        assert main(args) == 0, hook["id"]


def test_the_documented_pre_commit_config_names_the_shipped_hooks() -> None:
    """The snippet users copy names only hook ids that .pre-commit-hooks.yaml defines."""
    config = YAML(typ="safe").load(_fence("yaml pre-commit"))
    named = {h["id"] for repo in config["repos"] for h in repo["hooks"]}
    assert named == {h["id"] for h in _hooks()}


def test_the_documented_workflow_runs_ci_lint_against_the_base_branch() -> None:
    """The GitHub workflow parses, fetches history for the diff and calls scripts/ci-lint."""
    workflow = YAML(typ="safe").load(_fence("yaml github-workflow"))
    steps = workflow["jobs"]["check"]["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.startswith('scripts/ci-lint "origin/${{ github.base_ref }}"') for r in runs)
    assert workflow["on"]["pull_request"]["paths"] == ["integrations/**"]


def _repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository holding a copy of the project's scripts and integrations, one commit."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "integrations", repo / "integrations")
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LEADPOST": str(LEADPOST),
        "LEADPOST_FORMAT": "text",
    }
    env.pop("GITHUB_ACTIONS", None)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], cwd=repo, env=env, check=True, timeout=60)
    return repo, env


def _ci_lint(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/ci-lint", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@SLOW
def test_ci_lint_passes_on_a_good_change_and_writes_the_review_diff(tmp_path: Path) -> None:
    """A behavioural change that lints and tests clean: exit 0, the Markdown diff says what
    changed (the change itself is what the review is for, not a failure)."""
    repo, env = _repo(tmp_path)
    buyer = repo / "integrations" / "buyers" / "harbor-mutual.yaml"
    buyer.write_text(buyer.read_text().replace("max_attempts: 4", "max_attempts: 3", 1))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "fewer retries"]
    subprocess.run(git, cwd=repo, env=env, check=True, timeout=60)
    run = _ci_lint(repo, env, "HEAD~1")
    assert run.returncode == 0, run.stdout + run.stderr
    review = (repo / "leadpost-diff.md").read_text()
    assert "retry attempts 4 → 3" in review
    assert "review diff written to leadpost-diff.md" in run.stdout


@SLOW
def test_ci_lint_fails_on_a_file_with_an_error_and_without_a_base_to_diff(tmp_path: Path) -> None:
    """A lint error fails the run (1); a missing base revision is said, not skipped (2)."""
    repo, env = _repo(tmp_path)
    buyer = repo / "integrations" / "buyers" / "harbor-mutual.yaml"
    buyer.write_text(buyer.read_text().replace("max_attempts: 4", "max_atempts: 4", 1))
    broken = _ci_lint(repo, env, "HEAD")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "did you mean 'max_attempts'" in broken.stdout
    missing = _ci_lint(repo, env, "origin/main")
    assert missing.returncode == 2
    assert "no revision 'origin/main' here" in missing.stderr


def test_the_contributors_pre_commit_config_runs_the_project_tools() -> None:
    """.pre-commit-config.yaml runs ruff, ruff format, mypy and leadpost's own hooks from .venv
    (nothing downloaded), and its leadpost hooks are the shipped ones."""
    config = YAML(typ="safe").load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    assert [r["repo"] for r in config["repos"]] == ["local"]
    assert {"ruff", "ruff-format", "mypy"} <= {h["id"] for h in hooks}
    for hook in hooks:
        program = shlex.split(hook["entry"])[0]
        assert program.startswith(".venv/bin/"), hook["id"]
        assert Path(sys.executable).with_name(Path(program).name).exists(), hook["id"]
    shipped = {str(h["id"]): shlex.split(str(h["entry"]))[1:] for h in _hooks()}
    ours = {h["id"]: shlex.split(h["entry"])[1:] for h in hooks if h["id"] in shipped}
    assert ours == shipped

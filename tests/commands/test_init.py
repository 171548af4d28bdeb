"""``leadpost init``: a starter project that passes lint and test, runs the demo, and ships in the
wheel (templates and schemas are package data)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rich.console import Console
from ruamel.yaml import YAML

from engine.authoring.starter import starter_files
from engine.cli import main
from engine.commands.demo import run_demo
from engine.version import leadpost_version
from tests.paths import REPO
from tests.props import SLOW

STARTER = {
    "README.md",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/integrations.yml",
    "integrations/lead-schema.yaml",
    "integrations/sandbox.yaml",
    "integrations/buyers/example-buyer.yaml",
    "integrations/campaigns/example-direct.yaml",
    "integrations/leads/sample.json",
    "integrations/leads/sample-minimal.json",
}


def test_the_starter_files() -> None:
    """Dot names are restored; the workflow installs the version that made the project."""
    files = {str(t.path): t.text for t in starter_files()}
    assert set(files) == STARTER
    workflow = YAML(typ="safe").load(files[".github/workflows/integrations.yml"])
    runs = [s["run"] for s in workflow["jobs"]["check"]["steps"] if "run" in s]
    assert f'pip install "leadpost=={leadpost_version()}"' in runs[0]
    assert any(r.startswith("leadpost lint integrations") for r in runs)
    hooks = YAML(typ="safe").load(files[".pre-commit-config.yaml"])["repos"][0]["hooks"]
    assert [h["id"] for h in hooks] == ["leadpost-lint", "leadpost-test", "leadpost-fmt"]


def test_init_writes_a_project_that_passes_lint_and_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "project"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wrote a leadpost project in project (10 files):")
    assert "  cd project" in out
    monkeypatch.chdir(tmp_path / "project")
    assert main(["lint", "integrations", "--strict"]) == 0
    assert main(["test", "integrations"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "6 passed, 0 failed"
    assert main(["fmt", "--check", "integrations"]) == 0


def test_init_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("mine\n")
    assert main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "these files exist already; nothing was written" in err
    assert f"{tmp_path / 'README.md'}" in err
    assert not (tmp_path / "integrations").exists()
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "README.md").read_text() != "mine\n"


@SLOW
def test_the_demo_runs_in_the_starter_project(tmp_path: Path) -> None:
    """The demo's flow (sandbox, lint, test, selling leads) works from the starter project."""
    assert main(["init", str(tmp_path)]) == 0
    console = Console(file=io.StringIO(), width=140)
    assert run_demo(["--root", str(tmp_path), "--leads", "12"], console) == 0
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "test: 6 passed, 0 failed" in text
    assert "12 leads in" in text and "example-buyer" in text


@SLOW
def test_the_wheel_ships_the_templates_and_schemas(tmp_path: Path) -> None:
    """Build the wheel, install it apart from this checkout, and make a project with it."""
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "-q", "-w", str(wheels)], check=True, cwd=tmp_path, timeout=300)
    [wheel] = wheels.glob("leadpost-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in STARTER:
        stored = path.replace(".github", "dot-github").replace("/.", "/dot-")
        stored = "dot-" + stored[1:] if stored.startswith(".") else stored
        assert f"engine/templates/starter/{stored}" in names, stored
    for command in ("lint", "test", "diff", "route"):
        assert f"engine/schemas/{command}.output.schema.json" in names
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
    subprocess.run([*install, str(wheel)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site)}
    work = tmp_path / "work"
    work.mkdir()

    def leadpost(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "import sys, engine.cli; sys.exit(engine.cli.main())"]
        return subprocess.run(
            [*command, *args], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )

    where = leadpost("--version")
    assert where.returncode == 0, where.stderr
    made = leadpost("init", "project")
    assert made.returncode == 0, made.stderr
    imported = subprocess.run(
        [sys.executable, "-c", "import engine; print(engine.__file__)"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.startswith(str(site))  # the wheel's copy, not this checkout
    for args in (("lint", "project/integrations"), ("test", "project/integrations")):
        done = leadpost(*args)
        assert done.returncode == 0, done.stdout + done.stderr


def test_outside_a_project_sandbox_and_demo_point_to_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In an empty folder there is no integrations/sandbox.yaml: say how to get one."""
    monkeypatch.chdir(tmp_path)
    assert main(["sandbox"]) == 1
    assert "leadpost init makes one" in capsys.readouterr().err
    console = Console(file=io.StringIO(), width=140)
    assert run_demo(["--root", str(tmp_path)], console) == 2
    assert "leadpost init makes one" in console.file.getvalue()  # type: ignore[attr-defined]

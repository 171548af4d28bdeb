"""A reader that stops reading and Ctrl-C end commands quietly, with the shell's exit codes."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from engine import cli
from engine.commands.output import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED
from tests.paths import REPO


def test_a_closed_pipe_ends_quietly_with_141() -> None:
    """`leadpost explain … | head -1`: the reader is gone before leadpost writes; no
    'Broken pipe', no 'this is a bug in leadpost', exit 141."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "explain", "integrations/buyers/harbor-mutual.yaml"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `head -1` after its line: nothing reads any more
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert stderr == ""


def test_ctrl_c_ends_quietly_with_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while a command runs: exit 130 and nothing printed (no traceback)."""
    import engine.commands.lint as lint_command

    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(lint_command, "run", interrupted)
    assert cli.main(["lint", "x.yaml"]) == EXIT_INTERRUPTED
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_a_broken_pipe_inside_a_command_is_not_called_a_bug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import engine.commands.lint as lint_command

    def closed(args: argparse.Namespace) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(lint_command, "run", closed)
    assert cli.main(["lint", "x.yaml"]) == EXIT_BROKEN_PIPE
    assert "bug" not in capsys.readouterr().err

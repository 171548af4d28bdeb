"""Small buyer files and specs written to a temporary folder, for the contract tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.authoring.lint import LintOptions, lint_file
from engine.errors import Issue
from tests.paths import REPO

ROOT = REPO
FIXTURES = ROOT / "tests" / "fixtures" / "contract"
SAMPLE_LEAD = ROOT / "integrations" / "leads" / "sample.json"

RESPONSE = """    response:
      rules:
        - if: "status == 'ok'"
          outcome: accepted
        - outcome: rejected
"""


def buyer(fields: str, spec: str, *, stage: str = "", tests: str = "", top: str = "") -> str:
    """A buyer file whose post stage has ``fields`` (indented lines) and ``spec: {...}``."""
    return (
        "buyer: contract-example\nname: Contract example\nversion: '1'\n"
        "environments:\n  test:\n    url: http://127.0.0.1:9/contract\n"
        + top
        + "stages:\n  post:\n"
        + stage
        + f"    spec: {spec}\n    fields:\n"
        + fields
        + RESPONSE
        + (f"tests:\n{tests}" if tests else "")
    )


def write(folder: Path, files: dict[str, str]) -> None:
    """The files, and the project's lead schema beside them."""
    shutil.copy(ROOT / "integrations" / "lead-schema.yaml", folder / "lead-schema.yaml")
    shutil.copy(SAMPLE_LEAD, folder / "sample.json")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def lint(folder: Path, text: str, files: dict[str, str] | None = None) -> list[Issue]:
    """Every issue of the static rules for the buyer file ``text`` beside ``files`` (without
    generated leads: tests/contract/test_lint.py covers those through lint)."""
    write(folder, files or {})
    path = folder / "buyer.yaml"
    path.write_text(text, encoding="utf-8")
    return list(lint_file(path, LintOptions(examples=0)).issues)


def codes(issues: list[Issue]) -> list[str]:
    return [i.code for i in issues]

"""``leadpost fmt``: one canonical layout, comments kept, idempotent, meaning never changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.authoring.fmt import format_text, needs_quotes
from engine.cli import main
from engine.compiler.integration import compile_document
from engine.dsl.loader import load_yaml_text
from engine.errors import AuthoringError
from engine.loading import schema_for
from tests.paths import FIXTURES, REPO

ROOT = REPO
CLI_FIXTURES = FIXTURES / "cli"
EXAMPLES = sorted((ROOT / "integrations" / "buyers").glob("*.yaml"))
ALL_FILES = [CLI_FIXTURES / "acme.yaml", *EXAMPLES]

MESSY = """\
# Acme: written out of order
name: Acme   # the display name
buyer: acme
stages:
  post:
    fields:
      Phone: {transform: [{phone: dashes}], from: lead.phone}
    # the path comes after the fields here
    path: '/post'
version: "1"
environments:
    test:
        url: "https://test.acme.example"
tests:
- name: 'plain'
  lead: {source_id: "012", zip: "+15551234567", ok: "NO", note: 'a: b', tag: "x #y"}
  expect_body: |
    {"Phone": "512-555-0142"}
"""

CANONICAL = """\
# Acme: written out of order
buyer: acme
name: Acme   # the display name
version: "1"
environments:
  test:
    url: https://test.acme.example
stages:
  post:
    # the path comes after the fields here
    path: /post
    fields:
      Phone: {from: lead.phone, transform: [{phone: dashes}]}
tests:
  - name: plain
    lead: {source_id: "012", zip: "+15551234567", ok: "NO", note: 'a: b', tag: "x #y"}
    expect_body: |
      {"Phone": "512-555-0142"}
"""


def test_canonical_layout() -> None:
    """Keys in model order (comments travel with them), 2 spaces, list items indented, quotes
    only where needed, one final newline."""
    assert format_text(MESSY, "acme.yaml") == CANONICAL


def test_canonical_layout_is_stable() -> None:
    """Formatting the canonical text changes nothing."""
    assert format_text(CANONICAL, "acme.yaml") == CANONICAL


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("NO", True),
        ("yes", True),
        ("off", True),
        ("null", True),
        ("~", True),
        ("", True),
        ("012", True),
        ("+15551234567", True),
        ("12.50", True),
        ("2024-12-15", True),
        (".inf", True),
        ("a: b", True),
        ("x #y", True),
        ("- item", True),
        ("*star", True),
        (" padded", True),
        ("<<", True),
        ("lead.phone", False),
        ("status == 'bid'", False),
        ("https://x.example/a?b=1", False),
        ("Single Family", False),
    ],
)
def test_needs_quotes(text: str, quoted: bool) -> None:
    """Quotes stay where YAML (1.1 or 1.2) or a reader could take the value for something else."""
    assert needs_quotes(text) is quoted


def test_flow_context_keeps_quotes_around_flow_characters() -> None:
    """Inside [ ] or { }, commas and brackets need quotes."""
    assert needs_quotes("a, b", in_flow=True)
    assert not needs_quotes("a, b")


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.name)
def test_idempotent_and_meaning_kept(path: Path) -> None:
    """fmt twice gives the same bytes, and the formatted file loads and compiles the same."""
    text = path.read_text(encoding="utf-8")
    once = format_text(text, path.name)
    assert format_text(once, path.name) == once
    before, after = load_yaml_text(text, path.name), load_yaml_text(once, path.name)
    assert before.data == after.data
    schema = schema_for(path)
    plan_before, issues_before = compile_document(before, schema, base_dir=str(path.parent))
    plan_after, issues_after = compile_document(after, schema, base_dir=str(path.parent))
    assert plan_before is not None and plan_after is not None
    assert [i.code for i in issues_before] == [i.code for i in issues_after]
    assert [t.expect_body for t in plan_before.tests] == [t.expect_body for t in plan_after.tests]


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=30))
def test_any_text_value_keeps_its_meaning(value: str) -> None:
    """Any value written in double quotes reads the same after fmt, and fmt is idempotent."""
    text = f"buyer: x\nname: {json.dumps(value)}\nversion: [{json.dumps(value)}]\n"
    try:
        once = format_text(text, "x.yaml")
    except AuthoringError:
        return  # text YAML itself refuses (e.g. a control character): reported, never changed
    assert load_yaml_text(once, "x.yaml").data == load_yaml_text(text, "x.yaml").data
    assert format_text(once, "x.yaml") == once


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "messy.yaml").write_text(MESSY)
    (tmp_path / "tidy.yaml").write_text(CANONICAL)
    (tmp_path / "lead-schema.yaml").write_text("fields:\n  a: {type: string}\n")
    return tmp_path


def test_check_lists_files_and_changes_nothing(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check exits 1, names the files that would change and writes nothing."""
    assert main(["fmt", "--check", "."]) == 1
    assert capsys.readouterr().out == (
        "would reformat messy.yaml\n1 file would be reformatted, 1 file unchanged\n"
    )
    assert (ws / "messy.yaml").read_text() == MESSY


def test_fmt_rewrites_files(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --check the files are rewritten; a second run finds nothing to do."""
    assert main(["fmt", "."]) == 0
    assert (
        capsys.readouterr().out == "reformatted messy.yaml\n1 file reformatted, 1 file unchanged\n"
    )
    assert (ws / "messy.yaml").read_text() == CANONICAL
    assert main(["fmt", "--check", "."]) == 0
    assert capsys.readouterr().out == "0 files would be reformatted, 2 files unchanged\n"


def test_broken_and_foreign_files(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file with a YAML error is reported and left alone; non-buyer files are skipped."""
    (ws / "broken.yaml").write_text("buyer: x\n  name: [oops\n")
    (ws / "camp.yaml").write_text("campaign:   home\n")
    assert main(["fmt", "broken.yaml", "camp.yaml", "tidy.yaml"]) == 1
    out = capsys.readouterr().out
    assert "broken.yaml:" in out and "LP101" in out
    assert out.endswith("0 files reformatted, 1 file unchanged, 1 file with problems\n")
    assert (ws / "broken.yaml").read_text() == "buyer: x\n  name: [oops\n"
    assert (ws / "camp.yaml").read_text() == "campaign:   home\n"

"""``leadpost spec check``: a changed spec, each change judged against the current mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.contract.drift import drift_report
from engine.errors import AuthoringError
from tests.contract_kit import FIXTURES, buyer, write
from tests.props import SLOW

OLD = {
    "type": "object",
    "required": ["first_name", "zip"],
    "properties": {
        "first_name": {"type": "string", "maxLength": 40},
        "zip": {"type": "string", "pattern": "^\\d{5}$"},
        "owner": {"enum": ["Y", "N", "U"]},
        "street": {"type": "string"},
    },
}
NEW = {
    "type": "object",
    "required": ["first_name", "zip", "email"],
    "additionalProperties": False,
    "properties": {
        "first_name": {"type": "string", "maxLength": 20},
        "zip": {"type": "string", "pattern": "^\\d{5}(-\\d{4})?$"},
        "owner": {"enum": ["Y", "N", "R"]},
        "email": {"type": "string"},
    },
}
FIELDS = """      first_name: {from: lead.first_name, max_length: 40}
      zip: {from: lead.address.zip, transform: [{substring: {length: 5}}]}
      owner: {from: attributes.homeowner, transform: [{translate: {own: Y, rent: N}}]}
      street: lead.address.street
"""
#: The report for OLD -> NEW (a golden file: regenerate by hand when the wording changes).
GOLDEN = (FIXTURES / "drift.golden.txt").read_text(encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, {"old.json": json.dumps(OLD), "new.json": json.dumps(NEW),
                     "buyer.yaml": buyer(FIELDS, "{json_schema: old.json}")})  # fmt: skip
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_drift_report_judges_each_change(folder: Path) -> None:
    """Every changed property is listed with whether the mapping still satisfies it."""
    text, code = drift_report("buyer.yaml", "new.json")
    assert text == GOLDEN
    assert code == 1


def test_the_same_spec_has_no_differences(folder: Path) -> None:
    """Comparing the recorded spec with itself: no differences, exit 0."""
    text, code = drift_report("buyer.yaml", "old.json")
    assert "no differences in the properties of the two specs" in text
    assert text.endswith("the mapping satisfies the new spec\n")
    assert code == 0


@SLOW
def test_cli_spec_check_exit_codes(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """leadpost spec check prints the report; 1 when broken, 0 when satisfied."""
    assert main(["spec", "check", "buyer.yaml", "--spec", "new.json"]) == 1
    assert capsys.readouterr().out == GOLDEN
    assert main(["spec", "check", "buyer.yaml", "--spec", "old.json"]) == 0


def test_a_stage_without_spec_is_a_positioned_problem(folder: Path) -> None:
    """Asking about a stage that names no spec is an authoring problem, not a traceback."""
    (folder / "plain.yaml").write_text(
        buyer(FIELDS, "{json_schema: old.json}").replace("    spec: {json_schema: old.json}\n", "")
    )
    with pytest.raises(AuthoringError) as caught:
        drift_report("plain.yaml", "new.json")
    assert caught.value.issues[0].message == "the post stage names no spec"


def test_a_broken_new_spec_is_lp701(folder: Path) -> None:
    """A new spec that cannot be read as a spec is reported with LP701."""
    (folder / "broken.json").write_text('{"type": "object",')
    with pytest.raises(AuthoringError) as caught:
        drift_report("buyer.yaml", "broken.json")
    assert caught.value.issues[0].code == "LP701"
    assert "broken.json is not valid JSON" in caught.value.issues[0].message


@SLOW
def test_generated_leads_find_what_reading_the_file_cannot(folder: Path) -> None:
    """A new ZIP pattern the cut-to-5-digits zip cannot meet: the zip is shaped by a transform,
    so reading the file cannot judge it; a generated lead shows it, under the change."""
    plus4 = json.loads(json.dumps(OLD))
    plus4["properties"]["zip"]["pattern"] = "^\\d{5}-\\d{4}$"
    (folder / "plus4.json").write_text(json.dumps(plus4))
    text, code = drift_report(folder / "buyer.yaml", folder / "plus4.json")
    assert code == 1
    change = text.split("  zip: pattern ^\\d{5}$ -> ^\\d{5}-\\d{4}$\n")[1]
    assert change.startswith(
        "    NOT satisfied: LP708 a generated lead breaks the buyer's spec: zip '"
    )
    assert "generated leads the new spec rejects" not in text


def test_a_new_spec_that_is_not_there_is_said_plainly(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --spec is about the command line, not a line of the buyer file."""
    assert main(["spec", "check", "buyer.yaml", "--spec", "nwe.json"]) == 1
    err = capsys.readouterr().err
    assert f"the new spec 'nwe.json' is not a file (a relative path is read from {folder})" in err
    assert "LP701" not in err

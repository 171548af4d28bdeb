"""Limits, stated and enforced: every refusal is a positioned problem, never a crash or a hang."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import LeadError
from engine.files import MAX_ENTRIES, MAX_VALUE_CHARS, read_limited
from engine.lead import parse_lead_json, validate_lead
from engine.lead.schema import load_lead_schema
from tests.cli_kit import edit
from tests.paths import FIXTURES


def lint(capsys: pytest.CaptureFixture[str], *args: str, allow: str = "") -> tuple[int, str]:
    code = main([*(["--allow-files-from", allow] if allow else []), "lint", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_special_files_are_refused_before_reading(tmp_path: Path) -> None:
    """/dev/zero, a pipe (which would block) and a NUL in the path: OSError with a plain reason."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path, why in [
        ("/dev/zero", "not a regular file"),
        (str(fifo), "not a regular file"),
        (str(tmp_path / "a\x00b"), "NUL character"),
    ]:
        with pytest.raises(OSError, match=why):
            read_limited(path, 10)


def test_a_pipe_as_a_buyer_file_is_lp100(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "buyer.yaml")
    code, out = lint(capsys, "buyer.yaml")
    assert code == 1
    assert "buyer.yaml:1:1: LP100 cannot read the file: it is not a regular file" in out


def test_dev_zero_as_a_test_lead_is_lp313(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`lead: /dev/zero` once exhausted memory; now it is refused (and outside the project)."""
    edit(ws, "    lead: lead.json\n", "    lead: /dev/zero\n")
    code, out = lint(capsys, "acme.yaml", allow="/dev")
    assert code == 1
    assert "LP313 lead file '/dev/zero' cannot be read: it is not a regular file" in out


def test_a_test_lead_outside_the_project_is_refused_unless_allowed(
    ws: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    shutil.copy(ws / "lead.json", elsewhere / "lead.json")
    edit(ws, "    lead: lead.json\n", f"    lead: {elsewhere / 'lead.json'}\n")
    code, out = lint(capsys, "acme.yaml")
    assert code == 1 and "LP313" in out and "is outside the project folder" in out
    assert f"--allow-files-from {elsewhere}" in out
    assert lint(capsys, "acme.yaml", allow=str(elsewhere))[0] == 0


@pytest.mark.parametrize(
    ("written", "why"),
    [("/etc/passwd", "is outside the project folder"), ("a\\0b.json", "NUL character")],
    ids=["absolute", "nul"],
)
def test_a_spec_path_outside_the_project_or_with_nul_is_lp701(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    written: str,
    why: str,
) -> None:
    folder = tmp_path / "p"
    shutil.copytree(FIXTURES / "contract", folder)
    monkeypatch.chdir(folder)
    path = folder / "acme.yaml"
    text = path.read_text().replace("../../../integrations", str(Path.cwd()))
    path.write_text(
        text.replace("{json_schema: acme.schema.json}", f'{{json_schema: "{written}"}}')
    )
    (folder / "lead-schema.yaml").exists()
    code, out = lint(capsys, "acme.yaml")
    assert code == 1
    assert "LP701" in out and why in out


def test_too_many_fields_is_lp107_at_the_first_one_too_many(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fields = "".join(f"      f{i}: lead.first_name\n" for i in range(MAX_ENTRIES + 5))
    edit(ws, "      first_name: lead.first_name\n", fields)
    code, out = lint(capsys, "acme.yaml")
    assert code == 1
    # the post's fields are ping_id, then f0 …: f999 is the entry past the limit, at its key
    assert ":7: LP107 more than 1,000 entries in one list or mapping" in out
    assert "|       f999: lead.first_name" in out


def test_deeply_nested_condition_is_lp108_not_a_recursion_error(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for parens in (900, 5000):
        deep = "(" * parens + "result == 'sold'" + ")" * parens
        edit(ws, "result == 'sold'", deep)
        code, out = lint(capsys, "acme.yaml")
        assert code == 1
        assert "LP108" in out and "unexpectedly" not in out
        if parens == 900:
            assert "nests brackets more than 50 deep" in out
        edit(ws, deep, "result == 'sold'")


def test_a_long_condition_is_lp108(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long = " || ".join(["result == 'sold'"] * 200)
    edit(ws, "if: \"result == 'sold'\"", f'if: "{long}"')
    code, out = lint(capsys, "acme.yaml")
    assert code == 1 and "LP108" in out and "at most 2,000 are allowed" in out


SCHEMA = FIXTURES / "cli" / "lead-schema.yaml"
LEAD = {
    "source_id": "pub-1",
    "timestamp": "2024-12-15T14:30:00Z",
    "lead": {"first_name": "Ann", "phone": "5125550142", "address": {"state": "TX"}},
}


def test_a_long_lead_value_is_lp109() -> None:
    schema = load_lead_schema(SCHEMA)
    lead = {**LEAD, "lead": {**LEAD["lead"], "first_name": "x" * (MAX_VALUE_CHARS + 1)}}  # type: ignore[dict-item]
    with pytest.raises(LeadError) as caught:
        validate_lead(schema, lead)
    assert [i.message for i in caught.value.issues] == [
        "lead.first_name: the value is 10,001 characters long; at most 10,000 are allowed"
    ]


def test_a_huge_lead_is_refused_before_parsing() -> None:
    with pytest.raises(LeadError, match="LP109 the lead is 300,012 characters long"):
        parse_lead_json('{"a": "' + "x" * 300_000 + '"}   ')


def test_refused_personal_values_are_masked_and_control_characters_escaped() -> None:
    """A refused birth date shows its last digits only; CR/LF in a value never appear raw."""
    schema = load_lead_schema(SCHEMA)
    lead = {**LEAD, "lead": {**LEAD["lead"], "dob": "04/12/1985\r\nX-Evil: 1"}}  # type: ignore[dict-item]
    with pytest.raises(LeadError) as caught:
        validate_lead(schema, lead)
    message = caught.value.issues[0].message
    assert message.startswith("lead.dob: '0***' is not a date"), message
    assert "\r" not in message and "\n" not in message and "04/12" not in message
    lead = {**LEAD, "sub_id": "a\r\nb" * 3000}
    with pytest.raises(LeadError) as caught:
        validate_lead(schema, lead)
    assert "\r" not in str(caught.value) and "sub_id: the value is 12,000 characters" in str(
        caught.value
    )

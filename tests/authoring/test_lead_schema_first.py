"""A mistake in the lead schema is reported first and alone, not repeated in every buyer file."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main

#: One unquoted comma inside { }: the classic slip.
SLIP = ("description: US state}", "description: US state, DC or territory}")


def _break(ws: Path) -> None:
    path = ws / "lead-schema.yaml"
    text = path.read_text()
    assert SLIP[0] in text
    path.write_text(text.replace(*SLIP))


@pytest.mark.parametrize("paths", [["."], ["acme.yaml"], ["lead-schema.yaml", "acme.yaml"]])
def test_lint_reports_the_schema_alone(
    ws: Path, capsys: pytest.CaptureFixture[str], paths: list[str]
) -> None:
    """lint shows the schema's one error, what it blocks, and checks nothing that reads it."""
    _break(ws)
    assert main(["lint", *paths]) == 1
    out = capsys.readouterr().out
    assert out == (
        "lead-schema.yaml:8:76: LP201 unknown key 'DC or territory'\n"
        '  hint: a comma inside { } starts a new entry: write description: "US state, DC or '
        'territory"\n'
        "   8 |   lead.address.state: {type: state, required: true, description: US state, DC "
        "or territory}\n"
        "                                                                                  ^\n"
        "\n"
        "fix lead-schema.yaml first: the file that reads it (acme.yaml) was not checked\n"
        "\n"
        "1 error, 0 warnings in 1 file; 1 file not checked until the lead schema is fixed\n"
    )


def test_test_reports_the_schema_alone(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """test shows the schema's error and runs no case of the files that read it."""
    _break(ws)
    assert main(["test", "."]) == 1
    out = capsys.readouterr().out
    assert out.startswith("lead-schema.yaml:8:76: LP201 unknown key 'DC or territory'\n")
    assert "fix lead-schema.yaml first: the buyer file that reads it was not run (acme.yaml)" in out
    assert "PASS" not in out and "FAIL" not in out


def test_a_sound_schema_named_is_one_file_checked(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Naming a sound lead schema checks it like any file; in a folder it is not counted."""
    assert main(["lint", "lead-schema.yaml"]) == 0
    assert capsys.readouterr().out == "1 file checked: no problems found\n"
    assert main(["lint", "."]) == 0
    assert capsys.readouterr().out == "1 file checked: no problems found\n"

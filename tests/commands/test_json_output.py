"""``--format json`` of lint, test, diff and route, and SARIF of lint: every report is valid
under its published JSON Schema (engine/schemas/) and says what the text report says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.cli import main
from engine.version import leadpost_version
from tests.cli_kit import edit
from tests.diff_kit import HARBOR, apply_edits, copy_integrations
from tests.paths import ENGINE, REPO
from tests.props import SLOW

SCHEMAS = ENGINE / "schemas"


def schema(command: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{command}.output.schema.json").read_text())
    return loaded


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """Run the command; its standard output must be one JSON document valid under its schema."""
    code = main(list(argv))
    out = capsys.readouterr().out
    document: dict[str, Any] = json.loads(out)
    jsonschema.validate(document, schema(argv[0]))
    assert document["command"] == argv[0]
    assert document["leadpost"] == leadpost_version()
    assert document["ok"] == (code == 0)
    return code, document


@pytest.mark.parametrize("name", ["lint", "test", "diff", "route"])
def test_the_schemas_are_valid_json_schemas(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))


# -- lint ----------------------------------------------------------------------------------------


def test_lint_json_clean(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "lint", "acme.yaml", "--format", "json")
    assert code == 0
    assert doc["summary"] == {"files": 1, "errors": 0, "warnings": 0, "not_checked": 0}
    assert doc["files"] == [
        {"file": "acme.yaml", "errors": 0, "warnings": 0, "problems": [], "not_checked": []}
    ]


def test_lint_json_problems(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each problem carries its code, title, severity, message, hint and position."""
    edit(ws, "token: ${env:ACME_TOKEN}", "token: sk_live_123")
    code, doc = run_json(capsys, "lint", "acme.yaml", "--format", "json")
    assert code == 1
    [problem] = doc["files"][0]["problems"]
    assert problem == {
        "code": "LP401",
        "title": "inline secret",
        "severity": "error",
        "message": "the auth token is written in the file; secrets must not be kept in buyer files",
        "hint": "write ${env:ACME_TOKEN} and set ACME_TOKEN where leadpost runs",
        "file": "acme.yaml",
        "line": 11,
        "column": 10,
    }


def test_lint_json_strict_and_warnings(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A warning passes unless --strict: ok follows the exit code."""
    edit(ws, "        - if: \"result == 'sold'\"", "        - contains: Success")
    code, doc = run_json(capsys, "lint", "acme.yaml", "--format", "json")
    assert (code, doc["summary"]["warnings"], doc["strict"]) == (0, 1, False)
    code, doc = run_json(capsys, "lint", "acme.yaml", "--format", "json", "--strict")
    assert (code, doc["strict"]) == (1, True)


def test_lint_json_broken_lead_schema(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = ws / "lead-schema.yaml"
    path.write_text(path.read_text().replace("US state}", "US state, DC}"))
    code, doc = run_json(capsys, "lint", ".", "--format", "json")
    assert code == 1
    assert doc["summary"]["not_checked"] == 1
    assert doc["files"][0]["file"] == "lead-schema.yaml"
    assert doc["files"][0]["not_checked"] == ["acme.yaml"]


# -- SARIF ---------------------------------------------------------------------------------------

#: What GitHub code scanning requires of an uploaded SARIF file (from the SARIF 2.1.0 standard
#: and GitHub's list of supported properties), written here as a schema.
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "$schema", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": {
                                                    "type": "object",
                                                    "required": ["text"],
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "message", "level"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {"text": {"type": "string", "minLength": 1}},
                                },
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation", "region"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine"],
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                            "startColumn": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            },
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_lint_sarif(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One rule per code found, one result per problem, pointing at file, line and column;
    each result's ruleIndex names its rule."""
    edit(ws, "token: ${env:ACME_TOKEN}", "token: sk_live_123")
    edit(ws, "        - if: \"result == 'sold'\"", "        - contains: Success")
    assert main(["lint", "acme.yaml", "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    jsonschema.validate(sarif, SARIF_REQUIRED)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["LP401", "LP407"]
    assert rules[0]["name"] == "InlineSecret"
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"LP401": "error", "LP407": "warning"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        where = result["locations"][0]["physicalLocation"]
        assert where["artifactLocation"]["uri"] == "acme.yaml"
    secret = next(r for r in run["results"] if r["ruleId"] == "LP401")
    assert secret["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 11,
        "startColumn": 10,
    }


def test_lint_with_nothing_to_check_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty folder is a mistake (exit 2), not a clean result."""
    assert main(["lint", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no files to check" in captured.err


# -- test ----------------------------------------------------------------------------------------


def test_test_json(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(ws, """'{"state":"TX","owner":"Y"}'""", """'{"state":"TX","owner":"N"}'""")
    code, doc = run_json(capsys, "test", "acme.yaml", "--format", "json")
    assert code == 1
    assert doc["summary"] == {"passed": 4, "failed": 1, "files_not_compiled": 0}
    [file] = doc["files"]
    failed = [c for c in file["cases"] if not c["passed"]]
    assert [(c["name"], c["line"]) for c in failed] == [
        ("the ping carries state and ownership", 50)
    ]
    assert failed[0]["problems"][0]["code"] == "LP601"


def test_test_json_file_that_does_not_compile(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(ws, "    path: /post\n", "    path: /post\n    format: jsn\n")
    code, doc = run_json(capsys, "test", "acme.yaml", "--format", "json")
    assert code == 1
    [file] = doc["files"]
    assert file["compiled"] is False
    assert file["problems"][0]["code"] == "LP205"


# -- diff ----------------------------------------------------------------------------------------


def test_diff_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    for side in ("base", "head"):
        copy_integrations(tmp_path / side)
    monkeypatch.chdir(tmp_path)
    apply_edits(tmp_path / "head", ((HARBOR, "  max_attempts: 4\n", "  max_attempts: 3\n"),))
    code, doc = run_json(capsys, "diff", "base", "head", "--format", "json")
    assert code == 1
    [changed] = [f for f in doc["files"] if f["status"] == "changed"]
    assert changed["kind"] == "buyer" and changed["behavioural"] is True
    assert any(c["text"] == "retry attempts 4 → 3" for c in changed["changes"])
    shutil.rmtree(tmp_path / "head")
    copy_integrations(tmp_path / "head")
    code, doc = run_json(capsys, "diff", "base", "head", "--format", "json")
    assert (code, doc["files"], doc["summary"]) == (0, [], "no integration files changed")


# -- route ---------------------------------------------------------------------------------------


@SLOW
def test_route_json_sold_or_not(capsys: pytest.CaptureFixture[str]) -> None:
    """The result as stored: disposition, prices as text, the trace in milliseconds."""
    integrations = REPO / "integrations"
    code, doc = run_json(
        capsys,
        "route",
        str(integrations / "campaigns" / "harbor-direct.yaml"),
        "--lead",
        str(integrations / "leads" / "sample.json"),
        "--sandbox",
        str(integrations / "sandbox.yaml"),
        "--format",
        "json",
    )
    result = doc["result"]
    assert result["campaign"] == "harbor-direct"
    assert (code == 0) == (result["disposition"] == "sold")
    assert doc["problems"] == []
    assert any(e["buyer"] == "harbor-mutual" for e in result["trace"])


def test_route_json_broken_campaign(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A campaign that does not load gives its problems, result null, exit 1."""
    (ws / "camp.yaml").write_text("campaign: c\nname: C\nmode: direct\nbuyers: [nobody]\n")
    code, doc = run_json(capsys, "route", "camp.yaml", "--lead", "lead.json", "--format", "json")
    assert code == 1
    assert doc["result"] is None
    assert doc["problems"][0]["code"] == "LP314"

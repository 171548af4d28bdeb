"""Reports for programs: ``--format json`` of lint and test, and SARIF 2.1.0 of lint.

Every JSON report follows the conventions documented in dsl-spec.md ("Output for scripts"):
one JSON object on standard output with ``leadpost`` (the version), ``command`` and
``format_version``; ``ok`` says what the exit code says; snake_case keys; a problem is always the
same object (:func:`problem`); positions are 1-based; absent values are ``null``, never left out.
The shape of each report is a JSON Schema shipped in ``engine/schemas/`` (tests validate every
report against it). SARIF is what GitHub code scanning reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.authoring.cases import TestReport
from engine.authoring.jsonout import dumps, envelope, problem
from engine.authoring.lint import FileReport
from engine.errors import CODES, Issue
from engine.version import leadpost_version

__all__ = ["cases_json", "dumps", "lint_json", "lint_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/leadpost/leadpost/blob/main/dsl-spec.md"


# -- lint ----------------------------------------------------------------------------------------


def lint_json(reports: list[FileReport], strict: bool = False) -> dict[str, Any]:
    """``leadpost lint --format json``."""
    files = [
        {
            "file": r.file,
            "errors": len(r.errors),
            "warnings": len(r.warnings),
            "problems": [problem(i) for i in r.issues],
            "not_checked": list(r.blocked),
        }
        for r in reports
    ]
    summary = {
        "files": len(reports),
        "errors": sum(len(r.errors) for r in reports),
        "warnings": sum(len(r.warnings) for r in reports),
        "not_checked": sum(len(r.blocked) for r in reports),
    }
    ok = not any(r.failed(strict) for r in reports)
    return envelope("lint", ok, strict=strict, summary=summary, files=files)


def _rules(issues: Iterable[Issue]) -> list[str]:
    return sorted({i.code for i in issues})


def lint_sarif(reports: list[FileReport]) -> dict[str, Any]:
    """``leadpost lint --format sarif``: one run, a rule per problem code found, a result per
    problem. Paths stay as leadpost shows them (relative to the working folder, which in CI is
    the repository's root)."""
    issues = [i for r in reports for i in r.issues]
    codes = _rules(issues)
    rules = [
        {
            "id": code,
            "name": _rule_name(code),
            "shortDescription": {"text": CODES[code]},
            "helpUri": f"{INFORMATION_URI}#problem-codes",
            "defaultConfiguration": {"level": "error"},
        }
        for code in codes
    ]
    results = [_sarif_result(i, codes.index(i.code)) for i in issues]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "leadpost",
                        "version": leadpost_version(),
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _rule_name(code: str) -> str:
    """A SARIF rule name: the title in PascalCase (``InlineSecret``)."""
    words = "".join(c if c.isalnum() else " " for c in CODES[code]).split()
    return "".join(w[:1].upper() + w[1:] for w in words)


def _sarif_result(issue: Issue, rule_index: int) -> dict[str, Any]:
    text = issue.message + (f"\nhint: {issue.hint}" if issue.hint else "")
    result: dict[str, Any] = {
        "ruleId": issue.code,
        "ruleIndex": rule_index,
        "level": "warning" if issue.severity == "warning" else "error",
        "message": {"text": text},
    }
    if issue.span is not None:
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": issue.span.file.replace("\\", "/")},
                    "region": {"startLine": issue.span.line, "startColumn": issue.span.col},
                }
            }
        ]
    return result


# -- test ----------------------------------------------------------------------------------------


def cases_json(report: TestReport) -> dict[str, Any]:
    """``leadpost test --format json``."""
    files = [
        {
            "file": f.file,
            "compiled": f.compiled,
            "problems": [problem(i) for i in f.issues if i.severity == "error"],
            "not_run": list(f.blocked),
            "cases": [
                {
                    "name": c.name,
                    "file": c.file,
                    "line": c.line,
                    "passed": c.passed,
                    "problems": [problem(p) for p in c.problems],
                }
                for c in f.cases
            ],
        }
        for f in report.files
    ]
    summary = {
        "passed": report.passed,
        "failed": report.failed,
        "files_not_compiled": report.broken_files,
    }
    return envelope("test", report.ok, summary=summary, files=files)

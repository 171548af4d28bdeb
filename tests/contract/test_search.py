"""The generated-leads search: planted mapping bugs are found, shrunk and pinned to their line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from engine.contract.model import Violation
from engine.contract.search import Finding, find_violations, finding_issue
from engine.lead import validate_lead
from engine.lead.schema import load_lead_schema
from engine.loading import load_integration
from engine.plan import IntegrationPlan
from tests.paths import REPO

SCHEMA = load_lead_schema(REPO / "integrations" / "lead-schema.yaml")
EXAMPLES = 60

Check = Callable[[bytes], list[Violation]]

BUYER = """\
buyer: spec-buyer
name: Spec Buyer
version: "1"
environments:
  test:
    url: http://127.0.0.1:8701/spec-buyer
auth:
  type: api_key
  header: X-Api-Key
  key: ${{env:SPEC_KEY}}
stages:
  post:
    fields:
      email: lead.email
{fields}
    response:
      rules:
        - if: "status == 'ok'"
          outcome: accepted
"""

SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["email"],
    "properties": {
        "email": {"type": "string"},
        "street": {"type": "string", "maxLength": 40},
        "credit": {"enum": ["A", "B", "C", "D"]},
        "birth_date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    },
}


def json_schema_check(schema: dict[str, Any], where: str) -> Check:
    """A tiny stand-in for BuyerSpec.validate: jsonschema errors as Violations."""
    validator = Draft202012Validator(schema)

    def check(body: bytes) -> list[Violation]:
        found = []
        for error in validator.iter_errors(json.loads(body)):
            kind = str(error.validator)
            rule = kind if kind in ("enum", "required") else f"{kind}: {error.validator_value}"
            pointer = "/".join(str(p) for p in error.absolute_schema_path)
            found.append(
                Violation(tuple(error.absolute_path), rule, error.message, f"{where}#/{pointer}")
            )
        return found

    return check


CHECK = json_schema_check(SPEC, "specs/spec-buyer.schema.json")


def buyer(tmp_path: Path, fields: str) -> IntegrationPlan:
    """A small buyer file under tmp_path with these extra lines under ``fields:``."""
    path = tmp_path / "spec-buyer.yaml"
    path.write_text(BUYER.format(fields=fields), encoding="utf-8")
    return load_integration(path, SCHEMA)


def search(plan: IntegrationPlan, check: Check = CHECK, **kw: Any) -> list[Finding]:
    return find_violations(plan, "post", SCHEMA, check, examples=EXAMPLES, **kw)


def line_of(plan: IntegrationPlan, text: str) -> int:
    return next(i for i, line in enumerate(plan.source.splitlines(), 1) if text in line)


# -- planted bugs --------------------------------------------------------------------------------

STREET = "      street: lead.address.street\n"
CREDIT = """\
      credit:
        from: attributes.credit_tier
        transform: [{translate: {map: {excellent: A, good: B, poor: D}, unmapped: keep}}]
"""
BIRTH = '      birth_date: {from: lead.dob, transform: [{date: "%m/%d/%Y"}]}\n'


def test_a_max_length_the_mapping_does_not_enforce_is_found_with_a_minimal_lead(
    tmp_path: Path,
) -> None:
    """A 40-character limit without max_length: the street shrinks to 41 characters, and the
    finding points at the street field's line."""
    plan = buyer(tmp_path, STREET)
    [finding] = search(plan)
    assert finding.violation.rule == "maxLength: 40"
    assert finding.violation.path == ("street",)
    assert finding.field is not None and finding.field.span.line == line_of(plan, "street:")
    street = validate_lead(SCHEMA, finding.lead)["lead"]["address"]["street"]
    assert 41 <= len(street) <= 43
    assert finding.value == street
    assert json.loads(finding.body)["street"] == street


def test_a_translate_map_missing_a_choice_is_found_naming_the_value(tmp_path: Path) -> None:
    """'fair' is not in the map and passes through unchanged: the spec's enum rejects it."""
    plan = buyer(tmp_path, CREDIT)
    [finding] = search(plan)
    assert finding.violation.rule == "enum"
    assert finding.value == "fair"
    assert finding.field is not None and finding.field.name == "credit"
    assert "'fair'" in finding_issue(plan, finding).message


def test_a_date_format_the_pattern_rejects_is_found(tmp_path: Path) -> None:
    """A birth date written %m/%d/%Y breaks the spec's ^\\d{4}-\\d{2}-\\d{2}$ pattern."""
    plan = buyer(tmp_path, BIRTH)
    [finding] = search(plan)
    assert finding.violation.rule.startswith("pattern: ")
    assert finding.field is not None and finding.field.span.line == line_of(plan, "birth_date")
    assert isinstance(finding.value, str) and finding.value[2] == "/"


def test_a_correct_mapping_gives_no_finding(tmp_path: Path) -> None:
    """The same fields written right: max_length, a full translate map, an ISO date."""
    fields = """\
      street: {from: lead.address.street, max_length: 40}
      credit:
        from: attributes.credit_tier
        transform: [{translate: {map: {excellent: A, good: B, fair: C, poor: D}}}]
      birth_date: {from: lead.dob, transform: [{date: "%Y-%m-%d"}]}
"""
    calls: list[bytes] = []

    def counting(body: bytes) -> list[Violation]:
        calls.append(body)
        return CHECK(body)

    assert search(buyer(tmp_path, fields), counting) == []
    assert len(calls) >= EXAMPLES // 2  # leads were really sent and checked


def test_the_same_input_gives_the_same_findings(tmp_path: Path) -> None:
    """A fixed seed: two searches give equal findings, lead for lead and byte for byte."""
    plan = buyer(tmp_path, STREET + CREDIT + BIRTH)
    first = search(plan)
    assert first == search(plan)
    assert {f.violation.path for f in first} == {("street",), ("credit",), ("birth_date",)}


def test_limit_caps_the_number_of_findings(tmp_path: Path) -> None:
    """Three bugs, limit 1: one finding."""
    assert len(search(buyer(tmp_path, STREET + CREDIT + BIRTH), limit=1)) == 1

"""A file that does not validate still gets every problem of its valid parts reported."""

from __future__ import annotations

from engine.compiler.integration import compile_document
from engine.dsl.loader import load_yaml_text
from engine.lead.schema import load_lead_schema
from tests.paths import INTEGRATIONS

SCHEMA = load_lead_schema(INTEGRATIONS / "lead-schema.yaml")

TEXT = """\
buyer: oops
name: Oops
version: "1"
environments:
  test: {url: "http://127.0.0.1:9/x"}
stages:
  post:
    fromat: json
    fields:
      st: lead.adress.state
      phone:
        from: lead.phone
        transform: [uper]
      both:
        from: lead.email
        value: X
      tier:
        when:
          - if: "attributes.credit_tier == excellent'"
            then: {value: A}
    response:
      rules:
        - if: "status =="
          outcome: accepted
"""


def test_schema_errors_do_not_hide_compile_errors() -> None:
    """A misspelt key, and also the bad lead field, transform, conditions, all in one pass."""
    plan, issues = compile_document(load_yaml_text(TEXT, "oops.yaml"), SCHEMA)
    assert plan is None
    found = [(i.code, i.span.line if i.span else 0) for i in issues]
    assert found == [
        ("LP201", 8),
        ("LP304", 10),
        ("LP301", 13),
        ("LP204", 15),
        ("LP303", 19),
        ("LP303", 23),
    ]


def test_no_problem_is_reported_twice() -> None:
    """The parts compiled again do not repeat what validation already said."""
    _plan, issues = compile_document(load_yaml_text(TEXT, "oops.yaml"), SCHEMA)
    keys = [(i.code, i.span) for i in issues]
    assert len(keys) == len(set(keys))

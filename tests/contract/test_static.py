"""The static contract rules: each one passes a good mapping and reports a bad one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract_kit import FIXTURES, buyer, codes, lint

SCHEMA = {
    "type": "object",
    "required": ["first_name", "phone", "contact"],
    "properties": {
        "first_name": {"type": "string", "maxLength": 20},
        "phone": {"type": "string", "pattern": "^\\d{3}-\\d{3}-\\d{4}$"},
        "owner": {"enum": ["Y", "N"]},
        "value": {"type": "integer"},
        "tcpa": {"type": "boolean"},
        "contact": {
            "type": "object",
            "required": ["email"],
            "additionalProperties": False,
            "properties": {"email": {"type": "string"}, "city": {"type": "string"}},
        },
        "vehicle": {
            "type": "object",
            "required": ["year"],
            "properties": {"year": {"type": "integer"}, "make": {"type": "string"}},
        },
    },
}
SPEC = "{json_schema: spec.json}"
GOOD = """      first_name: {from: lead.first_name, max_length: 20}
      phone: {from: lead.phone, transform: [{phone: dashes}]}
      contact.email: lead.email
"""


def _lint(tmp_path: Path, fields: str, *, tests: str = "", schema: object = SCHEMA) -> list[str]:
    text = buyer(fields, SPEC, tests=tests)
    return codes(lint(tmp_path, text, {"spec.json": json.dumps(schema)}))


def test_a_mapping_that_satisfies_the_spec_has_no_findings(tmp_path: Path) -> None:
    """Every rule passes the minimal good mapping."""
    assert _lint(tmp_path, GOOD) == []


def test_the_fixture_buyers_satisfy_their_specs() -> None:
    """The JSON Schema, OpenAPI and XSD (SOAP) example buyers lint clean."""
    from engine.authoring.lint import lint_paths

    reports = lint_paths([FIXTURES])
    assert [i.render() for r in reports for i in r.issues] == []
    assert len(reports) == 3


def test_required_property_not_sent_is_lp702_at_the_spec_key(tmp_path: Path) -> None:
    """A required property nobody sends is reported at the stage's spec: key."""
    text = buyer(GOOD.replace("      contact.email: lead.email\n", ""), SPEC)
    issues = lint(tmp_path, text, {"spec.json": json.dumps(SCHEMA)})
    assert codes(issues) == ["LP702"]
    spec_line = text.splitlines().index(f"    spec: {SPEC}") + 1
    assert issues[0].span is not None and (issues[0].span.line, issues[0].span.col) == (
        spec_line,
        5,
    )
    assert "requires 'contact'" in issues[0].message


def test_required_inside_an_optional_group_counts_only_when_the_group_is_sent(
    tmp_path: Path,
) -> None:
    """vehicle.year is required only when something sends vehicle."""
    assert _lint(tmp_path, GOOD) == []
    assert _lint(tmp_path, GOOD + "      vehicle.make: attributes.vehicle_make\n") == ["LP702"]


ACCEPTED_WITHOUT = """  - name: the buyer accepted a lead without contact
    lead: sample.json
    expect_body: '{"first_name":"John","phone":"512-555-0142"}'
    response: {status: 200, body: '{"status": "ok"}'}
    expect: {outcome: accepted}
"""


def test_a_recorded_acceptance_waives_a_required_property(tmp_path: Path) -> None:
    """A test with a lead, a body lacking it and an accepted sample response waives LP702."""
    fields = GOOD.replace("      contact.email: lead.email\n", "")
    assert _lint(tmp_path, fields, tests=ACCEPTED_WITHOUT) == []
    rejected = ACCEPTED_WITHOUT.replace("outcome: accepted}", "outcome: rejected}")
    assert "LP702" in _lint(tmp_path, fields, tests=rejected)


def test_required_property_from_an_optional_lead_field_is_lp709(tmp_path: Path) -> None:
    """An optional lead field left out when missing cannot fill a required property."""
    fields = GOOD.replace("contact.email: lead.email", "contact.email: attributes.current_carrier")
    assert _lint(tmp_path, fields) == ["LP709"]
    fixed = fields.replace(
        "attributes.current_carrier", "{from: attributes.current_carrier, if_missing: reject}"
    )
    assert _lint(tmp_path, fixed) == []


def test_a_when_without_else_may_leave_a_required_property_out(tmp_path: Path) -> None:
    """LP709 names the missing else."""
    fields = GOOD.replace(
        "contact.email: lead.email",
        "contact.email: {when: [{if: \"lead.email != ''\", then: lead.email}]}",
    )
    text = buyer(fields, SPEC)
    issues = lint(tmp_path, text, {"spec.json": json.dumps(SCHEMA)})
    assert codes(issues) == ["LP709"]
    assert "the 'when' has no 'else'" in issues[0].message


def test_field_not_in_a_closed_group_is_an_error(tmp_path: Path) -> None:
    """contact allows no other property: LP703 error with a did-you-mean."""
    text = buyer(GOOD + "      contact.citty: lead.address.city\n", SPEC)
    issues = lint(tmp_path, text, {"spec.json": json.dumps(SCHEMA)})
    assert codes(issues) == ["LP703"]
    assert issues[0].severity == "error"
    assert issues[0].hint == "did you mean 'city'?"


def test_field_the_spec_does_not_ask_for_is_a_warning(tmp_path: Path) -> None:
    """The document is open: an undeclared field is a data-minimisation warning."""
    text = buyer(GOOD + "      dob: lead.dob\n", SPEC)
    issues = lint(tmp_path, text, {"spec.json": json.dumps(SCHEMA)})
    assert [(i.code, i.severity) for i in issues] == [("LP703", "warning")]
    assert "does not ask for" in issues[0].message


@pytest.mark.parametrize(
    "field,found",
    [
        ("value: attributes.home_value", []),
        ("value: {from: attributes.home_value, transform: [{currency: {}}]}", ["LP704"]),
        ("value: {from: attributes.current_premium, type: integer}", []),
        ("value: attributes.current_premium", ["LP704"]),
        ("tcpa: consent.tcpa_consent", []),
        ("tcpa: {from: consent.tcpa_consent, transform: [{boolean: [Y, N]}]}", ["LP704"]),
    ],
    ids=["integer", "money-text", "typed", "number", "boolean", "yes-no-text"],
)
def test_json_types_must_agree(tmp_path: Path, field: str, found: list[str]) -> None:
    """JSON types match the spec's: typed lead fields stay typed, transforms give text."""
    assert _lint(tmp_path, GOOD + f"      {field}\n") == found


@pytest.mark.parametrize(
    "field,found",
    [
        ("owner: {from: attributes.homeowner, transform: [{translate: {own: Y, rent: N}}]}", []),
        ("owner: {from: attributes.homeowner, transform: [{translate: {own: Y, rent: R}}]}",
         ["LP705"]),
        ("owner: {value: Y}", []),
        ("owner: attributes.homeowner", ["LP705"]),
        ("owner: {from: attributes.current_carrier}", ["LP705"]),
        ("owner: {from: consent.tcpa_consent, transform: [{boolean: [Y, N]}]}", []),
    ],
    ids=["translate", "translate-unlisted", "constant", "enum-lead-field", "free-text", "boolean"],
)  # fmt: skip
def test_choices_come_from_a_finite_set_inside_the_enum(
    tmp_path: Path, field: str, found: list[str]
) -> None:
    """LP705 unless every possible value is one of the spec's choices."""
    assert _lint(tmp_path, GOOD + f"      {field}\n") == found


def test_lp705_names_the_values_not_covered(tmp_path: Path) -> None:
    """The message lists exactly the values outside the enum."""
    field = (
        "      owner: {from: attributes.homeowner, transform: [{translate: {own: Y, rent: R}}]}\n"
    )
    issues = lint(tmp_path, buyer(GOOD + field, SPEC), {"spec.json": json.dumps(SCHEMA)})
    assert "may send 'R', which the buyer's spec does not list" in issues[0].message


@pytest.mark.parametrize(
    "field,found",
    [
        ("first_name: lead.first_name", ["LP706"]),
        ("first_name: {from: lead.first_name, max_length: 25}", ["LP706"]),
        ("first_name: {from: lead.first_name, max_length: 20, too_long: reject}", []),
        ("first_name: {from: lead.address.state}", []),
        ("first_name: {from: consent.consent_timestamp, transform: [{date: '%m/%d/%Y'}]}", []),
        ("first_name: {from: lead.email, transform: [{substring: {length: 5}}]}", []),
        ("first_name: {from: lead.email, transform: [{hash: sha256}]}", ["LP706"]),
    ],
    ids=["plain", "too-long-limit", "limit", "state", "date", "substring", "sha256"],
)
def test_max_length_is_guaranteed(tmp_path: Path, field: str, found: list[str]) -> None:
    """LP706 unless max_length, a finite set or a fixed-length format keeps within the limit."""
    fields = GOOD.replace("first_name: {from: lead.first_name, max_length: 20}", field)
    assert _lint(tmp_path, fields) == found


def test_lp706_hint_gives_the_max_length_to_write(tmp_path: Path) -> None:
    """The hint says which max_length fixes it."""
    fields = GOOD.replace("{from: lead.first_name, max_length: 20}", "lead.first_name")
    issues = lint(tmp_path, buyer(fields, SPEC), {"spec.json": json.dumps(SCHEMA)})
    assert issues[0].hint is not None and issues[0].hint.startswith("add max_length: 20")


@pytest.mark.parametrize(
    "field,found",
    [
        ("phone: {from: lead.phone, transform: [{phone: dashes}]}", []),
        ("phone: {value: 555-123-4567}", []),
        ("phone: {value: '5551234567'}", ["LP707"]),
        ("phone: lead.address.street", ["LP707"]),
        ("phone: {from: lead.address.street, transform: [digits]}", []),
    ],
    ids=["formatted", "constant-matching", "constant-not-matching", "free-text", "shaped"],
)
def test_pattern_is_guaranteed(tmp_path: Path, field: str, found: list[str]) -> None:
    """LP707 for free text or a finite value that does not match; a formatting step passes."""
    fields = GOOD.replace("phone: {from: lead.phone, transform: [{phone: dashes}]}", field)
    assert _lint(tmp_path, fields) == found


def test_an_expected_body_that_breaks_the_spec_is_lp714(tmp_path: Path) -> None:
    """A test's expect_body is validated against the spec, at the expect_body line."""
    tests = """  - name: a wrong expectation
    lead: sample.json
    expect_body: '{"first_name":"John","phone":"5125550142","contact":{"email":"a@b.co"}}'
"""
    text = buyer(GOOD, SPEC, tests=tests)
    issues = lint(tmp_path, text, {"spec.json": json.dumps(SCHEMA)})
    assert codes(issues) == ["LP714"]
    assert "'5125550142' does not have the form the buyer expects" in issues[0].message
    body_line = next(i for i, line in enumerate(text.splitlines(), 1) if "expect_body" in line)
    assert issues[0].span is not None and issues[0].span.line == body_line


XSD = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="Lead">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Age" type="xs:integer"/>
        <xs:element name="Owner" type="xs:boolean" minOccurs="0"/>
      </xs:sequence>
      <xs:attribute name="source" type="xs:string"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


@pytest.mark.parametrize(
    "fields,found",
    [
        ("      Age: {from: lead.dob, transform: [age], if_missing: reject}\n", []),
        ("      Age: {from: timestamp, transform: [{date: '%Y year'}]}\n", ["LP704"]),
        ("      Age: {value: '42'}\n", []),
        ("      Age: {value: '42'}\n      Owner: consent.tcpa_consent\n", []),
        ("      Age: {value: '42'}\n      Owner: {from: consent.tcpa_consent, "
         "transform: [{boolean: [Y, N]}]}\n", ["LP704"]),
        ("      Age: {value: '42'}\n      '@source': source_id\n", []),
        ("      Age: {value: '42'}\n      Extra: source_id\n", ["LP703"]),
    ],
    ids=["age", "year-text", "constant", "boolean", "yes-no", "attribute", "closed"],
)  # fmt: skip
def test_xml_text_must_read_as_the_xsd_type(tmp_path: Path, fields: str, found: list[str]) -> None:
    """In XML every value is text; it must read as the XSD type, and elements are closed."""
    stage = "    format: xml\n    xml: {root: Lead}\n"
    text = buyer(fields, "{xsd: spec.xsd}", stage=stage)
    assert codes(lint(tmp_path, text, {"spec.xsd": XSD})) == found

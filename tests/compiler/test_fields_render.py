"""Computing fields for a lead: sources, missing values, transforms, length, type and tracing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from engine.compiler.context import CompileContext
from engine.compiler.fields import compile_fields
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import Fields
from engine.errors import MappingError
from engine.lead import FieldSpec as LeadField
from engine.lead import LeadSchema
from engine.plan import OMIT, FieldPlan, RenderContext, TraceStep

SCHEMA = LeadSchema(
    {
        "lead.first_name": LeadField("string", pii=True),
        "lead.last_name": LeadField("string", pii=True),
        "lead.phone": LeadField("phone", pii=True),
        "lead.dob": LeadField("date", pii=True),
        "lead.address.zip": LeadField("zip"),
        "lead.address.state": LeadField("state"),
        "attributes.homeowner": LeadField("enum", values=("own", "rent")),
        "attributes.home_value": LeadField("integer"),
        "attributes.currently_insured": LeadField("boolean"),
    }
)
LEAD: dict[str, Any] = {
    "lead": {
        "first_name": "John",
        "last_name": "Smith",
        "phone": "5125550142",
        "dob": "1985-04-12",
        "address": {"zip": "78701", "state": "TX"},
    },
    "attributes": {"homeowner": "own", "home_value": 350000, "currently_insured": True},
}
NOW = datetime(2024, 12, 15, 14, 30, tzinfo=UTC)


def compile_text(
    fields_yaml: str, schema: Any = SCHEMA, ping: frozenset[str] | None = None
) -> dict[str, FieldPlan]:
    """Compile a ``fields:`` mapping (indented by two spaces); it must compile cleanly."""
    doc = load_yaml_text("fields:\n" + fields_yaml, "buyer.yaml")
    fields = TypeAdapter(Fields).validate_python(doc.data["fields"])
    ctx = CompileContext(doc.source, schema)
    if ping is not None:
        ctx.stage_values["ping"] = ping
    plans = compile_fields(fields, ("fields",), ctx)
    assert not ctx.issues, [i.render() for i in ctx.issues]
    return {p.name: p for p in plans}


def render(fields_yaml: str, lead: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """Every field's value for ``lead`` (OMIT for left-out fields)."""
    prior = kw.get("prior", {})
    plans = compile_text(fields_yaml, ping=frozenset(prior["ping"]) if "ping" in prior else None)
    ctx = RenderContext(lead=LEAD if lead is None else lead, now=NOW, **kw)
    return {name: plan.compute(ctx) for name, plan in plans.items()}


def one(spec: str, lead: dict[str, Any] | None = None, **kw: Any) -> Any:
    return render(f"  F: {spec}\n", lead, **kw)["F"]


def with_lead(**changes: Any) -> dict[str, Any]:
    return {**LEAD, "lead": {**LEAD["lead"], **changes}}


CASES: list[tuple[str, str, dict[str, Any] | None, Any]] = [
    ("copy", "lead.first_name", None, "John"),
    ("nested-path", "lead.address.zip", None, "78701"),
    ("from", "{from: attributes.home_value}", None, 350000),
    ("absent-is-omitted", "lead.dob", with_lead(dob=None), OMIT),
    ("empty-is-missing", "{from: lead.first_name}", with_lead(first_name=""), OMIT),
    ("null-when-missing", "{from: lead.dob, if_missing: null}", with_lead(dob=None), None),
    ("default-when-missing", "{from: lead.dob, default: unknown}", with_lead(dob=None), "unknown"),
    (
        "default-is-not-transformed",
        "{from: lead.dob, transform: [upper], default: n/a}",
        with_lead(dob=None),
        "n/a",
    ),
    (
        "default-typed",
        "{from: attributes.home_value, default: '0', type: integer}",
        {"lead": {}},
        0,
    ),
    (
        "transform-left-nothing",
        "{from: lead.phone, transform: [{after: x}], default: none}",
        None,
        "none",
    ),
    ("constant", "{value: Acme Leads}", None, "Acme Leads"),
    ("empty-constant-is-sent", "{value: ''}", None, ""),
    ("constant-typed", "{value: '12', type: integer}", None, 12),
    ("concat", "{concat: [lead.first_name, lead.last_name]}", None, "John Smith"),
    (
        "concat-separator",
        "{concat: [lead.address.state, lead.address.zip], separator: '-'}",
        None,
        "TX-78701",
    ),
    (
        "concat-skips-missing",
        "{concat: [lead.first_name, lead.dob, lead.last_name]}",
        with_lead(dob=None),
        "John Smith",
    ),
    ("concat-all-missing", "{concat: [lead.dob]}", with_lead(dob=None), OMIT),
    (
        "transforms-in-order",
        "{from: lead.first_name, transform: [upper, {substring: {length: 2}}]}",
        None,
        "JO",
    ),
    ("max-length-truncates", "{from: lead.last_name, max_length: 3}", None, "Smi"),
    ("type-string", "{from: attributes.home_value, type: string}", None, "350000"),
    ("type-boolean", "{from: attributes.currently_insured, type: boolean}", None, True),
]


@pytest.mark.parametrize(
    ("spec", "lead", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_field_value(spec: str, lead: dict[str, Any] | None, expected: Any) -> None:
    """A field computes the documented value (OMIT when it is left out)."""
    result = one(spec, lead)
    assert result == expected and type(result) is type(expected)


WHEN = """{when: [{if: "attributes.homeowner == 'own'", then: {value: Owner}},
                 {if: "lead.address.state == 'TX'", then: lead.address.state}],
         else: {value: Other, transform: [upper]}}"""


@pytest.mark.parametrize(
    ("homeowner", "state", "expected"),
    [("own", "CA", "Owner"), ("rent", "TX", "TX"), ("rent", "CA", "OTHER")],
    ids=["first-case", "second-case", "else"],
)
def test_when_first_matching_case_wins(homeowner: str, state: str, expected: str) -> None:
    """Conditions are tried in order; `else` applies when none holds."""
    lead = {**LEAD, "attributes": {"homeowner": homeowner}, "lead": {"address": {"state": state}}}
    assert one(WHEN, lead) == expected


def test_when_without_match_or_else_is_missing() -> None:
    """No matching case and no else: the field is missing (omitted, or its default)."""
    spec = "{when: [{if: \"lead.address.state == 'CA'\", then: {value: CA}}]"
    assert one(spec + "}") is OMIT
    assert one(spec + ", default: other}") == "other"


def test_when_condition_uses_jmespath_truth() -> None:
    """0 is true in JMESPath; false, null and empty text are not."""
    spec = '{when: [{if: "attributes.home_value", then: {value: has}}], else: {value: none}}'
    assert one(spec, {"attributes": {"home_value": 0}}) == "has"
    assert one(spec, {"attributes": {"home_value": ""}}) == "none"


def test_when_condition_failing_at_run_time_is_mapping_error() -> None:
    """A condition that cannot be checked for this lead refuses it with a reason."""
    with pytest.raises(MappingError) as info:
        one('{when: [{if: "length(attributes.home_value) > `1`", then: {value: x}}]}')
    assert info.value.reason.startswith("the condition length(attributes.home_value) > `1` could")
    assert info.value.field == "F"


def test_reject_when_missing() -> None:
    """if_missing: reject refuses the lead, naming the field and its position."""
    with pytest.raises(MappingError) as info:
        render("  Phone: {from: lead.phone, if_missing: reject}\n", with_lead(phone=None))
    err = info.value
    assert err.reason == "lead.phone is missing; this buyer requires it"
    assert err.field == "Phone" and err.span is not None and (err.span.line, err.span.col) == (2, 3)


def test_too_long_reject() -> None:
    """too_long: reject refuses a value longer than max_length."""
    with pytest.raises(MappingError) as info:
        one("{from: lead.last_name, max_length: 3, too_long: reject}")
    assert (
        info.value.reason
        == "max_length: 'Smith' is 5 characters long; this buyer accepts at most 3"
    )


def test_transform_error_points_at_step() -> None:
    """A step that fails names itself and points at its line."""
    fields = "  Phone:\n    from: lead.phone\n    transform:\n      - trim\n      - phone: dashes\n"
    with pytest.raises(MappingError) as info:
        render(fields, with_lead(phone="555-0142"))
    err = info.value
    assert err.reason == "phone: '555-0142' is not a 10-digit US phone number"
    assert err.field == "Phone" and err.span is not None and (err.span.line, err.span.col) == (6, 9)


def test_type_error_is_mapping_error() -> None:
    """A value that does not fit `type:` refuses the lead."""
    with pytest.raises(MappingError) as info:
        one("{from: lead.first_name, type: integer}")
    assert info.value.reason == "type integer: 'John' cannot be sent as a whole number"


def test_object_value_is_refused_without_schema() -> None:
    """Without a lead schema to catch it, an object value is refused when rendering."""
    plans = compile_text("  A: lead.address\n", schema=None)
    with pytest.raises(MappingError) as info:
        plans["A"].compute(RenderContext(lead=LEAD, now=NOW))
    assert (
        info.value.reason
        == "lead.address is an object, not a single value; pick one field inside it"
    )


def test_environment_constant() -> None:
    """${env:NAME} is read from the render context; a missing variable is a MappingError."""
    spec = "{value: 'key-${env:API_KEY}'}"
    assert one(spec, environ={"API_KEY": "s3cret"}) == "key-s3cret"
    with pytest.raises(MappingError) as info:
        one(spec)
    assert (
        info.value.reason == "environment variable API_KEY is not set" and info.value.field == "F"
    )


def test_prior_stage_value() -> None:
    """from: ping.ping_id reads the value the ping stage extracted; type makes it text."""
    prior = {"ping": {"ping_id": 123}}
    assert one("{from: ping.ping_id, type: string}", prior=prior) == "123"
    assert one("{from: ping.ping_id}", prior=prior) == 123


def test_description_and_reads() -> None:
    """Plans describe themselves in plain English and list the lead fields they send."""
    plans = compile_text(
        "  Phone: {from: lead.phone, transform: [{phone: dashes}], max_length: 12}\n"
        "  Name: {concat: [lead.first_name, lead.last_name], if_missing: reject}\n"
        f"  Kind: {WHEN}\n"
        "  Zip: {from: lead.address.zip, type: integer, default: '0'}\n"
    )
    assert (
        plans["Phone"].description == "lead.phone, formatted as 555-123-4567, at most 12 characters"
    )
    assert plans["Name"].description == (
        "lead.first_name and lead.last_name joined by ' ', the lead is refused when it is missing"
    )
    assert plans["Kind"].description == (
        "when attributes.homeowner == 'own': (the text 'Owner'); "
        "when lead.address.state == 'TX': lead.address.state; "
        "otherwise (the text 'Other', in capital letters)"
    )
    assert plans["Zip"].description == "lead.address.zip, sent as a whole number, '0' when missing"
    assert plans["Phone"].reads == ("lead.phone",)
    assert plans["Name"].reads == ("lead.first_name", "lead.last_name")
    assert plans["Kind"].reads == ("lead.address.state",)


def test_pii_flag() -> None:
    """A field reading a PII lead field is PII, unless a hash step makes it unreadable."""
    plans = compile_text(
        "  Phone: lead.phone\n"
        "  PhoneHash: {from: lead.phone, transform: [digits, hash]}\n"
        "  Zip: lead.address.zip\n"
        "  Name: {concat: [lead.address.state, lead.first_name]}\n"
    )
    assert {name: p.pii for name, p in plans.items()} == {
        "Phone": True,
        "PhoneHash": False,
        "Zip": False,
        "Name": True,
    }


def test_output_paths_and_spans() -> None:
    """Output names are parsed into paths; the span is the name's position."""
    plans = compile_text("  contact.phones[0].@type: {value: mobile}\n  Zip: lead.address.zip\n")
    assert plans["contact.phones[0].@type"].path == ("contact", "phones", 0, "@type")
    span = plans["Zip"].span
    assert (span.file, span.line, span.col) == ("buyer.yaml", 3, 3)


def test_trace_records_each_step() -> None:
    """With a trace list, each field records its source value and every step's result."""
    plans = compile_text(
        "  Phone: {from: lead.phone, transform: [{phone: dashes}], type: string}\n"
        "  Key: {value: '${env:KEY}'}\n"
        "  Dob: {from: lead.dob, default: none}\n"
    )
    trace: list[TraceStep] = []
    ctx = RenderContext(lead=with_lead(dob=None), now=NOW, environ={"KEY": "s3cret"}, trace=trace)
    values = {name: p.compute(ctx) for name, p in plans.items()}
    assert values == {"Phone": "512-555-0142", "Key": "s3cret", "Dob": "none"}
    assert [(t.field, t.step, t.value) for t in trace] == [
        ("Phone", "lead.phone", "5125550142"),
        ("Phone", "formatted as 555-123-4567", "512-555-0142"),
        ("Phone", "type string", "512-555-0142"),
        ("Key", "the text '${env:KEY}'", "${env:KEY}"),
        ("Dob", "lead.dob", None),
        ("Dob", "missing: the default is sent", "none"),
    ]
    assert trace[1].span is not None and trace[1].span.line == 2


def test_fast_and_traced_paths_agree() -> None:
    """Computing with and without a trace gives the same values."""
    plans = compile_text(f"  A: {WHEN}\n  B: {{from: lead.phone, transform: [{{phone: dots}}]}}\n")
    for lead in (LEAD, {**LEAD, "attributes": {"homeowner": "rent"}}):
        plain = RenderContext(lead=lead, now=NOW)
        traced = RenderContext(lead=lead, now=NOW, trace=[])
        assert [p.compute(plain) for p in plans.values()] == [
            p.compute(traced) for p in plans.values()
        ]

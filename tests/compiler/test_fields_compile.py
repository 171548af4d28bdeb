"""Compile errors of fields: codes, messages, hints and positions; output-name parsing."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from engine.compiler.context import CompileContext
from engine.compiler.fields import compile_fields
from engine.compiler.fields_paths import parse_output_path
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import Fields
from engine.errors import Issue
from engine.lead import FieldSpec as LeadField
from engine.lead import LeadSchema
from engine.plan import FieldPlan

SCHEMA = LeadSchema(
    {
        "lead.first_name": LeadField("string", pii=True),
        "lead.phone": LeadField("phone", pii=True),
        "lead.address.zip": LeadField("zip"),
        "lead.address.state": LeadField("state"),
        "attributes.homeowner": LeadField("enum", values=("own", "rent")),
    }
)


class PathsOnly:
    """A stand-in lead schema with nothing but ``paths``."""

    paths = frozenset({"lead", "lead.phone"})


def compile_text(
    fields_yaml: str, schema: Any = SCHEMA, stage_values: dict[str, frozenset[str]] | None = None
) -> tuple[list[FieldPlan], list[Issue]]:
    """Compile a ``fields:`` mapping written from line 2 on; the plans and the issues."""
    doc = load_yaml_text("fields:\n" + fields_yaml, "buyer.yaml")
    fields = TypeAdapter(Fields).validate_python(doc.data["fields"])
    ctx = CompileContext(doc.source, schema, stage_values=dict(stage_values or {}))
    plans = compile_fields(fields, ("fields",), ctx)
    return list(plans), ctx.issues


def summary(issues: list[Issue]) -> list[tuple[str, str, str | None, int, int]]:
    return [(i.code, i.message, i.hint, i.span.line, i.span.col) for i in issues if i.span]


ERRORS = [
    (
        "unknown-lead-field",
        "  Phone: {from: lead.phnoe}\n",
        ("LP304", "unknown lead field 'lead.phnoe'", "did you mean 'lead.phone'?", 2, 17),
    ),
    (
        "bare-text-field",
        "  Source: Acme\n",
        (
            "LP304",
            "unknown lead field 'Acme'",
            "to send the text 'Acme', write {value: Acme}",
            2,
            11,
        ),
    ),
    (
        "bare-then",
        "  Own:\n    when:\n      - if: \"attributes.homeowner == 'own'\"\n        then: Y\n",
        ("LP304", "unknown lead field 'Y'", "to send the text 'Y', write {value: Y}", 5, 15),
    ),
    (
        "bare-else-typo",
        "  S: {when: [{if: 'lead.phone', then: lead.phone}], else: lead.adress.zip}\n",
        (
            "LP304",
            "unknown lead field 'lead.adress.zip'",
            "did you mean 'lead.address.zip'?",
            2,
            59,
        ),
    ),
    (
        "group-not-value",
        "  Addr: {from: lead.address}\n",
        (
            "LP304",
            "'lead.address' holds several lead fields, not one value",
            "name one of them, e.g. lead.address.state",
            2,
            16,
        ),
    ),
    (
        "concat-part",
        "  Name: {concat: [lead.first_name, lead.last_name]}\n",
        ("LP304", "unknown lead field 'lead.last_name'", "did you mean 'lead.first_name'?", 2, 36),
    ),
    (
        "bad-path",
        "  A: {from: lead..phone}\n",
        ("LP304", "'lead..phone' is not a field path", "write it like lead.phone", 2, 13),
    ),
    (
        "no-ping-stage",
        "  Id: {from: ping.ping_id}\n",
        (
            "LP306",
            "'ping.ping_id' refers to the ping stage, which does not come before this one",
            None,
            2,
            14,
        ),
    ),
    (
        "ping-path-too-long",
        "  Id: {from: ping.a.b}\n",
        (
            "LP306",
            "'ping.a.b' should name one value of the ping stage",
            "write it like ping.ping_id",
            2,
            14,
        ),
    ),
    (
        "bad-condition",
        '  X: {when: [{if: "lead.phone ==", then: lead.phone}]}\n',
        (
            "LP303",
            "this condition is not valid JMESPath: the expression ends too early (character 14)",
            "write text in single quotes (status == 'ok'), numbers and true/false in backquotes "
            "(success == `true`), and wrap a condition that starts with a quote or [ in double "
            "quotes",
            2,
            33,
        ),
    ),
    (
        "condition-unknown-field",
        "  X: {when: [{if: \"lead.adress.state == 'CA'\", then: lead.phone}]}\n",
        (
            "LP304",
            "unknown lead field 'lead.adress.state'",
            "did you mean 'lead.address.state'?",
            2,
            19,
        ),
    ),
    (
        "bad-output-name",
        "  a..b: lead.phone\n",
        (
            "LP308",
            "'a..b' is not a valid output name: a part of the name is empty",
            "join names with dots (contact.email), put list positions in brackets (phones[0]) and "
            "write @ before an XML attribute (Phone.@type)",
            2,
            3,
        ),
    ),
    (
        "attribute-not-last",
        "  a.@b.c: lead.phone\n",
        (
            "LP308",
            "'a.@b.c' is not a valid output name: '@' may only start the last part (an XML "
            "attribute, like Phone.@type)",
            "join names with dots (contact.email), put list positions in brackets (phones[0]) "
            "and write @ before an XML attribute (Phone.@type)",
            2,
            3,
        ),
    ),
    (
        "bad-env-reference",
        "  Key: {value: '${env:}'}\n",
        (
            "LP309",
            "'${env:}' is not a valid reference",
            "write ${env:NAME} with NAME made of letters, digits and _",
            2,
            16,
        ),
    ),
    (
        "default-wrong-type",
        "  Z: {from: lead.address.zip, type: integer, default: none}\n",
        ("LP204", "the default 'none' cannot be sent as a whole number", None, 2, 55),
    ),
    (
        "constant-wrong-type",
        "  Z: {value: abc, type: number}\n",
        ("LP204", "the value 'abc' cannot be sent as a number", None, 2, 14),
    ),
    (
        "constant-too-long",
        "  Z: {value: abcdef, max_length: 3, too_long: reject}\n",
        (
            "LP204",
            "the value 'abcdef' is 6 characters long; this buyer accepts at most 3",
            None,
            2,
            14,
        ),
    ),
    (
        "too-long-alone",
        "  Z: {from: lead.phone, too_long: reject}\n",
        (
            "LP312",
            "'too_long' only applies together with 'max_length'",
            "add max_length: N, or remove too_long",
            2,
            35,
        ),
    ),
    (
        "default-too-long",
        "  Z: {from: lead.phone, max_length: 2, default: none}\n",
        (
            "LP312",
            "the default is longer than max_length (2)",
            "shorten the default or raise max_length",
            2,
            49,
        ),
    ),
    (
        "null-and-default",
        "  Z: {from: lead.phone, if_missing: null, default: x}\n",
        ("LP312", "use either 'default' or 'if_missing', not both", None, 2, 37),
    ),
]


@pytest.mark.parametrize(
    ("fields", "expected"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_field_error(fields: str, expected: tuple[str, str, str | None, int, int]) -> None:
    """Each mistake is reported once, with its code, plain message, hint and exact position."""
    plans, issues = compile_text(fields)
    found = summary(issues)
    assert len(found) == 1 and not plans
    code, message, hint, line, col = found[0]
    assert (code, hint, line, col) == (expected[0], expected[2], expected[3], expected[4])
    assert message.startswith(expected[1])


def test_ping_value_must_be_extracted() -> None:
    """A ping value the ping stage does not extract is LP306 with a suggestion."""
    _, issues = compile_text(
        "  Id: {from: ping.pingid}\n", stage_values={"ping": frozenset({"ping_id"})}
    )
    assert summary(issues) == [
        ("LP306", "the ping stage does not extract 'pingid'", "did you mean 'ping_id'?", 2, 14)
    ]


def test_problems_in_one_field_do_not_stop_others() -> None:
    """Every field is checked; good fields still compile."""
    plans, issues = compile_text(
        "  A: lead.phone\n"
        "  B: {from: lead.nope, transform: [uper, {phone: dash}]}\n"
        "  C: {from: lead.first_name, transform: [title]}\n"
    )
    assert [p.name for p in plans] == ["A", "C"]
    assert [(i.code, i.span.line if i.span else 0) for i in issues] == [
        ("LP304", 3),
        ("LP301", 3),
        ("LP302", 3),
    ]


def test_nested_then_is_compiled_with_positions() -> None:
    """A field spec under `then` is checked like a field, at its own position."""
    _, issues = compile_text(
        "  X:\n"
        "    when:\n"
        '      - if: "lead.phone != `null`"\n'
        "        then: {from: lead.phone, transform: [{phone: bad}]}\n"
    )
    assert summary(issues)[0][:2] == (
        "LP302",
        "phone: 'style' must be 'digits', 'e164', 'dashes', 'parentheses' or 'dots'",
    )
    assert summary(issues)[0][3:] == (5, 54)


def test_bare_null_in_condition() -> None:
    """`null` without backticks is a JMESPath field name: reported with the fix."""
    _, issues = compile_text("  X: {when: [{if: 'lead.phone != null', then: lead.phone}]}\n")
    assert summary(issues) == [
        (
            "LP303",
            "'null' without backticks is read as a lead field named null",
            "write it in backticks: lead.phone != `null`",
            2,
            19,
        )
    ]


@pytest.mark.parametrize("schema", [None, PathsOnly()], ids=["no-schema", "paths-only"])
def test_schema_optional(schema: Any) -> None:
    """Without a schema every lead path is accepted; a stand-in with `.paths` is enough."""
    plans, issues = compile_text("  P: lead.phone\n  Q: {from: lead.phone, type: string}\n", schema)
    assert not issues and [p.name for p in plans] == ["P", "Q"]


PATHS = [
    ("plain", "FirstName", ("FirstName",)),
    ("nested", "contact.email", ("contact", "email")),
    ("list", "phones[0]", ("phones", 0)),
    ("list-nested", "phones[1].number", ("phones", 1, "number")),
    ("attribute", "Phone.@type", ("Phone", "@type")),
    ("root-attribute", "@version", ("@version",)),
    ("leading-index", "[0].name", (0, "name")),
    ("namespaced", "soap:Body.Lead", ("soap:Body", "Lead")),
    ("spaces-inside", "First Name", ("First Name",)),
    ("two-indexes", "grid[0][1]", ("grid", 0, 1)),
]


@pytest.mark.parametrize(("name", "path"), [p[1:] for p in PATHS], ids=[p[0] for p in PATHS])
def test_parse_output_path(name: str, path: tuple[str | int, ...]) -> None:
    """Output names become paths: names, list positions and a final XML attribute."""
    assert parse_output_path(name) == path


BAD_PATHS = [
    ("empty-part", "a..b", "a part of the name is empty"),
    ("trailing-dot", "a.", "a part of the name is empty"),
    ("bare-at", "a.@", "'@' needs a name after it"),
    ("at-inside", "a@b", "'@' may only start the last part (an XML attribute, like Phone.@type)"),
    (
        "attr-index",
        "a.@b[0]",
        "'@' may only start the last part (an XML attribute, like Phone.@type)",
    ),
    ("word-index", "a[x]", "square brackets hold a list position, like items[0]"),
    ("open-bracket", "a[0", "square brackets hold a list position, like items[0]"),
    ("space-around", "a. b", "a part of the name starts or ends with a space"),
    ("index-then-name", "a[0]b", "square brackets hold a list position, like items[0]"),
]


@pytest.mark.parametrize(
    ("name", "problem"), [p[1:] for p in BAD_PATHS], ids=[p[0] for p in BAD_PATHS]
)
def test_parse_output_path_problem(name: str, problem: str) -> None:
    """A name that is not a path gives the plain-English problem."""
    assert parse_output_path(name) == problem

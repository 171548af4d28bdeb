"""Drafting from a spec, piece by piece: names -> lead fields, constraints -> transforms, the
spec's properties in order, and the placeholders lint reports (LP800-LP803)."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.authoring.lint import LintOptions, lint_file
from engine.authoring.scaffold import draft_buyer
from engine.authoring.scaffold.fields import draft_fields
from engine.authoring.scaffold.names import name_matches, words
from engine.authoring.scaffold.response import outcome_of
from engine.authoring.scaffold.shape import boolean_pair, phone_style, same_choice, strftime_of
from engine.authoring.scaffold.source import read_draft
from engine.contract.problems import SpecProblem
from engine.lead.schema import load_lead_schema
from tests.paths import FIXTURES, INTEGRATIONS
from tests.props import fewer

SCHEMA = load_lead_schema(INTEGRATIONS / "lead-schema.yaml")
LEAD_FIELDS = list(SCHEMA.fields)


@pytest.mark.parametrize(
    ("path", "lead_field"),
    [
        (("first_name",), "lead.first_name"),
        (("fname",), "lead.first_name"),
        (("FirstName",), "lead.first_name"),
        (("applicant", "first"), "lead.first_name"),
        (("Contact", "First"), "lead.first_name"),
        (("zip",), "lead.address.zip"),
        (("postal_code",), "lead.address.zip"),
        (("PostalCode",), "lead.address.zip"),
        (("zip5",), "lead.address.zip"),
        (("dob",), "lead.dob"),
        (("birth_date",), "lead.dob"),
        (("DateOfBirth",), "lead.dob"),
        (("Applicant", "Address", "Line1"), "lead.address.street"),
        (("TCPA_Consent__c",), "consent.tcpa_consent"),
        (("Consent", "Timestamp"), "consent.consent_timestamp"),
        (("source", "submitted_at"), "timestamp"),
        (("Home", "Value"), "attributes.home_value"),
        (("veh_year",), "attributes.vehicle_year"),
        (("TrustedForm_Cert__c",), "consent.trustedform_url"),
        (("leadid",), "consent.jornaya_leadid"),
        (("src",), "source_id"),
    ],
    ids=lambda v: ".".join(v) if isinstance(v, tuple) else v,
)
def test_a_buyers_name_for_a_lead_field_is_matched(path: tuple[str, ...], lead_field: str) -> None:
    """The best match of each way buyers name a lead field is that field."""
    found = name_matches(path, LEAD_FIELDS)
    assert found and found[0].lead_field == lead_field, found[:3]


@pytest.mark.parametrize("name", ["AuctionToken", "Company", "insurance_tier", "Product"])
def test_names_the_lead_does_not_have_match_nothing(name: str) -> None:
    """A property the lead has no field for is not forced onto one."""
    assert [m for m in name_matches((name,), LEAD_FIELDS) if m.score >= 0.3] == []


@pytest.mark.parametrize(
    ("pattern", "layout"),
    [
        (r"^(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/(19|20)\d{2}$", "%m/%d/%Y"),
        (r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$", "%Y%m%d"),
        (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
        (
            r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$",
            "%Y-%m-%d %H:%M:%S",
        ),
        (
            r"(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])/\d{4} (0[1-9]|1[0-2]):[0-5]\d:[0-5]\d (AM|PM)",
            "%m/%d/%Y %I:%M:%S %p",
        ),
        (r"^[A-Z]{2}$", None),
        (r"^\d{5}$", None),
    ],
)
def test_a_date_pattern_gives_its_layout(pattern: str, layout: str | None) -> None:
    """Date patterns read back as strftime layouts; other patterns are not dates."""
    assert strftime_of(pattern) == layout


@pytest.mark.parametrize(
    ("pattern", "style"),
    [
        (r"^\d{10}$", "digits"),
        (r"^[2-9]\d{2}[2-9]\d{6}$", "digits"),
        (r"^\+1[2-9]\d{9}$", "e164"),
        (r"^\d{3}-\d{3}-\d{4}$", "dashes"),
        (r"\([2-9]\d{2}\) \d{3}-\d{4}", "parentheses"),
        (r"[2-9]\d{2}\.\d{3}\.\d{4}", "dots"),
    ],
)
def test_a_phone_pattern_gives_its_style(pattern: str, style: str) -> None:
    """The phone transform's style is read from the buyer's pattern."""
    assert phone_style(pattern, "") == style


def test_yes_no_pairs_and_choice_spellings() -> None:
    """Y/N, 1/0, Yes/No are yes/no pairs (true first); lead choices match buyer spellings."""
    assert boolean_pair(["N", "Y"]) == ("Y", "N")
    assert boolean_pair(["0", "1"]) == ("1", "0")
    assert boolean_pair(["A", "B"]) is None
    assert same_choice("single_family", "Single Family")
    assert same_choice("own", "Owner")
    assert not same_choice("condo", "SFR")


# -- properties ----------------------------------------------------------------------------------

_NAME = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@given(st.lists(_NAME, min_size=1, max_size=4))
def test_any_name_gives_a_match_list_or_nothing(path: list[str]) -> None:
    """Whatever a spec calls a property, matching never fails, and scores lie in (0, 1]."""
    for found in name_matches(tuple(path), LEAD_FIELDS):
        assert 0 < found.score <= 1
        assert found.lead_field in SCHEMA.fields
    assert all(w == w.lower() and w for w in words(path[-1]))


@given(st.text(max_size=60))
def test_any_pattern_reads_as_a_layout_or_none(pattern: str) -> None:
    """strftime_of never fails; a layout it gives has a year, a month and a day."""
    layout = strftime_of(pattern)
    assert layout is None or {"%Y", "%m", "%d"} <= set(re.findall(r"%[A-Za-z]", layout))


_PIECES = {"%Y": r"(19|20)\d{2}", "%m": r"(0[1-9]|1[0-2])", "%d": r"(0[1-9]|[12]\d|3[01])"}


@given(st.permutations(["%Y", "%m", "%d"]), st.sampled_from(["", "-", "/", "."]))
def test_a_date_pattern_built_from_a_layout_reads_back_as_it(
    order: list[str], separator: str
) -> None:
    """A pattern made of year, month and day pieces in any order reads back as its layout."""
    escaped = "\\." if separator == "." else separator
    pattern = "^" + escaped.join(_PIECES[p] for p in order) + "$"
    assert strftime_of(pattern) == separator.join(order)


_PROP = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: n != "type")
_LEAF = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer"},
        {"type": "boolean"},
        {"type": "string", "maxLength": 9},
    ]
)


def _schema(tree: dict[str, Any]) -> dict[str, Any]:
    props = {
        k: _schema(v) if isinstance(v, dict) and "type" not in v else v for k, v in tree.items()
    }
    return {"type": "object", "properties": props}


def _leaves(tree: dict[str, Any], at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for k, v in tree.items():
        out += _leaves(v, (*at, k)) if isinstance(v, dict) and "type" not in v else [(*at, k)]
    return out


_TREE = st.recursive(
    _LEAF, lambda inner: st.dictionaries(_PROP, inner, min_size=1, max_size=4), max_leaves=12
).filter(lambda t: isinstance(t, dict) and "type" not in t)


@fewer(4)
@given(_TREE)
def test_a_json_schema_gives_one_field_per_property_in_order(
    tmp_path_factory: pytest.TempPathFactory, tree: dict[str, Any]
) -> None:
    """Every leaf property of a JSON Schema becomes one field, in the schema's order, nested
    as the schema nests it."""
    file = tmp_path_factory.mktemp("spec") / "buyer.schema.json"
    file.write_text(json.dumps(_schema(tree)), encoding="utf-8")
    draft = read_draft(file)
    assert draft.fields_paths() == _leaves(tree)


@fewer(2)
@given(st.binary(max_size=200))
def test_any_spec_file_drafts_or_gives_our_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    """A spec file that is not one gives SpecProblem, never another exception."""
    file = tmp_path_factory.mktemp("spec") / "buyer.schema.json"
    file.write_bytes(data)
    with contextlib.suppress(SpecProblem):
        read_draft(file)


# -- what lint reports -------------------------------------------------------------------------

_DRAFT = """\
buyer: drafted
name: Drafted
version: "1"
environments:
  test: {url: "http://127.0.0.1:8701/drafted"}
  production: {url: "https://todo.invalid/drafted"}
stages:
  post:
    fields:
      first_name: lead.first_name
      vendor: {value: TODO}
      credit:
        from: attributes.credit_tier
        transform: [{translate: {map: {excellent: A, good: TODO, fair: C, poor: D}}}]
    response:
      rules: [{if: "status == 'ok'", outcome: accepted}]
tests:
  - name: the sample lead
    lead: leads/sample.json
    expect_body: ""
"""


def test_lint_reports_every_placeholder_a_draft_left(tmp_path: Path) -> None:
    """LP800 for a TODO field, LP801 for a TODO translate entry, LP802 for the placeholder
    production address, LP803 (a warning) for a body not recorded yet; nothing else."""
    (tmp_path / "lead-schema.yaml").write_bytes((INTEGRATIONS / "lead-schema.yaml").read_bytes())
    (tmp_path / "leads").mkdir()
    sample = (INTEGRATIONS / "leads" / "sample.json").read_bytes()
    (tmp_path / "leads" / "sample.json").write_bytes(sample)
    file = tmp_path / "drafted.yaml"
    file.write_text(_DRAFT, encoding="utf-8")
    report = lint_file(file)
    found = sorted((i.code, i.severity, i.span.line if i.span else 0) for i in report.issues)
    assert found == [
        ("LP800", "error", 11),
        ("LP801", "error", 14),
        ("LP802", "error", 6),
        ("LP803", "warning", 20),
    ]
    messages = {i.code: i.message for i in report.issues}
    assert messages["LP800"] == (
        "field 'vendor' is a placeholder: the draft found nothing in the lead for it"
    )
    assert messages["LP801"] == "field 'credit' does not say what to send for the lead's 'good'"


# -- responses, namespaces ---------------------------------------------------------------------

_OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "Acme", "version": "1"},
    "servers": [{"url": "https://api.acme.example/v1"}],
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
    "security": [{"key": []}],
    "paths": {
        "/leads": {
            "post": {
                "operationId": "postLead",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"fname": {"type": "string"}},
                            }
                        }
                    }
                },
                "responses": {
                    "200": {
                        "description": "the decision",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "result": {
                                            "type": "string",
                                            "enum": [
                                                "Accepted",
                                                "Duplicate",
                                                "Declined",
                                                "Pending",
                                            ],
                                        },
                                        "lead_id": {"type": "string"},
                                        "price": {"type": "number"},
                                        "message": {"type": "string"},
                                    },
                                },
                                "examples": {
                                    "accepted": {"value": {"result": "Accepted", "lead_id": "A1"}},
                                    "declined": {"value": {"result": "Declined"}},
                                },
                            }
                        },
                    },
                    "422": {"description": "invalid"},
                },
            }
        }
    },
}


def test_documented_answers_give_rules_extracts_and_tests(tmp_path: Path) -> None:
    """An enum'd status field gives a rule per known choice (Pending is left to the author),
    id/price/message give extracts, 4xx a rejection, and each example answer a test case."""
    spec = tmp_path / "acme.openapi.json"
    spec.write_text(json.dumps(_OPENAPI), encoding="utf-8")
    text = draft_buyer("acme", spec, tmp_path / "acme.yaml", SCHEMA).text
    for line in [
        "url: https://api.acme.example/v1/leads",
        "auth:\n  type: api_key\n  header: X-Key\n  key: ${env:ACME_KEY}",
        "fname: lead.first_name",
        "- {if: result == 'Accepted', outcome: accepted}",
        "- {if: result == 'Duplicate', outcome: duplicate}",
        "- {if: result == 'Declined', outcome: rejected}",
        "- {status: 422, outcome: rejected}",
        "buyer_lead_id: lead_id\n        price: price\n        reason: message",
        'response: {status: 200, body: \'{"result": "Declined"}\'}\n'
        "    expect: {outcome: rejected}",
    ]:
        assert line in text
    assert "Pending" not in text.split("rules:")[1].split("extract:")[0]


def test_a_namespaced_xsd_without_soap_uses_a_default_namespace(tmp_path: Path) -> None:
    """The payload element is the root, in the schema's target namespace, fields unprefixed."""
    xsd = tmp_path / "acme.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:acme"'
        ' elementFormDefault="qualified"><xs:element name="Lead"><xs:complexType><xs:sequence>'
        '<xs:element name="Zip" type="xs:string"/></xs:sequence></xs:complexType></xs:element>'
        "</xs:schema>",
        encoding="utf-8",
    )
    draft = read_draft(xsd)
    assert draft.format == "xml" and draft.xml is not None
    assert (draft.xml.element, draft.xml.namespace, draft.xml.soap) == ("Lead", "urn:acme", None)
    text = draft_buyer("acme", xsd, tmp_path / "acme.yaml", SCHEMA).text
    assert "root: Lead\n      default_namespace: urn:acme" in text
    assert "Zip: lead.address.zip" in text


@fewer(4)
@given(_TREE)
def test_any_json_schema_drafts_a_file_that_compiles(
    tmp_path_factory: pytest.TempPathFactory, tree: dict[str, Any]
) -> None:
    """Whatever properties a JSON Schema declares, the draft is a buyer file that compiles:
    lint finds nothing in it but placeholders and contract findings (never LP1xx-LP3xx)."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(INTEGRATIONS / "lead-schema.yaml", root / "lead-schema.yaml")
    spec = root / "buyer.schema.json"
    spec.write_text(json.dumps(_schema(tree)), encoding="utf-8")
    out = root / "drafted.yaml"
    out.write_text(draft_buyer("drafted", spec, out, SCHEMA).text, encoding="utf-8")
    report = lint_file(out, LintOptions(examples=0))
    assert [i.render() for i in report.issues if i.code[2] in "123"] == []


@given(st.text(max_size=40))
def test_any_answer_word_gives_an_outcome_or_none(word: str) -> None:
    """Reading a documented status word never fails and names only real outcomes."""
    assert outcome_of(word) in (None, "accepted", "rejected", "duplicate")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def _any_or(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The well-formed value, or any JSON value in its place."""
    return st.one_of(good, _JSON)


@fewer(2)
@given(
    security=_any_or(st.just([{"key": ["api"]}])),
    schemes=_any_or(st.just({"key": {"type": "oauth2", "flows": {"clientCredentials": {}}}})),
    responses=_any_or(st.dictionaries(st.sampled_from(["200", "2XX", "400"]), _JSON, max_size=2)),
    servers=_JSON,
)
def test_a_malformed_openapi_document_drafts_or_gives_our_error(
    tmp_path_factory: pytest.TempPathFactory,
    security: Any,
    schemes: Any,
    responses: Any,
    servers: Any,
) -> None:
    """Security schemes, responses and servers of any shape give a draft or SpecProblem."""
    doc = json.loads(json.dumps(_OPENAPI))
    doc["security"], doc["servers"] = security, servers
    doc["components"]["securitySchemes"] = schemes
    doc["paths"]["/leads"]["post"]["responses"] = responses
    file = tmp_path_factory.mktemp("spec") / "acme.openapi.json"
    file.write_text(json.dumps(doc), encoding="utf-8")
    with contextlib.suppress(SpecProblem):
        draft_buyer("acme", file, file.parent / "acme.yaml", SCHEMA)


#: A spec in naming conventions none of the example buyers use (camelCase, initials, a device
#: field), with the field each property should get: written apart from the alias table.
CAMEL = {
    "affiliateId": {"from": "source_id"},
    "firstName": {"from": "lead.first_name", "max_length": 25},
    "emailAddress": {"from": "lead.email"},
    "phoneNumber": {"from": "lead.phone", "transform": [{"phone": "parentheses"}]},
    "streetAddress": {"from": "lead.address.street"},
    "zipCode": {
        "from": "lead.address.zip",
        "transform": [{"substring": {"start": 1, "length": 5}}],
    },
    "dateOfBirth": {"from": "lead.dob", "transform": [{"date": "%m-%d-%Y"}]},
    "homeOwnership": {"from": "attributes.homeowner", "transform": ["upper"]},
    "yearsAtResidence": {
        "from": "attributes.years_at_address",
        "transform": [{"range": {"min": 0, "max": 99}}],
        "type": "integer",
    },
    "isInsured": {"from": "attributes.currently_insured", "type": "boolean"},
    "tcpaOptIn": {"from": "consent.tcpa_consent", "type": "boolean"},
    "trustedFormCertUrl": {"from": "consent.trustedform_url"},
    "leadiDToken": {"from": "consent.jornaya_leadid"},
    "ipAddress": {"value": "TODO"},
    "maritalStatus": {
        "from": "attributes.marital_status",
        "transform": [
            {"translate": {"map": {"single": "S", "married": "M", "divorced": "D", "widowed": "W"}}}
        ],
    },
    "consentTimestamp": {"from": "consent.consent_timestamp"},
}


def test_a_spec_in_other_naming_conventions() -> None:
    """camelCase names, one-letter choices, a device field: each property gets its field."""
    draft = read_draft(FIXTURES / "scaffold" / "camel-case.schema.json")
    drafted = {d.path[-1]: d.spec for d in draft_fields(draft.fields, SCHEMA, draft.format)}
    assert {name: drafted[name] for name in CAMEL} == CAMEL


def test_a_query_operation_with_its_key_in_a_parameter(tmp_path: Path) -> None:
    """A GET operation drafts a query stage; the API key its security scheme puts in a query
    parameter is that field, read from the environment, and lint finds only the test bodies."""
    root = tmp_path / "integrations"
    (root / "buyers").mkdir(parents=True)
    shutil.copy(INTEGRATIONS / "lead-schema.yaml", root / "lead-schema.yaml")
    spec = root / "query-key.openapi.yaml"
    shutil.copy(FIXTURES / "scaffold" / "query-key.openapi.yaml", spec)
    out = root / "buyers" / "q.yaml"
    text = draft_buyer("q", spec, out, SCHEMA).text
    out.write_text(text, encoding="utf-8")
    assert "    method: GET\n    format: query\n" in text
    assert "api_key: {value: '${env:Q_KEY}'} # the API key, read from the environment" in text
    assert "auth:" not in text and "names no authentication" not in text
    assert {i.code for i in lint_file(out, LintOptions(examples=20)).issues} <= {"LP803"}


@pytest.mark.parametrize("name", ["address_2", "Address2", "ipAddress", "user_agent"])
def test_look_alikes_are_not_matched(name: str) -> None:
    """A second address line or a device field is not the street, however alike the words."""
    assert [m for m in name_matches((name,), LEAD_FIELDS) if m.score >= 0.3] == []


_FORM_XSD = """<?xml version="1.0"?>
<!--
  Send as application/x-www-form-urlencoded with these fields:
    api_token   your token
    source      your publisher code
    payload     the <Lead> document, without an XML declaration
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="Lead"><xs:complexType>
<xs:sequence><xs:element name="Zip" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
</xs:schema>
"""


def test_a_schema_that_travels_in_a_form_field(tmp_path: Path) -> None:
    """The table of form fields in the schema's comment gives wrap_in_form: the field holding
    the document, a secret from the environment, the rest TODO; no XML declaration."""
    xsd = tmp_path / "acme.xsd"
    xsd.write_text(_FORM_XSD, encoding="utf-8")
    drafted = draft_buyer("acme", xsd, tmp_path / "acme.yaml", SCHEMA)
    assert (
        "    xml:\n      root: Lead\n      declaration: false\n"
        "    wrap_in_form:\n      field: payload\n      fields:\n"
        "        api_token: {value: '${env:ACME_API_TOKEN}'}"
        " # your token: read from the environment\n"
        "        source: {value: TODO} # TODO: your publisher code\n"
    ) in drafted.text
    assert drafted.placeholders == 1

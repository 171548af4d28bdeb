"""Reading buyers' specs: JSON Schema, OpenAPI and XSD, and every problem reading them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.contract.model import BuyerSpec
from engine.contract.paths import PayloadShape
from engine.contract.problems import SpecProblem
from engine.contract.spec import load_spec, read_spec
from engine.dsl import models as m
from engine.errors import AuthoringError
from engine.positions import Span
from tests.contract_kit import FIXTURES, buyer, codes, lint

JSON = PayloadShape("json")
SOAP = PayloadShape("xml", "PostLead", soap=True)


def _spec(shape: PayloadShape = JSON, **ref: str) -> BuyerSpec:
    return read_spec(m.ContractSpec.model_validate(ref), FIXTURES, shape)


def test_json_schema_properties_follow_refs_and_nesting() -> None:
    """Nested objects become dotted paths; a $ref'd definition keeps its own location."""
    spec = _spec(json_schema="acme.schema.json")
    state = spec.properties[("address", "state")]
    assert state.max_length == 2 and state.pattern == "^[A-Z]{2}$"
    assert state.where.endswith("acme.schema.json#/$defs/state")
    assert spec.properties[("contact", "phone")].required is True
    assert spec.properties[("home", "value")].types == frozenset({"integer"})
    assert frozenset({(), ("contact",)}) == spec.closed


def test_json_violations_name_path_rule_and_keyword() -> None:
    """A jsonschema error becomes a readable violation pointing at the failing keyword."""
    spec = _spec(json_schema="acme.schema.json")
    body = {"contact": {"first_name": "J" * 31, "last_name": "S", "phone": "5125550142",
                        "email": "x@y.co", "nick": "Jo"},
            "address": {"state": "TX", "zip": "78701"}, "consent": {"tcpa": "yes"}}  # fmt: skip
    found = {(v.path, v.rule): v for v in spec.validate(json.dumps(body).encode())}
    too_long = found[(("contact", "first_name"), "maxLength: 30")]
    assert too_long.message == f"'{'J' * 31}' is longer than 30 characters"
    assert too_long.where.endswith("#/properties/contact/properties/first_name/maxLength")
    assert (("contact", "phone"), "pattern: ^\\d{3}-\\d{3}-\\d{4}$") in found
    assert (("contact", "nick"), "additionalProperties") in found
    assert found[(("consent", "tcpa"), "type: boolean")].message == "'yes' should be true or false"


def test_json_format_checking_is_on() -> None:
    """format: date is checked."""
    spec = _spec(json_schema="acme.schema.json")
    body = (
        b'{"contact":{"first_name":"J","last_name":"S","phone":"512-555-0142","email":"a@b.co",'
        b'"birth_date":"1985-13-45"},"address":{"state":"TX","zip":"78701"},"consent":{"tcpa":true}}'
    )
    assert [v.rule for v in spec.validate(body)] == ["format: date"]


def test_openapi_operation_refs_and_nullable() -> None:
    """The request body of the operation, through requestBodies and schemas $refs; 3.0
    nullable allows null."""
    spec = _spec(openapi="summit.openapi.json", operation="createLead")
    assert spec.properties[("premium",)].types == frozenset({"number", "null"})
    assert spec.properties[("carrier",)].max_length == 30
    assert spec.validate(b'{"name":"J","email":"a@b.co","source":"web","carrier":null}') == []
    bad = spec.validate(b'{"name":"J","email":"a@b.co","source":"fax"}')
    assert [(v.path, v.rule) for v in bad] == [(("source",), "enum")]
    assert bad[0].where.endswith(
        "summit.openapi.json#/components/schemas/Lead/properties/source/enum"
    )


def test_openapi_in_yaml_is_read(tmp_path: Path) -> None:
    """An OpenAPI document may be YAML."""
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /l:\n    post:\n"
        "      operationId: send\n      requestBody:\n        content:\n"
        "          application/json:\n            schema:\n              type: object\n"
        "              properties: {zip: {type: string, maxLength: 5}}\n"
    )
    ref = m.ContractSpec(openapi="api.yaml", operation="send")
    spec = read_spec(ref, tmp_path, JSON)
    assert spec.properties[("zip",)].max_length == 5


def test_form_values_are_coerced_to_the_declared_types() -> None:
    """A form's texts are read as the schema's integer/boolean before validating."""
    spec = _spec(PayloadShape("form"), openapi="summit.openapi.json", operation="createLeadForm")
    assert spec.validate(b"first_name=Jo&zip=78701&age=42&insured=true") == []
    bad = spec.validate(b"first_name=Jo&zip=787&age=17&insured=maybe")
    assert sorted(v.rule for v in bad) == ["minimum: 18", "pattern: ^\\d{5}$", "type: boolean"]


def test_xsd_soap_payload_properties_and_violations() -> None:
    """The SOAP Body's element is checked; elements, attributes and facets keep their lines."""
    spec = _spec(SOAP, xsd="lighthouse.xsd")
    assert spec.properties[("@version",)].required is True
    assert spec.properties[("State",)].max_length == 2
    assert spec.properties[("Age",)].types == frozenset({"integer"})
    assert spec.properties[("Owner",)].enum == ("1", "0")
    assert spec.properties[("FirstName",)].where.endswith("lighthouse.xsd:38")
    body = (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:lh="http://lighthousedirect.com/"><soap:Body><lh:PostLead version="2">'
        b"<lh:Campaign>c</lh:Campaign><lh:FirstName>" + b"J" * 31 + b"</lh:FirstName>"
        b"<lh:LastName>S</lh:LastName><lh:Phone>5125550142</lh:Phone><lh:Email>e</lh:Email>"
        b"<lh:State>TX</lh:State><lh:Zip>78701</lh:Zip><lh:Owner>2</lh:Owner>"
        b"</lh:PostLead></soap:Body></soap:Envelope>"
    )
    found = [(v.path, v.rule) for v in spec.validate(body)]
    assert found == [
        (("FirstName",), "maxLength: 30"),
        (("Phone",), "pattern: \\d{3}\\.\\d{3}\\.\\d{4}"),
        (("Owner",), "enum"),
    ]


def test_xsd_missing_attribute_and_element() -> None:
    """A missing required attribute and a missing element are 'required' violations."""
    spec = _spec(SOAP, xsd="lighthouse.xsd")
    body = (
        b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body>'
        b'<PostLead xmlns="http://lighthousedirect.com/"><Campaign>c</Campaign></PostLead>'
        b"</Body></Envelope>"
    )
    found = [(v.path, v.rule) for v in spec.validate(body)]
    assert found == [(("@version",), "required"), (("FirstName",), "required")]


def test_xsd_element_defaults_to_the_payload_root(tmp_path: Path) -> None:
    """Without element:, the stage's root element (or SOAP payload element) is used."""
    (tmp_path / "s.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="Lead">'
        '<xs:complexType><xs:attribute name="id" type="xs:int"/></xs:complexType>'
        "</xs:element></xs:schema>"
    )
    spec = read_spec(m.ContractSpec(xsd="s.xsd"), tmp_path, PayloadShape("xml", "Lead"))
    assert [(v.path, v.rule) for v in spec.validate(b'<Lead id="x"/>')] == [(("@id",), "type: int")]


PROBLEMS = [
    ({"json_schema": "nope.json"}, JSON, "LP701", "does not exist"),
    ({"json_schema": "lighthouse.xsd"}, JSON, "LP701", "lighthouse.xsd is not valid YAML: "),
    ({"xsd": "acme.schema.json"}, SOAP, "LP701", "not well-formed XML"),
    ({"openapi": "acme.schema.json", "operation": "x"}, JSON, "LP710", "not an OpenAPI 3"),
    ({"openapi": "summit.openapi.json", "operation": "createLeed"}, JSON, "LP711",
     "no operation with operationId 'createLeed'"),
    ({"xsd": "lighthouse.xsd", "element": "PostLeed"}, SOAP, "LP711", "declares no element"),
    ({"openapi": "summit.openapi.json", "operation": "getLead"}, JSON, "LP712",
     "takes no request body"),
    ({"openapi": "summit.openapi.json", "operation": "createLead"}, PayloadShape("form"),
     "LP712", "no application/x-www-form-urlencoded request body"),
    ({"xsd": "lighthouse.xsd"}, JSON, "LP713", "describes XML payloads"),
    ({"json_schema": "acme.schema.json"}, SOAP, "LP713", "this stage sends XML"),
]  # fmt: skip


@pytest.mark.parametrize(
    "ref,shape,code,words", PROBLEMS, ids=[f"{p[2]}-{i}" for i, p in enumerate(PROBLEMS)]
)
def test_spec_problems_have_codes(
    ref: dict[str, str], shape: PayloadShape, code: str, words: str
) -> None:
    """Every way a spec cannot be used is one positioned problem with its code."""
    with pytest.raises(SpecProblem) as caught:
        read_spec(m.ContractSpec.model_validate(ref), FIXTURES, shape)
    assert caught.value.code == code
    assert words in caught.value.message


def test_unknown_operation_suggests_the_closest() -> None:
    """did-you-mean on operationIds, pointed at the operation value."""
    span, op_span = Span("b.yaml", 9, 5), Span("b.yaml", 9, 40)
    ref = m.ContractSpec(openapi="summit.openapi.json", operation="createLeed")
    with pytest.raises(AuthoringError) as caught:
        load_spec(ref, FIXTURES, JSON, span, {"operation": op_span})
    issue = caught.value.issues[0]
    assert (issue.code, issue.span, issue.hint) == ("LP711", op_span, "did you mean 'createLead'?")


def test_invalid_xsd_and_outside_refs_are_lp710(tmp_path: Path) -> None:
    """A broken XSD and a $ref to another file are reported, not raised."""
    (tmp_path / "bad.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="A" '
        'type="xs:nope"/></xs:schema>'
    )
    (tmp_path / "ref.json").write_text('{"properties": {"a": {"$ref": "other.json#/a"}}}')
    (tmp_path / "type.json").write_text('{"properties": {"a": {"type": 5}}}')
    for ref, shape in ((m.ContractSpec(xsd="bad.xsd"), PayloadShape("xml", "A")),
                       (m.ContractSpec(json_schema="ref.json"), JSON),
                       (m.ContractSpec(json_schema="type.json"), JSON)):  # fmt: skip
        with pytest.raises(SpecProblem) as caught:
            read_spec(ref, tmp_path, shape)
        assert caught.value.code == "LP710"


def test_lint_reports_a_missing_spec_file_at_the_spec_key(tmp_path: Path) -> None:
    """leadpost lint turns a spec problem into an issue on the spec: line."""
    text = buyer("      a: lead.email\n", "{json_schema: missing.json}")
    issues = lint(tmp_path, text)
    assert codes(issues) == ["LP701"]
    assert issues[0].span is not None and issues[0].span.line == 9
    assert "the spec file 'missing.json' does not exist" in issues[0].message


def test_openapi_query_parameters_describe_a_query_stage(tmp_path: Path) -> None:
    """For format: query, the operation's query parameters are the properties."""
    (tmp_path / "api.json").write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "t", "version": "1"},
                "paths": {
                    "/ping": {
                        "get": {
                            "operationId": "ping",
                            "parameters": [
                                {"name": "zip", "in": "query", "required": True,
                                 "schema": {"type": "string", "pattern": "^\\d{5}$"}},
                                {"name": "age", "in": "query", "schema": {"type": "integer"}},
                                {"name": "X-Key", "in": "header", "schema": {"type": "string"}},
                            ],
                        }
                    }
                },
            }
        )
    )  # fmt: skip
    ref = m.ContractSpec(openapi="api.json", operation="ping")
    spec = read_spec(ref, tmp_path, PayloadShape("query"))
    assert set(spec.properties) == {("zip",), ("age",)}
    assert spec.properties[("zip",)].required is True
    assert spec.validate(b"zip=78701&age=40") == []
    assert sorted((v.path, v.rule) for v in spec.validate(b"age=x")) == [
        (("age",), "type: integer"),
        (("zip",), "required"),
    ]


@pytest.mark.parametrize(
    ("facet", "text", "rule", "words"),
    [
        ('<xs:maxInclusive value="2100"/>', "2101", "maxInclusive: 2100", "2101 is above 2100"),
        ('<xs:minInclusive value="1700"/>', "0", "minInclusive: 1700", "0 is below 1700"),
        ('<xs:totalDigits value="3"/>', "1234", "totalDigits: 3", "has more than 3 digits"),
    ],
)
def test_xsd_numeric_facets_are_named_as_written(
    facet: str, text: str, rule: str, words: str
) -> None:
    """An XSD bound reads as the facet's own name and a plain sentence, not a class name."""
    import xmlschema

    from engine.contract.xsd import _violation

    schema = xmlschema.XMLSchema(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="Y">'
        f'<xs:simpleType><xs:restriction base="xs:integer">{facet}</xs:restriction>'
        "</xs:simpleType></xs:element></xs:schema>"
    )
    from lxml import etree

    root = etree.fromstring(f"<Y>{text}</Y>")
    [error] = list(schema.iter_errors(root))
    found = _violation(error, root, "spec.xsd", frozenset())
    assert found.rule == rule
    assert words in found.message


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "spec.json",
            '{"type": "object",\n "properties": {,}}',
            "spec.json is not valid JSON: expecting property name enclosed in double quotes "
            "at line 2, column 17",
        ),
        (
            "spec.yaml",
            "openapi: 3.0.0\npaths:\n  /x: [\n",
            "spec.yaml is not valid YAML: expected the node content, but found '<stream end>' "
            "at line 4, column 1",
        ),
    ],
)
def test_a_broken_spec_file_says_where(name: str, text: str, message: str) -> None:
    """A spec that does not parse names the line and column, as a broken lead does."""
    from engine.contract.spec import parse_document

    with pytest.raises(SpecProblem) as caught:
        parse_document(text.encode(), name)
    assert (caught.value.code, caught.value.message) == ("LP701", message)

"""Every example buyer names its published spec, and what its mapping sends satisfies that spec.

Each stage's ``spec:`` is checked here with the plain libraries (jsonschema, xmlschema),
independently of engine/contract: the bodies rendered from every embedded test case's lead and
from every sample lead in integrations/leads/ must validate against the buyer's spec.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import xmlschema
from jsonschema import Draft202012Validator, FormatChecker
from lxml import etree
from ruamel.yaml import YAML

from engine.dsl.loader import load_yaml
from engine.errors import MappingError
from engine.lead import lead_timestamp, validate_lead
from engine.loading import load_integration, schema_for
from engine.plan import RenderContext
from engine.runtime.render import MaskedEnviron, render_request
from tests.paths import INTEGRATIONS

ROOT = INTEGRATIONS
BUYERS = sorted((ROOT / "buyers").glob("*.yaml"))
SPECS = sorted(p for p in (ROOT / "specs").iterdir() if p.is_file())
SAMPLE_LEADS = sorted((ROOT / "leads").glob("sample*.json"))
SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"

#: Property names that identify a person: a ping spec must not ask for any of them.
PII_NAMES = {"firstname", "lastname", "fullname", "name", "email", "phone", "street", "address",
             "line1", "dob", "birthdate", "dateofbirth"}  # fmt: skip

FORMATS = FormatChecker()  # a copy of the default checkers: the two below stay local


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339: a date, ``T``, a time and an offset (``Z`` or ``±hh:mm``)."""
    if not isinstance(value, str):
        return True
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return "T" in value.upper() and moment.tzinfo is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    """An absolute URI with a scheme and a host, without spaces."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and not any(c.isspace() for c in value)


def stage_specs() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(buyer file, stage, stage as written) for every stage of every example buyer."""
    for path in BUYERS:
        for stage, spec in load_yaml(path).data["stages"].items():
            yield path, stage, dict(spec)


STAGES = [pytest.param(p, s, d, id=f"{p.stem}.{s}") for p, s, d in stage_specs()]


def _nullable(schema: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` written as JSON Schema (``null`` is one more type)."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def json_validator(spec_file: Path, operation: str | None) -> Draft202012Validator:
    """The validator of a JSON Schema file, or of one OpenAPI operation's request body."""
    doc = YAML(typ="safe").load(spec_file.read_text(encoding="utf-8"))
    if operation is None:
        return Draft202012Validator(doc, format_checker=FORMATS)
    ops = [op for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)]
    [op] = [op for op in ops if op.get("operationId") == operation]
    [media] = op["requestBody"]["content"].values()
    schema = {**media["schema"], "components": doc.get("components", {})}  # "#/components/…"
    if str(doc["openapi"]).startswith("3.0"):
        schema = _nullable(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


def spec_problems(spec: dict[str, str], stage: dict[str, Any], payload: bytes) -> list[str]:
    """Every way one rendered payload breaks the stage's spec (empty when it conforms)."""
    fmt = stage.get("format", "json")
    if "wrap_in_form" in stage:  # the document travels inside one form field
        payload = dict(parse_qsl(payload.decode()))[stage["wrap_in_form"]["field"]].encode()
    if "xsd" in spec:
        schema = xmlschema.XMLSchema(ROOT / "buyers" / spec["xsd"])
        element = etree.fromstring(payload)
        if element.tag == SOAP + "Envelope":  # the spec describes the element inside Body
            body = element.find(SOAP + "Body")
            assert body is not None
            element = body[0]
        assert etree.QName(element).localname == spec.get("element", etree.QName(element).localname)
        return [str(e.reason) for e in schema.iter_errors(etree.tostring(element).decode())]
    instance = dict(parse_qsl(payload.decode())) if fmt == "form" else json.loads(payload)
    path = ROOT / "buyers" / (spec.get("json_schema") or spec["openapi"])
    validator = json_validator(path.resolve(), spec.get("operation"))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def payloads(path: Path, stage: str) -> Iterator[tuple[str, bytes]]:
    """(what, payload) for every embedded case lead of this stage and every sample lead that
    the buyer does not refuse; sample leads reuse the stage's first case's ``prior`` values."""
    plan = load_integration(path)
    lead_schema = schema_for(path)
    assert lead_schema is not None
    cases = [c for c in plan.tests if c.stage == stage and c.lead is not None]
    prior = next((dict(c.prior) for c in cases if c.prior), {})
    leads = [(f"case {c.name!r}", c.lead, dict(c.prior)) for c in cases]
    leads += [(lead.name, json.loads(lead.read_text()), prior) for lead in SAMPLE_LEADS]
    for what, raw, before in leads:
        lead = validate_lead(lead_schema, raw)
        ctx = RenderContext(lead, lead_timestamp(lead), before, MaskedEnviron())
        try:
            yield what, render_request(plan, stage, ctx, "test").payload
        except MappingError:
            continue  # refused before sending: nothing reaches the buyer


def test_every_stage_of_every_example_buyer_names_a_spec() -> None:
    """All 17 example buyers name a spec for each stage, and each named file exists."""
    assert len(BUYERS) == 17
    for path, stage, written in stage_specs():
        spec = written.get("spec")
        assert spec, f"{path.name}: stage {stage} names no spec"
        file = spec.get("json_schema") or spec.get("openapi") or spec.get("xsd")
        assert (path.parent / file).resolve().is_file(), f"{path.name}: {file} does not exist"


def test_every_spec_file_is_used() -> None:
    """No file in integrations/specs is left unnamed by the buyer files."""
    named = set()
    for path, _stage, written in stage_specs():
        spec = written["spec"]
        file = spec.get("json_schema") or spec.get("openapi") or spec.get("xsd")
        named.add((path.parent / file).resolve())
    assert {p.resolve() for p in SPECS} == named


@pytest.mark.parametrize("spec_file", SPECS, ids=lambda p: p.name)
def test_spec_file_is_itself_valid(spec_file: Path) -> None:
    """JSON Schemas pass the draft 2020-12 metaschema, OpenAPI documents are 3.x with valid
    request schemas, and XSDs load as XML Schema 1.0."""
    if spec_file.suffix == ".xsd":
        assert xmlschema.XMLSchema(spec_file).elements
        return
    doc = YAML(typ="safe").load(spec_file.read_text(encoding="utf-8"))  # JSON is YAML too
    if "openapi" not in doc:
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(doc)
        return
    assert str(doc["openapi"]).startswith("3.")
    for item in doc["paths"].values():
        for op in item.values():
            Draft202012Validator.check_schema(json_validator(spec_file, op["operationId"]).schema)


@pytest.mark.parametrize(("path", "stage", "written"), STAGES)
def test_rendered_bodies_satisfy_the_buyers_spec(
    path: Path, stage: str, written: dict[str, Any]
) -> None:
    """Every body the example mapping renders, from case leads and sample leads, conforms."""
    checked = 0
    for what, payload in payloads(path, stage):
        problems = spec_problems(written["spec"], written, payload)
        assert problems == [], f"{what}: {payload.decode('latin-1')}"
        checked += 1
    assert checked >= 2  # at least one case lead and one sample lead reached the buyer


def declared_names(spec_file: Path) -> set[str]:
    """Every property (JSON Schema) or element (XSD) name a spec file declares."""
    if spec_file.suffix == ".xsd":
        found = etree.parse(str(spec_file)).xpath("//*[local-name()='element']/@name")
        assert isinstance(found, list)
        return {str(name) for name in found}
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(YAML(typ="safe").load(spec_file.read_text(encoding="utf-8")))
    return names


PINGS = [s for s in STAGES if s.values[1] == "ping"]


@pytest.mark.parametrize(("path", "stage", "written"), PINGS)
def test_ping_specs_ask_for_no_personal_data(
    path: Path, stage: str, written: dict[str, Any]
) -> None:
    """A ping spec declares no name, email, phone, street or birth date."""
    spec = written["spec"]
    names = declared_names((path.parent / (spec.get("json_schema") or spec["xsd"])).resolve())
    normalized = {n.lower().replace("_", "").replace("-", "") for n in names}
    assert names and not normalized & PII_NAMES


def check(buyer: str, stage: str, payload: bytes | None = None) -> tuple[bytes, list[str]]:
    """The payload (by default the stage's first rendered one) and its problems with the spec."""
    path = ROOT / "buyers" / f"{buyer}.yaml"
    written = dict(load_yaml(path).data["stages"][stage])
    if payload is None:
        _, payload = next(payloads(path, stage))
    return payload, spec_problems(written["spec"], written, payload)


BROKEN = [
    ("harbor-mutual", "post", '"zip":"78701"', '"zip":"78701-1234"'),
    ("summit-crm", "post", '"Phone":"+15125550142"', '"Phone":"512-555-0142"'),
    ("prairie-form", "post", "zip=78701", "zip=7870"),
    ("keystone-legacy", "post", "<Zip>78701</Zip>", "<Zip>787</Zip>"),
    ("lighthouse-xml", "post", "<lh:Phone>512.555.0142<", "<lh:Phone>5125550142<"),
    ("lighthouse-xml", "ping", "<Zip>78701</Zip>", "<Zip>78701</Zip><Phone>5125550142</Phone>"),
    ("bluewater-agents", "post", "%3CPhone%3E5125550142", "%3CPhone%3E512-555-0142"),
    ("beacon-ping", "ping", '"state":"TX"', '"state":"TX","email":"john.smith@gmail.com"'),
]


@pytest.mark.parametrize(("buyer", "stage", "old", "new"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_body_that_breaks_the_spec_is_caught(buyer: str, stage: str, old: str, new: str) -> None:
    """The check can fail: one wrong value or unknown property in a conforming body is reported,
    whatever the kind of spec (JSON Schema, OpenAPI JSON or form, XSD, XSD inside SOAP)."""
    payload, problems = check(buyer, stage)
    assert problems == []
    broken = payload.decode("latin-1").replace(old, new, 1).encode("latin-1")
    assert broken != payload
    assert len(check(buyer, stage, broken)[1]) == 1


def test_openapi_3_0_nullable_allows_null() -> None:
    """Summit's OpenAPI 3.0 ``nullable: true`` fields accept null; the others still do not."""
    body = json.loads(check("summit-crm", "post")[0])
    assert check("summit-crm", "post", json.dumps({**body, "City": None}).encode())[1] == []
    assert check("summit-crm", "post", json.dumps({**body, "Email": None}).encode())[1] != []

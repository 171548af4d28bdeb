"""Every example in dsl-spec.md is executed: the reference never drifts from the code."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from engine.authoring.cases import run_plan_tests
from engine.campaigns.models import CampaignSpec
from engine.compiler.integration import compile_document
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import IntegrationSpec, ResponseSpec
from engine.errors import CODES, AuthoringError
from engine.lead import validate_lead
from engine.lead.schema import lead_schema_text, load_lead_schema
from engine.plan import RenderContext
from engine.runtime.render import MaskedEnviron, render_request
from tests.spec_examples import ROOT, SPEC, examples, wrap_fields

SCHEMA = load_lead_schema(ROOT / "integrations" / "lead-schema.yaml")
BUYERS = ROOT / "integrations" / "buyers"
SAMPLE = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text("utf-8"))
EXAMPLES = examples()


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _merge(base.get(k), v)
        return out
    return patch


def _compile(text: str, line: int) -> tuple[Any, list[Any]]:
    doc = load_yaml_text(text, f"dsl-spec.md (example at line {line})")
    return compile_document(doc, SCHEMA, base_dir=str(BUYERS))


def test_the_spec_has_examples_of_every_kind() -> None:
    """The reference shows fields, complete files and invalid files."""
    kinds = {e.kind for e in EXAMPLES}
    assert {"fields", "integration", "invalid"} <= kinds
    assert len(EXAMPLES) >= 40


def test_every_problem_code_is_documented() -> None:
    """Each code in engine.errors.CODES has its row in the spec's table of codes."""
    text = SPEC.read_text(encoding="utf-8")
    missing = [code for code in CODES if f"| {code} |" not in text and f"| `{code}` |" not in text]
    assert missing == []


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "fields"], ids=lambda e: e.id)
def test_fields_example_renders_its_output(example: Any) -> None:
    plan, issues = _compile(wrap_fields(example.text), example.line)
    assert plan is not None, "\n".join(i.render() for i in issues)
    lead_doc = _merge(SAMPLE, json.loads(example.lead_patch)) if example.lead_patch else SAMPLE
    lead = validate_lead(SCHEMA, lead_doc)
    now = datetime.fromisoformat(lead["timestamp"].replace("Z", "+00:00"))
    ctx = RenderContext(lead=lead, now=now, environ=MaskedEnviron())
    request = render_request(plan, "post", ctx, "test")
    assert json.loads(request.body) == json.loads(example.output)


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.kind == "integration"], ids=lambda e: e.id
)
def test_integration_example_compiles_and_passes_its_tests(example: Any) -> None:
    plan, issues = _compile(example.text, example.line)
    assert plan is not None, "\n".join(i.render() for i in issues)
    assert [i for i in issues if i.severity == "error"] == []
    results = run_plan_tests(plan, SCHEMA)
    failures = [f"{r.name}: {p.message}" for r in results for p in r.problems]
    assert failures == []


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.kind == "invalid"], ids=lambda e: e.id
)
def test_invalid_example_reports_its_code(example: Any) -> None:
    assert example.code in CODES
    whole_file = any(line.startswith("buyer:") for line in example.text.splitlines())
    text = example.text if whole_file else wrap_fields(example.text)
    try:
        _plan, issues = _compile(text, example.line)
    except AuthoringError as exc:
        issues = exc.issues
    codes = {i.code for i in issues}
    assert example.code in codes, "\n".join(i.render() for i in issues)


#: Where the keys of a partial example belong: the first model that declares the key.
PART_MODELS: tuple[type[BaseModel], ...] = (IntegrationSpec, ResponseSpec, CampaignSpec)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "part"], ids=lambda e: e.id)
def test_partial_example_is_valid(example: Any) -> None:
    """A few keys shown alone are valid values for the keys they show."""
    doc = load_yaml_text(example.text, f"dsl-spec.md (example at line {example.line})")
    for key, value in doc.data.items():
        model = next((m for m in PART_MODELS if key in m.model_fields), None)
        assert model is not None, f"no file kind has a key {key!r}"
        annotation = model.model_fields[key].annotation
        assert annotation is not None
        TypeAdapter(annotation).validate_python(value)


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.kind == "lead-schema"], ids=lambda e: e.id
)
def test_lead_schema_example_loads(example: Any) -> None:
    """A lead schema shown in the reference is a valid lead schema."""
    lead_schema_text(example.text, f"dsl-spec.md (example at line {example.line})")


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.kind == "invalid-lead-schema"], ids=lambda e: e.id
)
def test_invalid_lead_schema_example_reports_its_code(example: Any) -> None:
    with pytest.raises(AuthoringError) as caught:
        lead_schema_text(example.text, f"dsl-spec.md (example at line {example.line})")
    assert example.code in {i.code for i in caught.value.issues}


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "lead"], ids=lambda e: e.id)
def test_lead_example_is_normalized_as_shown(example: Any) -> None:
    """A lead shown arriving becomes the normalized lead shown, by integrations/lead-schema.yaml."""
    assert validate_lead(SCHEMA, json.loads(example.text)) == json.loads(example.output)

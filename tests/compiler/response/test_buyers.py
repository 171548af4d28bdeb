"""The response test cases of every buyer file in integrations/buyers pass on the response side."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.compiler.context import CompileContext
from engine.compiler.response import compile_response
from engine.dsl.loader import load_yaml
from engine.dsl.models import IntegrationSpec, TestCaseSpec
from tests.paths import INTEGRATIONS

BUYERS = sorted((INTEGRATIONS / "buyers").glob("*.yaml"))
CASES = [
    pytest.param(path, i, id=f"{path.stem}: {case['name']}")
    for path in BUYERS
    for i, case in enumerate(load_yaml(path).data.get("tests", []))
    if "response" in case
]


@pytest.mark.parametrize(("path", "index"), CASES)
def test_buyer_response_case(path: Path, index: int) -> None:
    """The sample response gives the expected outcome, reason and values (compared as text)."""
    doc = load_yaml(path)
    spec = IntegrationSpec.model_validate(doc.data)
    case: TestCaseSpec = spec.tests[index]
    stage = spec.stages.ping if case.stage == "ping" else spec.stages.post
    assert stage is not None and case.response is not None and case.expect is not None
    ctx = CompileContext(doc.source)
    plan = compile_response(stage.response, ("stages", case.stage, "response"), ctx)
    assert plan is not None and ctx.issues == []
    headers = {k.lower(): v for k, v in case.response.headers.items()}
    result = plan.interpret(case.response.status, headers, case.response.body.encode())
    expected = dict(case.expect)
    assert result.decision == expected.pop("outcome")
    got = {k: result.reason if k == "reason" else str(result.values.get(k)) for k in expected}
    assert got == expected

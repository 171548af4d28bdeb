"""``leadpost lint`` for stages that name the buyer's spec: read it, then apply the rules.

For each stage with a ``spec:`` section the spec file is read (problems become LP701/LP710–
LP713 issues at the ``spec:`` key) and, when the file compiled, every rule of
:data:`~engine.contract.static.CONTRACT_RULES` runs against it.
"""

from __future__ import annotations

from pathlib import Path

from engine.contract.infer import facts
from engine.contract.model import BuyerSpec
from engine.contract.paths import shape_of
from engine.contract.spec import load_spec
from engine.contract.static import Finding, StageCheck, check_stage, sent_fields
from engine.dsl import models as m
from engine.dsl.loader import SourceMap
from engine.errors import AuthoringError, Issue
from engine.lead import LeadSchema
from engine.lint_rules import BuyerFile
from engine.plan import IntegrationPlan
from engine.positions import Span


def spec_spans(source: SourceMap, stage: str) -> tuple[Span, dict[str, Span]]:
    """The ``spec:`` key of a stage, and the values of its ``operation`` and ``element``."""
    at = ("stages", stage, "spec")
    return source.key_at(at), {k: source.at((*at, k)) for k in ("operation", "element")}


def stage_check(
    spec: m.IntegrationSpec,
    source: SourceMap,
    plan: IntegrationPlan,
    schema: LeadSchema | None,
    stage: str,
    buyer_spec: BuyerSpec,
) -> StageCheck | None:
    """What the rules read for one compiled stage against ``buyer_spec``."""
    model = getattr(spec.stages, stage)
    compiled = plan.stages.get(stage)
    if model is None or compiled is None:
        return None
    shape = shape_of(model)
    plans = tuple(f for f in compiled.request.fields if f.name in model.fields)
    if model.wrap_in_form is not None:
        plans = plans[: len(model.fields)]
    listed = spec.filters.states if spec.filters is not None else None
    states = frozenset(s.strip().upper() for s in listed) if listed else None
    found = {name: facts(field, schema, states) for name, field in model.fields.items()}
    tests = tuple(
        (case, source.at(("tests", i, "expect_body")))
        for i, case in enumerate(spec.tests)
        if case.stage == stage
    )
    charset = "utf-8"
    if model.xml is not None and model.wrap_in_form is None:
        charset = model.xml.encoding
    return StageCheck(
        stage,
        shape,
        buyer_spec,
        sent_fields(shape, plans, found),
        source.key_at(("stages", stage, "spec")),
        tests,
        charset,
    )


def contract_findings(
    target: BuyerFile, base_dir: Path
) -> tuple[list[Issue], dict[str, list[Finding]]]:
    """Spec reading problems, and each stage's findings (only when the file compiled)."""
    problems: list[Issue] = []
    findings: dict[str, list[Finding]] = {}
    for name, stage in target.stages():
        if stage.spec is None:
            continue
        span, spans = spec_spans(target.source, name)
        try:
            buyer_spec = load_spec(stage.spec, base_dir, shape_of(stage), span, spans)
        except AuthoringError as exc:
            problems += exc.issues
            continue
        if target.plan is None:
            continue
        check = stage_check(
            target.spec, target.source, target.plan, target.schema, name, buyer_spec
        )
        if check is not None:
            findings[name] = check_stage(check)
    return problems, findings


def contract_issues(target: BuyerFile, path: Path) -> list[Issue]:
    """Every contract issue of the buyer file at ``path``."""
    problems, findings = contract_findings(target, path.resolve().parent)
    return problems + [f.issue for found in findings.values() for f in found]

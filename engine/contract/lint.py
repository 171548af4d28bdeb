"""``leadpost lint`` for stages that name the buyer's spec: read it, then apply the rules.

For each stage with a ``spec:`` section the spec file is read (problems become LP701/LP710–
LP713 issues at the ``spec:`` key) and, when the file compiled, every rule of
:data:`~engine.contract.static.CONTRACT_RULES` runs against it, then generated leads are
rendered and validated (LP708, :mod:`engine.contract.search`), ``examples`` leads per stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis.configuration import set_hypothesis_home_dir

from engine.authoring.rules import BuyerFile
from engine.contract.infer import facts, in_list
from engine.contract.model import EXAMPLES, BuyerSpec, PayloadPath, Violation
from engine.contract.paths import PayloadShape, field_key, key, shape_of, to_spec
from engine.contract.search import Check, find_violations, finding_issue
from engine.contract.spec import load_spec, spec_file
from engine.contract.static import (
    Finding,
    ListField,
    SentField,
    StageCheck,
    check_stage,
    sent_fields,
)
from engine.contract.verdicts import recall, remember, verdict_key
from engine.dsl import models as m
from engine.dsl.loader import SourceMap
from engine.errors import AuthoringError, Issue
from engine.lead import LeadSchema
from engine.loading import find_lead_schema
from engine.plan import FieldPlan, IntegrationPlan
from engine.positions import Span
from engine.version import code_digest, leadpost_version


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
    items, lists = item_fields(shape, plans, model.fields, schema, states)
    for name, spec_ in model.fields.items():
        if not isinstance(spec_, m.FieldSpec) or spec_.each is None or name not in found:
            continue
        if shape.format == "xml":  # a list is its repeated element: a group of fields
            found[name] = replace(found[name], types=frozenset({"object"}))
        if shape.format != "json" and spec_.if_missing == "empty":  # only JSON has "[]"
            found[name] = replace(found[name], optional="the list may be empty")
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
        sent_fields(shape, plans, found) + items,
        source.key_at(("stages", stage, "spec")),
        tests,
        charset,
        lists,
    )


def item_fields(
    shape: PayloadShape,
    plans: tuple[FieldPlan, ...],
    specs: Mapping[str, m.FieldSpec | str],
    schema: Any,
    states: frozenset[str] | None,
    at: tuple[str | int, ...] = (),
) -> tuple[tuple[SentField, ...], tuple[ListField, ...]]:
    """The fields of every list's items, at the list's path plus position 0 (any item), and the
    lists themselves with their ``max_items``; nested lists too."""
    sent: list[SentField] = []
    lists: list[ListField] = []
    for plan in plans:
        spec = specs.get(plan.name)
        if plan.items is None or not isinstance(spec, m.FieldSpec) or spec.each is None:
            continue
        where = (*at, *plan.path)
        spec_path = to_spec(shape, where)
        if spec_path is None:
            continue
        lists.append(ListField(plan, key(spec_path), spec.max_items))
        inner = in_list(schema, spec.each)
        if spec.fields is None:
            single = spec.model_copy(update={"each": None, "from_": "item", "max_items": None})
            sent.append(SentField(plan, key((*spec_path, 0)), facts(single, inner, states)))
            continue
        found = {n: facts(f, inner, states) for n, f in spec.fields.items()}
        for item in plan.items.fields:
            path = to_spec(shape, (*where, 0, *item.path))
            if path is not None and item.name in found:
                sent.append(SentField(item, key(path), found[item.name]))
        deeper = item_fields(shape, plan.items.fields, spec.fields, inner, states, (*where, 0))
        sent += deeper[0]
        lists += deeper[1]
    return tuple(sent), tuple(lists)


def contract_findings(
    target: BuyerFile, base_dir: Path
) -> tuple[list[Issue], dict[str, list[Finding]], dict[str, BuyerSpec]]:
    """Spec reading problems, each stage's findings (only when the file compiled), and the
    specs read."""
    problems: list[Issue] = []
    findings: dict[str, list[Finding]] = {}
    specs: dict[str, BuyerSpec] = {}
    for name, stage in target.stages():
        if stage.spec is None:
            continue
        span, spans = spec_spans(target.source, name)
        try:
            buyer_spec = load_spec(stage.spec, base_dir, shape_of(stage), span, spans)
        except AuthoringError as exc:
            problems += exc.issues
            continue
        specs[name] = buyer_spec
        if target.plan is None:
            continue
        check = stage_check(
            target.spec, target.source, target.plan, target.schema, name, buyer_spec
        )
        if check is not None:
            findings[name] = check_stage(check)
    return problems, findings, specs


def field_paths_check(shape: PayloadShape, fields: Iterable[FieldPlan], spec: BuyerSpec) -> Check:
    """``spec.validate`` with each violation's path written as the buyer file's field path
    (spec paths drop XML prefixes and the SOAP Body; fields keep them)."""
    written: dict[PayloadPath, PayloadPath] = {}
    for f in fields:
        spec_key = field_key(shape, f.path)
        if spec_key is not None:
            written.setdefault(spec_key, f.path)

    def as_written(path: PayloadPath) -> PayloadPath:
        at = key(path)
        for n in range(len(at), 0, -1):
            if at[:n] in written:
                return written[at[:n]] + path[n:]
        return path

    def check(body: bytes) -> list[Violation]:
        return [
            Violation(as_written(v.path), v.rule, v.message, v.where) for v in spec.validate(body)
        ]

    return check


def generated_issues(
    plan: IntegrationPlan,
    schema: LeadSchema,
    name: str,
    stage: m.StageSpec,
    spec: BuyerSpec,
    examples: int,
) -> list[Issue]:
    """LP708 for each way generated leads rendered for this stage break the buyer's spec."""
    fields = plan.stages[name].request.fields
    check = field_paths_check(shape_of(stage), fields, spec)
    try:
        found = find_violations(plan, name, schema, check, examples=examples)
    except Exception as exc:  # a bug of ours must not hide the other problems of the file
        span = plan.stages[name].span
        detail = f"{type(exc).__name__}: {exc}"
        message = f"the generated-leads check of the {name} stage could not run ({detail})"
        hint = "this is a bug in leadpost; please report it with this file"
        return [Issue("LP708", message, span, hint=hint, severity="warning")]
    return [finding_issue(plan, f) for f in found]


@contextmanager
def hypothesis_home(where: Path | None) -> Iterator[None]:
    """Hypothesis keeps its files under ``where`` meanwhile (None: where it would anyway)."""
    if where is None:
        yield
        return
    set_hypothesis_home_dir(where)
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)


def _bug(issue: Issue) -> bool:
    """The check could not run (a bug of ours): never kept as a verdict."""
    return issue.code == "LP708" and "could not run" in issue.message


def contract_issues(
    target: BuyerFile,
    path: Path,
    examples: int = EXAMPLES,
    *,
    storage: Path | None = None,
    cache: Path | None = None,
) -> list[Issue]:
    """Every contract issue of the buyer file at ``path``: spec problems, static findings and
    (``examples`` > 0) generated leads, Hypothesis keeping its files under ``storage``. The
    verdict is kept in ``cache`` and answered from there while nothing it depends on changed
    (see :mod:`engine.contract.verdicts`): reading the specs and the search are most of lint."""
    key = None
    if cache is not None:
        base = path.resolve().parent
        key = verdict_key(
            buyer_text=target.source.text,
            buyer_name=target.source.file,
            specs=[spec_file(s.spec, base)[2] for _, s in target.stages() if s.spec is not None],
            schema=find_lead_schema(path),
            examples=examples,
            versions=(leadpost_version(), code_digest(), hypothesis.__version__),
        )
        known = recall(cache, key) if key is not None else None
        if known is not None:
            return known
    issues = _contract_issues(target, path, examples, storage)
    if cache is not None and key is not None and not any(_bug(i) for i in issues):
        remember(cache, key, issues)
    return issues


def _contract_issues(
    target: BuyerFile, path: Path, examples: int, storage: Path | None
) -> list[Issue]:
    """The issues of :func:`contract_issues`, found (a generated finding at a field the static
    rules already flagged is left out: it would say the same twice)."""
    problems, findings, specs = contract_findings(target, path.resolve().parent)
    issues = problems + [f.issue for found in findings.values() for f in found]
    if target.plan is None or target.schema is None or examples < 1:
        return issues
    flagged = {i.span for i in issues if i.severity == "error"}
    with hypothesis_home(storage):
        for name, stage in target.stages():
            if name in specs and name in target.plan.stages:
                more = generated_issues(
                    target.plan, target.schema, name, stage, specs[name], examples
                )
                issues += [i for i in more if i.span not in flagged]
    return issues

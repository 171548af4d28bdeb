"""Compile a validated buyer file into an IntegrationPlan: the entry point of the compile side."""

from __future__ import annotations

import json
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from engine.compiler import settings
from engine.compiler.context import CompileContext, Path
from engine.compiler.lists import post_lists
from engine.compiler.salvage import salvage
from engine.compiler.soap import check_wsse
from engine.compiler.stages import compile_stage
from engine.dsl import models as m
from engine.dsl.issues import validate
from engine.dsl.loader import Document
from engine.errors import Issue
from engine.files import MAX_LEAD_BYTES, outside_project, project_folder, read_limited
from engine.plan import IntegrationPlan, SampleResponse, StagePlan, TestCasePlan

if TYPE_CHECKING:
    from engine.lead import LeadSchema


def compile_document(
    doc: Document, lead_schema: LeadSchema | None = None, base_dir: str | None = None
) -> tuple[IntegrationPlan | None, list[Issue]]:
    """Validate and compile one loaded buyer file: the plan (None on errors) and all issues."""
    spec, issues = validate(m.IntegrationSpec, doc)
    if spec is None:
        ctx = CompileContext(doc.source, lead_schema, list(issues))
        issues = issues + salvage(doc, ctx)
        issues.sort(key=lambda i: (i.span.line, i.span.col) if i.span else (0, 0))
        return None, issues
    base = base_dir if base_dir is not None else str(FsPath(doc.source.file).parent)
    ctx = CompileContext(doc.source, lead_schema, issues, base_dir=base)
    plan = compile_spec(spec, ctx)
    ctx.issues.sort(key=lambda i: (i.span.line, i.span.col) if i.span else (0, 0))
    return (None if ctx.failed else plan), ctx.issues


def compile_spec(spec: m.IntegrationSpec, ctx: CompileContext) -> IntegrationPlan | None:
    stages: dict[str, StagePlan] = {}
    ctx.post_lists.update(post_lists(spec.stages.post.fields))
    for name, stage in (("ping", spec.stages.ping), ("post", spec.stages.post)):
        if stage is None:
            continue
        compiled = compile_stage(name, stage, spec.headers, ctx)
        if compiled is not None:
            stages[name] = compiled
    environments = settings.environments(spec, ctx)
    check_wsse(spec, ctx)
    tests = tuple(
        t for i, case in enumerate(spec.tests) if (t := _test_case(case, i, spec, ctx)) is not None
    )
    idem = spec.idempotency_header
    plan = IntegrationPlan(
        buyer=spec.buyer,
        name=spec.name,
        version=spec.version,
        file=ctx.source.file,
        environments=environments,
        auth=settings.auth(spec, ctx),
        stages=stages,
        retry=settings.retry(spec.retry, ctx),
        breaker=settings.breaker(spec.circuit_breaker, ctx),
        idempotency_header=None if idem is None or idem.lower() in ("off", "none", "") else idem,
        concurrency=spec.concurrency,
        filters=settings.filters(spec.filters, ctx),
        caps=settings.caps(spec.caps, ctx),
        schedule=settings.schedule(spec.schedule, ctx),
        price=settings.money(ctx, spec.price, ("price",)),
        tests=tests,
        source=ctx.source.text,
        delivery=spec.delivery,
    )
    return None if ctx.failed else plan


#: What a test's sample answer may be expected to give: a rule's decision, or the outcome class
#: an answer no rule decided gets from its status (``error`` is ``bad_response``).
EXPECTABLE_OUTCOMES = (
    "accepted",
    "rejected",
    "duplicate",
    "error",
    "bad_response",
    "client_error",
    "server_error",
    "rate_limited",
    "auth",
)


def _test_case(
    case: m.TestCaseSpec, i: int, spec: m.IntegrationSpec, ctx: CompileContext
) -> TestCasePlan | None:
    at: Path = ("tests", i)
    if case.stage == "ping" and spec.stages.ping is None:
        ctx.error(
            "LP306", "this test is for the ping stage, but the buyer has no ping", (*at, "stage")
        )
        return None
    if case.env not in spec.environments:
        ctx.choice(case.env, spec.environments, "environment", (*at, "env"))
        return None
    lead = _test_lead(case.lead, ctx, (*at, "lead"))
    if case.lead is not None and lead is None:
        return None
    response = None
    if case.response is not None:
        response = SampleResponse(
            status=case.response.status,
            headers={k.lower(): v for k, v in case.response.headers.items()},
            body=case.response.body.encode("utf-8"),
        )
    expect = dict(case.expect or {})
    outcome = expect.pop("outcome", None)
    if case.expect is not None and outcome not in EXPECTABLE_OUTCOMES:
        ctx.choice(str(outcome), EXPECTABLE_OUTCOMES, "outcome", (*at, "expect", "outcome"))
        return None
    return TestCasePlan(
        name=case.name,
        span=ctx.source.at(at),
        stage=case.stage,
        lead=lead,
        prior=case.prior,
        env=case.env,
        expect_body=_expected_body(case, spec, ctx, at),
        expect_reject=case.expect_reject,
        response=response,
        expect_outcome=outcome,
        expect_values=expect,
        expect_excluded=case.expect_excluded,
    )


def _expected_body(
    case: m.TestCaseSpec, spec: m.IntegrationSpec, ctx: CompileContext, at: Path
) -> bytes | None:
    """The expected body as bytes in the charset the stage sends (e.g. ISO-8859-1 XML)."""
    if case.expect_body is None:
        return None
    stage = spec.stages.ping if case.stage == "ping" else spec.stages.post
    charset = "utf-8"
    if stage is not None and stage.xml is not None and stage.wrap_in_form is None:
        charset = stage.xml.encoding
    try:
        return case.expect_body.encode(charset)
    except (LookupError, UnicodeEncodeError) as exc:
        ctx.error(
            "LP204",
            f"the expected body cannot be written in {charset}: {exc}",
            (*at, "expect_body"),
        )
        return None


def _test_lead(lead: str | dict[str, Any] | None, ctx: CompileContext, at: Path) -> Any:
    if lead is None or isinstance(lead, dict):
        return lead
    base = FsPath(ctx.base_dir)
    path = base / lead
    outside = outside_project(path, project_folder(base))
    if outside is not None:
        ctx.error("LP313", f"lead file '{lead}' cannot be read: {outside}", at)
        return None
    try:
        return json.loads(read_limited(path, MAX_LEAD_BYTES).decode("utf-8"))
    except FileNotFoundError:
        ctx.error("LP313", f"lead file '{lead}' not found (looked in {base})", at)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, RecursionError):
            why = "it is nested too deeply"
        ctx.error("LP313", f"lead file '{lead}' cannot be read: {why}", at)
    return None

"""When a buyer file does not validate as a whole, still compile every part that does.

A misspelt key near the top must not hide a misspelt transform further down: authors fix a
file in one pass only if every problem is reported at once. Each stage's fields and response
section are validated on their own; the ones that are valid are compiled for their issues.
"""

from __future__ import annotations

from typing import Any

from engine.compiler.context import CompileContext, Path
from engine.compiler.fields import compile_fields
from engine.compiler.response import compile_response, extracted_names
from engine.dsl.issues import validate
from engine.dsl.loader import Document
from engine.dsl.models import FieldSpec, ResponseSpec
from engine.errors import Issue


def salvage(doc: Document, ctx: CompileContext) -> list[Issue]:
    """Issues found by compiling the valid parts of an invalid file (none already reported)."""
    seen = {(i.code, i.span) for i in ctx.issues}
    start = len(ctx.issues)
    stages = doc.data.get("stages") if isinstance(doc.data, dict) else None
    if isinstance(stages, dict):
        for name in ("ping", "post"):
            stage = stages.get(name)
            if isinstance(stage, dict):
                _stage(doc, name, stage, ctx)
    found = ctx.issues[start:]
    del ctx.issues[start:]
    fresh: list[Issue] = []
    for issue in found:
        if (issue.code, issue.span) not in seen:
            seen.add((issue.code, issue.span))
            fresh.append(issue)
    return fresh


def _stage(doc: Document, name: str, stage: dict[str, Any], ctx: CompileContext) -> None:
    at: Path = ("stages", name)
    response = stage.get("response")
    if isinstance(response, dict):
        response_spec, _ = validate(ResponseSpec, doc, (*at, "response"))
        if response_spec is not None:
            compile_response(response_spec, (*at, "response"), ctx)
            ctx.stage_values[name] = extracted_names(response_spec)
    fields = stage.get("fields")
    if not isinstance(fields, dict):
        return
    for field, raw in fields.items():
        if isinstance(raw, str):
            compile_fields({field: raw}, (*at, "fields"), ctx)
            continue
        spec, _ = validate(FieldSpec, doc, (*at, "fields", field))
        if spec is not None:
            compile_fields({field: spec}, (*at, "fields"), ctx)

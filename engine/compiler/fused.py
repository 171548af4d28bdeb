"""The fused renderer: one generated Python function computes every field of a stage.

Calling each field's compute costs a handful of Python calls per field, which on a 35-field
buyer was most of the rendering time. Like jinja compiling a template to Python, this stage
writes one function per stage: a plain lead field is read with direct indexing, transform steps
are called in a row, and missing values take their compiled policy. Anything unusual, a
MappingError from a step, an unexpected value kind, a field whose source is not a plain lead
field, is handed to that field's own compute, which gives the same value or raises the same
error with its exact reason, so the fused path is a pure speed-up (a property test compares
the two on random leads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from engine.compiler.fields_run import Pipeline
from engine.errors import MappingError
from engine.plan import OMIT, FieldPlan, RenderContext

Render = Callable[[RenderContext], list[Any]]

_SCALARS = frozenset({str, int, float, Decimal, bool})
_LOOKUP_ERRORS = (KeyError, TypeError, IndexError)


def fuse(fields: Sequence[FieldPlan], pipelines: Sequence[Pipeline | None]) -> Render:
    """One function computing every field's value in order (OMIT for left-out fields)."""
    env: dict[str, Any] = {
        "OMIT": OMIT,
        "MappingError": MappingError,
        "LOOKUP": _LOOKUP_ERRORS,
        "SCALARS": _SCALARS,
        "COMPUTES": tuple(f.compute for f in fields),
    }
    lines = [
        "def render(ctx):",
        "    if ctx.trace is not None:",
        "        return [compute(ctx) for compute in COMPUTES]",
        "    lead = ctx.lead",
    ]
    for i, (field, pipeline) in enumerate(zip(fields, pipelines, strict=True)):
        env[f"F{i}"] = field.compute
        lines.append(f"    # {field.name!r}")
        if pipeline is None or pipeline.lead_keys is None:
            lines.append(f"    v{i} = F{i}(ctx)")
            continue
        lines += _inline(i, pipeline, env)
    lines.append("    return [" + ", ".join(f"v{i}" for i in range(len(fields))) + "]")
    namespace: dict[str, Any] = dict(env)
    exec(compile("\n".join(lines), "<leadpost fused renderer>", "exec"), namespace)
    render: Render = namespace["render"]
    return render


def _missing(i: int, p: Pipeline, env: dict[str, Any]) -> str:
    """The statement giving v{i} its value when the field is missing."""
    if p.missing == "omit":
        return f"v{i} = OMIT"
    if p.missing == "null":
        return f"v{i} = None"
    if p.missing == "default":
        env[f"D{i}"] = p.default
        return f"v{i} = D{i}"
    return f"v{i} = F{i}(ctx)"  # reject: the field's own compute raises the exact error


def _inline(i: int, p: Pipeline, env: dict[str, Any]) -> list[str]:
    assert p.lead_keys is not None
    v = f"v{i}"
    access = "lead" + "".join(f"[{key!r}]" for key in p.lead_keys)
    body = [
        "    try:",
        f"        {v} = {access}",
        "    except LOOKUP:",
        f"        {v} = None",
        f"    if {v} is None or {v} == '':",
        f"        {_missing(i, p, env)}",
        "    else:",
        "        try:",
    ]
    for j, step in enumerate(p.steps):
        env[f"S{i}_{j}"] = step.run
        body.append(f"            {v} = S{i}_{j}({v}, ctx)")
    # Whatever the fast path does not handle goes to the field's own compute, once.
    unusual = []
    if p.steps:
        unusual.append(f"{v} is None or {v} is OMIT or {v} == ''")
    if p.max_length is not None:
        env[f"L{i}"] = p.max_length
        unusual.append(f"type({v}) is not str or len({v}) > L{i}")
    if p.convert is None:
        unusual.append(f"type({v}) not in SCALARS")
    if unusual:
        body += [
            f"            if {' or '.join(unusual)}:",
            f"                {v} = F{i}(ctx)",
        ]
    if p.convert is not None:
        env[f"C{i}"] = p.convert
        convert = f"{v} = C{i}({v})"
        body += (
            ["            else:", f"                {convert}"]
            if unusual
            else [f"            {convert}"]
        )
    body += [
        "        except MappingError:",
        f"            {v} = F{i}(ctx)",
    ]
    return body

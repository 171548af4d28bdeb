"""Compile one stage (ping or post): fields, encoder, headers, timeouts and response rules."""

from __future__ import annotations

from engine.compiler.context import CompileContext, Path
from engine.compiler.encoders import build_encoder
from engine.compiler.fields import compile_field_pipelines
from engine.compiler.fields_run import Pipeline
from engine.compiler.fused import fuse
from engine.compiler.response import compile_response, extracted_names
from engine.compiler.soap import soap_envelope
from engine.dsl import models as m
from engine.plan import FieldPlan, RequestPlan, StagePlan, Template, Timeouts

#: Defaults per stage: a ping must answer fast; a post may take its buyer's validation time.
DEFAULT_TIMEOUTS = {
    "ping": Timeouts(connect=1.0, read=1.0, total=1.0),
    "post": Timeouts(connect=2.0, read=10.0, total=15.0),
}


def timeouts(spec: m.Timeouts, default: Timeouts, ctx: CompileContext, at: Path) -> Timeouts:
    total = ctx.duration(spec.total, (*at, "total"), default.total)
    if spec.total is not None:
        # A total alone also caps the phases it would otherwise contradict.
        default = Timeouts(min(default.connect, total), min(default.read, total), total)
    t = Timeouts(
        connect=ctx.duration(spec.connect, (*at, "connect"), default.connect),
        read=ctx.duration(spec.read, (*at, "read"), default.read),
        total=total,
    )
    if spec.total is None and (spec.connect or spec.read):
        t = Timeouts(t.connect, t.read, max(t.total, t.connect + t.read))
    if t.total < max(t.connect, t.read):
        ctx.error(
            "LP312",
            "the total timeout is shorter than the connect or read timeout",
            (*at, "total"),
            hint="total bounds the whole stage: make it at least as long as the others",
        )
    return t


def headers(
    common: dict[str, str], own: dict[str, str], ctx: CompileContext, at: Path
) -> tuple[tuple[str, Template], ...]:
    merged: dict[str, tuple[str, Template]] = {}
    for name, text in common.items():
        merged[name.lower()] = (name, ctx.template(text, ("headers", name)))
    for name, text in own.items():
        merged[name.lower()] = (name, ctx.template(text, (*at, "headers", name)))
    return tuple(merged.values())


def _limit(field: m.FieldSpec | str | None) -> tuple[int, bool] | None:
    """A field's ``max_length`` and ``too_long: reject``, for encoders that change texts."""
    if isinstance(field, m.FieldSpec) and field.max_length is not None:
        return field.max_length, field.too_long == "reject"
    return None


def compile_stage(
    name: str, spec: m.StageSpec, common_headers: dict[str, str], ctx: CompileContext
) -> StagePlan | None:
    at: Path = ("stages", name)
    flat = spec.format in ("form", "query")
    fields, pipelines = compile_field_pipelines(
        spec.fields, (*at, "fields"), ctx, literal_names=flat
    )
    outer: tuple[FieldPlan, ...] = ()
    outer_pipelines: tuple[Pipeline | None, ...] = ()
    if spec.wrap_in_form is not None:
        outer, outer_pipelines = compile_field_pipelines(
            spec.wrap_in_form.fields, (*at, "wrap_in_form", "fields"), ctx, literal_names=True
        )
    encoder = build_encoder(
        spec,
        [f.path for f in fields],
        at,
        ctx,
        outer_paths=[f.path for f in outer],
        limits=[_limit(spec.fields.get(f.name)) for f in fields],
        items=[None if f.items is None else (f.name, f.items) for f in fields],
    )
    response = compile_response(spec.response, (*at, "response"), ctx)
    if spec.format == "query" and spec.method != "GET":
        ctx.warn(
            "LP312",
            f"format query sends the fields in the address, but the method is {spec.method}",
            (*at, "method"),
            hint="use method: GET with format: query",
        )
    request = RequestPlan(
        method=spec.method,
        path=spec.path,
        headers=headers(common_headers, spec.headers, ctx, at),
        fields=fields + outer,
        encoder=encoder,  # type: ignore[arg-type]
        in_query=spec.format == "query",
        timeouts=timeouts(spec.timeout, DEFAULT_TIMEOUTS[name], ctx, (*at, "timeout")),
        render=fuse(fields + outer, pipelines + outer_pipelines),
        envelope=soap_envelope(spec),
    )
    ctx.stage_values[name] = extracted_names(spec.response)
    if encoder is None or response is None:
        return None
    return StagePlan(name=name, request=request, response=response, span=ctx.source.at(at))

"""The per-lead side of a field: value getters and the compute pipeline, built once per field.

Everything here is closed over at compile time (key tuples, compiled JMESPath, transform
callables), so computing a field for a lead never parses text or walks YAML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import jmespath.exceptions
from jmespath.parser import ParsedResult

from engine.errors import MappingError
from engine.plan import OMIT, RenderContext, Template, TraceStep, Transform
from engine.positions import Span
from engine.transforms.base import as_text
from engine.transforms.values import limit_length

#: Reads the raw value of a field's source for one lead (None when absent).
Getter = Callable[[RenderContext], Any]

MissingMode = Literal["omit", "reject", "null", "default"]

_SCALARS = (str, int, float, Decimal, bool)


def is_missing(value: Any) -> bool:
    """Absent, null or empty text (and a nested field that was left out)."""
    return value is None or value is OMIT or (isinstance(value, str) and not value)


def lead_getter(keys: tuple[str, ...]) -> Getter:
    """The value at ``keys`` in the lead document, e.g. ("lead", "address", "zip")."""
    if len(keys) == 2:
        first, second = keys

        def get2(ctx: RenderContext) -> Any:
            try:
                return ctx.lead[first][second]
            except (KeyError, TypeError, IndexError):
                return None

        return get2

    def get(ctx: RenderContext) -> Any:
        node: Any = ctx.lead
        try:
            for key in keys:
                node = node[key]
        except (KeyError, TypeError, IndexError):
            return None
        return node

    return get


def prior_getter(stage: str, name: str) -> Getter:
    """A value extracted from an earlier stage's response, e.g. ping.ping_id."""

    def get(ctx: RenderContext) -> Any:
        values = ctx.prior.get(stage)
        return None if values is None else values.get(name)

    return get


def constant_getter(template: Template) -> Getter:
    """Constant text; ``${env:NAME}`` parts are read from ``ctx.environ`` when rendering."""
    if not template.is_secret:
        text = template.resolve({})
        return lambda ctx: text

    def get(ctx: RenderContext) -> Any:
        try:
            return template.resolve(ctx.environ)
        except KeyError as exc:
            raise MappingError(f"environment variable {exc.args[0]} is not set") from None

    return get


def concat_getter(parts: tuple[tuple[Getter, str], ...], separator: str) -> Getter:
    """The parts' texts joined by ``separator``; missing parts are skipped."""

    def get(ctx: RenderContext) -> Any:
        texts: list[str] = []
        for part, label in parts:
            value = part(ctx)
            if is_missing(value):
                continue
            try:
                texts.append(as_text(value))
            except MappingError as exc:
                raise MappingError(f"{label} {exc.reason}") from None
        return separator.join(texts)

    return get


def _truthy(value: Any) -> bool:
    """JMESPath truth: false, null, empty text, empty list and empty object are false."""
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and not value)


def when_getter(
    cases: tuple[tuple[ParsedResult, str, Getter], ...], otherwise: Getter | None
) -> Getter:
    """The value of the first case whose condition holds over the lead, else ``otherwise``."""

    def get(ctx: RenderContext) -> Any:
        for condition, text, branch in cases:
            try:
                holds = _truthy(condition.search(ctx.lead))
            except jmespath.exceptions.JMESPathError as exc:
                raise MappingError(f"the condition {text} could not be checked: {exc}") from None
            if holds:
                return branch(ctx)
        return None if otherwise is None else otherwise(ctx)

    return get


@dataclass(frozen=True, slots=True)
class Step:
    """One compiled transform step with what explain shows about it."""

    run: Transform
    label: str
    """Short name used in error messages, e.g. ``phone``."""
    description: str
    span: Span


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Everything one field's compute needs, fixed at compile time."""

    name: str
    span: Span
    source: Getter
    source_label: str
    """How messages name the source: ``lead.phone``, ``ping.ping_id``, ``the value``."""
    steps: tuple[Step, ...] = ()
    max_length: int | None = None
    reject_long: bool = False
    convert: Callable[[Any], Any] | None = None
    type_name: str = ""
    missing: MissingMode = "omit"
    default: Any = None
    """The converted default, when ``missing == "default"``."""
    secret: bool = False
    """The source holds ``${env:...}``: explain shows the masked text, never the value."""
    masked: str = ""
    constant: bool = False
    """The source is constant text: sent as written even when empty."""
    lead_keys: tuple[str, ...] | None = None
    """The lead path when the source is one plain lead field (the fused renderer inlines it)."""


def _fail(p: Pipeline, exc: MappingError, label: str, span: Span) -> MappingError:
    return MappingError(f"{label}: {exc.reason}", field=p.name, span=span)


def _on_missing(p: Pipeline) -> Any:
    mode = p.missing
    if mode == "omit":
        return OMIT
    if mode == "default":
        return p.default
    if mode == "null":
        return None
    raise MappingError(
        f"{p.source_label} is missing; this buyer requires it", field=p.name, span=p.span
    )


def _limit(p: Pipeline, value: Any) -> Any:
    if p.max_length is None:
        return value
    try:
        return limit_length(value, p.max_length, p.reject_long)
    except MappingError as exc:
        raise _fail(p, exc, "max_length", p.span) from None


def _convert(p: Pipeline, value: Any) -> Any:
    """The output type, or the check that the result is a single value."""
    if p.convert is not None:
        try:
            return p.convert(value)
        except MappingError as exc:
            raise _fail(p, exc, f"type {p.type_name}", p.span) from None
    if not isinstance(value, _SCALARS):
        what = "a list" if isinstance(value, list) else "an object"
        raise MappingError(
            f"{p.source_label} is {what}, not a single value; pick one field inside it",
            field=p.name,
            span=p.span,
        )
    return value


def build_compute(p: Pipeline) -> Callable[[RenderContext], Any]:
    """The field's ``compute``: a tight loop, or a traced one when ``ctx.trace`` is a list."""
    source, steps = p.source, tuple((s.run, s.label, s.span) for s in p.steps)
    constant = p.constant

    def compute(ctx: RenderContext) -> Any:
        if ctx.trace is not None:
            return _traced(p, ctx, ctx.trace)
        try:
            value = source(ctx)
        except MappingError as exc:
            raise MappingError(exc.reason, field=p.name, span=p.span) from None
        if not constant and is_missing(value):
            return _on_missing(p)
        step = steps[0] if steps else ("", "", p.span)
        try:
            for step in steps:
                value = step[0](value, ctx)
        except MappingError as exc:
            raise _fail(p, exc, step[1], step[2]) from None
        if is_missing(value):
            return _on_missing(p)
        return _convert(p, _limit(p, value))

    return compute


def _traced(p: Pipeline, ctx: RenderContext, trace: list[TraceStep]) -> Any:
    """The same computation, recording each step (secret values shown masked)."""

    def note(step: str, value: Any, span: Span) -> None:
        shown = p.masked if p.secret and value is not OMIT and value is not None else value
        trace.append(TraceStep(p.name, step, shown, span))

    try:
        value = p.source(ctx)
    except MappingError as exc:
        raise MappingError(exc.reason, field=p.name, span=p.span) from None
    note(p.source_label, value, p.span)
    if p.constant and value == "":
        return value
    for step in p.steps:
        if is_missing(value):
            break
        try:
            value = step.run(value, ctx)
        except MappingError as exc:
            raise _fail(p, exc, step.label, step.span) from None
        note(step.description, value, step.span)
    if is_missing(value):
        value = _on_missing(p)
        note(f"missing: {_MISSING_WORDS[p.missing]}", value, p.span)
        return value
    if p.max_length is not None:
        value = _limit(p, value)
        note(f"at most {p.max_length} characters", value, p.span)
    value = _convert(p, value)
    if p.convert is not None:
        note(f"type {p.type_name}", value, p.span)
    return value


_MISSING_WORDS = {
    "omit": "left out",
    "reject": "the lead is refused",
    "null": "sent as null",
    "default": "the default is sent",
}

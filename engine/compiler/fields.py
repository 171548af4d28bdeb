"""Compile a stage's ``fields:`` into FieldPlans: sources checked, transforms compiled, once.

Each field is checked on its own (a problem in one does not stop the others) and every problem
points at the exact YAML node: ``at + (name,)`` for the field, ``+ ("transform", i)`` for a
step, ``+ ("when", j, "if")`` for a condition. The per-lead side lives in ``fields_run``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.compiler.context import CompileContext, Path
from engine.compiler.fields_paths import condition_paths, parse_output_path
from engine.compiler.fields_run import (
    Getter,
    MissingMode,
    Pipeline,
    Step,
    build_compute,
    concat_getter,
    constant_getter,
    lead_getter,
    prior_getter,
    when_getter,
)
from engine.compiler.lists import Hooks, aggregate_source, compile_each, list_kind
from engine.compiler.response_exprs import compile_expression
from engine.dsl.models import Fields, FieldSpec
from engine.dsl.suggest import hint_for
from engine.errors import MappingError
from engine.plan import FieldPlan, ItemsPlan, RenderContext, Template
from engine.transforms import CONVERTERS, TRANSFORMS, compile_step, limit_length

__all__ = ["compile_fields"]

#: Stages whose extracted values a field may read: ``from: ping.ping_id``.
STAGES = ("ping", "post")
TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}
_PATH_HINT = (
    "join names with dots (contact.email), put list positions in brackets (phones[0]) "
    "and write @ before an XML attribute (Phone.@type)"
)


def compile_fields(fields: Fields, at: Path, ctx: CompileContext) -> tuple[FieldPlan, ...]:
    """Every field that compiled, in file order; all problems are reported into ``ctx``."""
    return compile_field_pipelines(fields, at, ctx)[0]


def compile_field_pipelines(
    fields: Fields, at: Path, ctx: CompileContext, *, literal_names: bool = False
) -> tuple[tuple[FieldPlan, ...], tuple[Pipeline | None, ...]]:
    """The field plans and, aligned with them, their pipelines (for the fused renderer).

    With ``literal_names`` (form and query formats, which have no nesting) a field's name is
    sent exactly as written: ``lead[first_name]`` and ``contact.email`` are plain names there.
    """
    plans: list[FieldPlan] = []
    pipelines: list[Pipeline | None] = []
    for name, spec in fields.items():
        field_at = (*at, name)
        path = (name,) if literal_names and name else parse_output_path(name)
        if isinstance(path, str):
            ctx.error(
                "LP308",
                f"'{name}' is not a valid output name: {path}",
                field_at,
                key=True,
                hint=_PATH_HINT,
            )
        compiled = _field(name, spec, field_at, ctx, flat=literal_names)
        if compiled is None or isinstance(path, str):
            continue
        span = ctx.source.key_at(field_at)
        reads = tuple(dict.fromkeys(compiled.reads))
        pii = not compiled.safe and any(_is_pii(ctx, r) for r in reads)
        if compiled.items is not None:
            pii = compiled.pii
        plans.append(
            FieldPlan(
                name, path, compiled.compute, span, compiled.description, reads, pii, compiled.items
            )
        )
        pipelines.append(compiled.pipeline)
    return tuple(plans), tuple(pipelines)


def _is_pii(ctx: CompileContext, path: str) -> bool:
    schema = ctx.lead_schema
    check = getattr(schema, "is_pii", None)
    return bool(check(path)) if callable(check) else False


# -- sources -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    get: Getter
    label: str
    """How messages name it: ``lead.phone`` (``... is missing; this buyer requires it``)."""
    description: str
    reads: tuple[str, ...] = ()
    template: Template | None = None
    keys: tuple[str, ...] | None = None
    """The lead path, when this source is one plain lead field."""
    safe: bool = False
    """Its value identifies no one although it reads personal fields (an aggregate)."""


def _reference(text: str, at: Path, ctx: CompileContext, *, bare: bool) -> _Source | None:
    """A lead field (``lead.phone``) or an earlier stage's value (``ping.ping_id``).

    ``bare`` is for a plain string where a field spec could stand (``then: Y``): when it names
    no lead field, the hint says how to send it as text instead.
    """
    path = text.strip()
    parts = path.split(".")
    if not all(parts):
        ctx.error("LP304", f"'{text}' is not a field path", at, hint="write it like lead.phone")
        return None
    head = parts[0]
    if head == "item":
        return _item_reference(path, at, ctx)
    if head in STAGES:
        if len(parts) != 2:
            ctx.error(
                "LP306",
                f"'{path}' should name one value of the {head} stage",
                at,
                hint=f"write it like {head}.ping_id",
            )
            return None
        if not ctx.prior_value(head, parts[1], at):
            return None
        return _Source(prior_getter(head, parts[1]), path, f"{path} (from the {head} response)")
    schema = ctx.lead_schema
    if schema is not None:
        if bare and path not in schema.paths:
            close = hint_for(path, schema.paths) if "." in path else None
            ctx.error(
                "LP304",
                f"unknown lead field '{path}'",
                at,
                hint=close or f"to send the text '{path}', write {{value: {path}}}",
            )
            return None
        if not ctx.lead_field(path, at):
            return None
        if not _outside_lists(path, at, ctx):
            return None
        leaves = getattr(schema, "fields", None)
        if isinstance(leaves, Mapping) and path not in leaves:
            inside = sorted(p for p in leaves if p.startswith(path + "."))
            ctx.error(
                "LP304",
                f"'{path}' holds several lead fields, not one value",
                at,
                hint=f"name one of them, e.g. {inside[0]}" if inside else None,
            )
            return None
    return _Source(lead_getter(tuple(parts)), path, path, (path,), keys=tuple(parts))


def _item_reference(path: str, at: Path, ctx: CompileContext) -> _Source | None:
    """``item.dob`` inside ``each: lead.drivers``: one item's field (``item`` alone: the item)."""
    dotted = ctx.item_path(path)
    if dotted is None:
        ctx.error(
            "LP206",
            f"'{path}' reads an item of a list, but this field is not inside 'each:' or an "
            "aggregate",
            at,
            hint="send a list with each: lead.drivers and read its items as item.NAME inside",
        )
        return None
    schema = ctx.lead_schema
    scope = ctx.item_scopes[-1]
    if schema is not None and dotted not in schema.paths:
        inside = sorted(p[len(scope) + 1 :] for p in schema.paths if p.startswith(scope + "."))
        wrote = path.removeprefix("item.")
        ctx.error(
            "LP304",
            f"the items of {scope} have no field '{wrote}'",
            at,
            hint=hint_for(wrote, inside) or ("they have: " + ", ".join(inside) if inside else None),
        )
        return None
    if schema is not None and dotted != scope and dotted in getattr(schema, "list_paths", ()):
        ctx.error(
            "LP206",
            f"'{path}' is a list, not one value",
            at,
            hint=f"send it with each: {path}, or count it with count: {path}",
        )
        return None
    keys = tuple(path.split("."))
    return _Source(lead_getter(keys), path, path, (dotted,), keys=keys)


def _outside_lists(path: str, at: Path, ctx: CompileContext) -> bool:
    """A lead path that is a list, or inside one, is read with each/aggregates (LP206)."""
    outer = getattr(ctx.lead_schema, "list_of", lambda p: None)(path)
    if outer is None:
        return True
    if outer == path:
        ctx.error(
            "LP206",
            f"'{path}' is a list of items, not one value",
            at,
            hint=f"send its items with each: {path}, or a number such as count: {path}",
        )
    else:
        ctx.error(
            "LP206",
            f"'{path}' is a field of each item of the list '{outer}'",
            at,
            hint=f"inside each: {outer} (or an aggregate over it), write "
            f"item.{path[len(outer) + 1 :]}",
        )
    return False


def _source(name: str, spec: FieldSpec, at: Path, ctx: CompileContext) -> _Source | None:
    if list_kind(spec) not in (None, "each"):
        found = aggregate_source(spec, at, ctx, _HOOKS)
        if found is None:
            return None
        return _Source(found.get, found.label, found.description, found.reads, safe=found.safe)
    if spec.from_ is not None:
        return _reference(spec.from_, (*at, "from"), ctx, bare=False)
    if spec.value is not None:
        template = ctx.template(spec.value, (*at, "value"))
        shown = f"the text '{template.masked()}'"
        return _Source(constant_getter(template), shown, shown, (), template)
    if spec.concat is not None:
        return _concat(name, spec.concat, spec.separator, (*at, "concat"), ctx)
    assert spec.when is not None
    return _when(name, spec, at, ctx)


def _concat(
    name: str, parts: list[FieldSpec | str], sep: str | None, at: Path, ctx: CompileContext
) -> _Source | None:
    """Parts joined into one text: lead fields (``lead.first_name``), fixed text
    (``{value: "Web -"}``) or whole field specs with their own transforms."""
    if not parts:
        ctx.error(
            "LP204",
            "concat lists no fields",
            at,
            hint="write e.g. [lead.first_name, lead.last_name]",
        )
        return None
    found = [_part(name, p, (*at, i), ctx) for i, p in enumerate(parts)]
    sources = [s for s in found if s is not None]
    if len(sources) != len(found):
        return None
    separator = " " if sep is None else sep
    labels = [s.label for s in sources]
    getter = concat_getter(tuple((s.get, s.label) for s in sources), separator)
    joined = ", ".join(labels[:-1]) + " and " + labels[-1] if len(labels) > 1 else labels[0]
    reads = tuple(r for s in sources for r in s.reads)
    return _Source(getter, " + ".join(labels), f"{joined} joined by '{separator}'", reads)


def _part(name: str, part: FieldSpec | str, at: Path, ctx: CompileContext) -> _Source | None:
    if isinstance(part, str):
        return _reference(part, at, ctx, bare=True)
    if part.value is not None and part == FieldSpec(value=part.value):  # plain fixed text
        return _source(name, part, at, ctx)
    branch = _branch(name, part, at, ctx)
    if branch is None:
        return None
    get, description, reads = branch
    return _Source(get, description, description, reads)


def _when(name: str, spec: FieldSpec, at: Path, ctx: CompileContext) -> _Source | None:
    cases: list[tuple[Any, str, Getter]] = []
    words: list[str] = []
    reads: list[str] = []
    ok = True
    for j, case in enumerate(spec.when or ()):
        if_at = (*at, "when", j, "if")
        condition = compile_expression(case.if_, if_at, ctx, "this condition")
        if condition is not None:
            ok &= _condition_fields(dict(condition.parsed), if_at, ctx)
        branch = _branch(name, case.then, (*at, "when", j, "then"), ctx)
        if condition is None or branch is None:
            ok = False
            continue
        cases.append((condition, case.if_, branch[0]))
        words.append(f"when {case.if_}: {branch[1]}")
        reads += branch[2]
    otherwise = None
    if spec.else_ is not None:
        other = _branch(name, spec.else_, (*at, "else"), ctx)
        if other is None:
            return None
        otherwise = other[0]
        words.append(f"otherwise {other[1]}")
        reads += other[2]
    if not ok:
        return None
    return _Source(
        when_getter(tuple(cases), otherwise), "the chosen value", "; ".join(words), tuple(reads)
    )


def _condition_fields(tree: dict[str, Any], at: Path, ctx: CompileContext) -> bool:
    """Check the lead fields a condition reads; catch bare null/true/false (fields in JMESPath)."""
    ok = True
    for path in condition_paths(tree):
        if path.split(".")[0] == "item":
            dotted = ctx.item_path(path)
            if dotted is None:
                ctx.error(
                    "LP206",
                    f"'{path}' reads an item, but this condition is not inside 'each:'",
                    at,
                )
                ok = False
            elif ctx.lead_schema is not None:
                ok &= ctx.lead_field(dotted, at)
        elif path in ("null", "true", "false"):
            ctx.error(
                "LP303",
                f"'{path}' without backticks is read as a lead field named {path}",
                at,
                hint=f"write it in backticks: lead.phone != `{path}`",
            )
            ok = False
        elif ctx.lead_schema is not None:
            ok &= ctx.lead_field(path, at)
    return ok


def _branch(
    name: str, then: FieldSpec | str, at: Path, ctx: CompileContext
) -> tuple[Getter, str, tuple[str, ...]] | None:
    if isinstance(then, str):
        src = _reference(then, at, ctx, bare=True)
        return None if src is None else (src.get, src.description, src.reads)
    compiled = _field(name, then, at, ctx)
    if compiled is None:
        return None
    if compiled.items is not None:
        ctx.error(
            "LP206",
            "a list (each:) can only be a field of its own, not a part or a branch of one",
            at,
            hint="give the list its own field; a when can choose items with each's where:",
        )
        return None
    return compiled.compute, f"({compiled.description})", compiled.reads


# -- one field -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Compiled:
    compute: Callable[[RenderContext], Any]
    description: str
    reads: tuple[str, ...]
    safe: bool = False
    """A ping-safe reduction (age, hash, ZIP3, …) or an aggregate: the value sent identifies
    no one, so it no longer counts as PII."""
    pipeline: Pipeline | None = None
    items: ItemsPlan | None = None
    """A list field: the shape of its items."""
    pii: bool = False
    """A list field: whether any item field sends personal data."""


def _errors(ctx: CompileContext) -> int:
    return sum(1 for i in ctx.issues if i.severity == "error")


def _field(
    name: str, spec: FieldSpec | str, at: Path, ctx: CompileContext, *, flat: bool = False
) -> _Compiled | None:
    """The compiled field, or None after reporting its problems. ``flat``: the stage's format
    has flat names (form, query), which a list field names with its ``names`` pattern."""
    span = ctx.source.key_at(at)
    if isinstance(spec, FieldSpec) and spec.each is not None:
        listed = compile_each(name, spec, at, ctx, _HOOKS, flat=flat)
        if listed is None:
            return None
        return _Compiled(
            listed.compute, listed.description, listed.reads, items=listed.items, pii=listed.pii
        )
    if isinstance(spec, str):
        src = _reference(spec, at, ctx, bare=True)
        if src is None:
            return None
        pipeline = Pipeline(name, span, src.get, src.label, lead_keys=src.keys)
        return _Compiled(build_compute(pipeline), src.description, src.reads, pipeline=pipeline)
    before = _errors(ctx)
    src = _source(name, spec, at, ctx)
    steps = _steps(spec, at, ctx)
    settings = _settings(spec, at, ctx)
    if src is None or steps is None or settings is None or _errors(ctx) > before:
        return None
    missing, default, words = settings
    template = src.template
    secret = template is not None and template.is_secret
    pipeline = Pipeline(
        name=name,
        span=span,
        source=src.get,
        source_label=src.label,
        steps=steps,
        max_length=spec.max_length,
        reject_long=spec.too_long == "reject",
        convert=CONVERTERS[spec.type] if spec.type else None,
        type_name=spec.type or "",
        missing=missing,
        default=default,
        secret=secret,
        masked=template.masked() if template is not None else "",
        constant=template is not None,
        lead_keys=src.keys,
    )
    compute: Callable[[RenderContext], Any] | None = build_compute(pipeline)
    if template is not None and not secret and not steps:
        compute = _constant(pipeline, build_compute(pipeline), at, ctx)
        if compute is None:
            return None
    assert compute is not None
    description = ", ".join([src.description, *(s.description for s in steps), *words])
    safe = src.safe or any(TRANSFORMS[s.label].ping_safe for s in steps)
    return _Compiled(compute, description, src.reads, safe, pipeline)


def _steps(spec: FieldSpec, at: Path, ctx: CompileContext) -> tuple[Step, ...] | None:
    steps: list[Step] = []
    ok = True
    for i, raw in enumerate(spec.transform):
        step_at = (*at, "transform", i)
        compiled = compile_step(raw, step_at, ctx)
        if compiled is None:
            ok = False
            continue
        label = raw if isinstance(raw, str) else str(next(iter(raw)))
        steps.append(Step(compiled[0], label, compiled[1], ctx.source.at(step_at)))
    return tuple(steps) if ok else None


def _settings(
    spec: FieldSpec, at: Path, ctx: CompileContext
) -> tuple[MissingMode, Any, list[str]] | None:
    """Missing handling, the converted default, and the words describing length and type."""
    words: list[str] = []
    ok = True
    if spec.max_length is not None:
        refused = ", longer values are refused" if spec.too_long == "reject" else ""
        words.append(f"at most {spec.max_length} characters{refused}")
    elif "too_long" in spec.model_fields_set:
        ctx.error(
            "LP312",
            "'too_long' only applies together with 'max_length'",
            (*at, "too_long"),
            hint="add max_length: N, or remove too_long",
        )
        ok = False
    if spec.type is not None:
        words.append(f"sent as {TYPE_WORDS[spec.type]}")
    default: Any = None
    missing = spec.if_missing
    assert missing != "empty"  # the model allows it with 'each' only, which is compiled apart
    mode: MissingMode = missing or "omit"
    if spec.if_missing is None and "if_missing" in spec.model_fields_set:
        mode = "null"  # `if_missing: null` arrives as YAML null
        if spec.default is not None:
            ctx.error(
                "LP312", "use either 'default' or 'if_missing', not both", (*at, "if_missing")
            )
            ok = False
    if spec.default is not None:
        mode, default = "default", spec.default
        if spec.max_length is not None and len(default) > spec.max_length:
            ctx.error(
                "LP312",
                f"the default is longer than max_length ({spec.max_length})",
                (*at, "default"),
                hint="shorten the default or raise max_length",
            )
            ok = False
        if spec.type is not None:
            try:
                default = CONVERTERS[spec.type](default)
            except MappingError:
                ctx.error(
                    "LP204",
                    f"the default '{spec.default}' cannot be sent as {TYPE_WORDS[spec.type]}",
                    (*at, "default"),
                )
                ok = False
        words.append(f"'{spec.default}' when missing")
    elif mode == "reject":
        words.append("the lead is refused when it is missing")
    elif mode == "null":
        words.append("null when missing")
    return (mode, default, words) if ok else None


def _constant(
    p: Pipeline, compute: Callable[[RenderContext], Any], at: Path, ctx: CompileContext
) -> Callable[[RenderContext], Any] | None:
    """A literal constant is computed now: its problems are compile errors, its value fixed."""
    value: Any = p.source(None)  # type: ignore[arg-type]  # a literal getter reads nothing
    try:
        if p.max_length is not None:
            value = limit_length(value, p.max_length, p.reject_long)
        if p.convert is not None:
            value = p.convert(value)
    except MappingError as exc:
        ctx.error("LP204", f"the value {exc.reason}", (*at, "value"))
        return None
    fixed = value

    def constant(ctx: RenderContext) -> Any:
        return compute(ctx) if ctx.trace is not None else fixed

    return constant


_HOOKS = Hooks(field=_field, fields=compile_field_pipelines, conditions=_condition_fields)

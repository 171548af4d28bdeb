"""Compile list fields (``each:``) and aggregates (``count``, ``min``, ``max``, ``sum``, ``any``,
``all``).

Both read a list of the lead (``lead.drivers``, or ``item.accidents`` inside another list) and
keep the same items: a list field's ``where``, ``max_items`` and ``extra_items`` decide which
items it sends; an aggregate over a lead list the post sends with ``each:`` counts exactly the
items the post will send (so a ping's "number of drivers" describes the drivers in the post),
then its own ``where`` picks the items it is about. Inside, ``item.NAME`` reads one item.

The field compiler hands in its own functions (:class:`Hooks`) so the two modules do not import
each other; the per-lead side is in ``lists_run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from engine.compiler.context import CompileContext, Path
from engine.compiler.fields_run import Getter, lead_getter
from engine.compiler.fused import fuse
from engine.compiler.jmes import CompiledExpression
from engine.compiler.lists_run import Keep, aggregate_getter, each_compute
from engine.compiler.response_exprs import compile_expression
from engine.dsl.models import AGGREGATES, FieldSpec
from engine.dsl.suggest import hint_for
from engine.plan import FieldPlan, ItemsPlan, RenderContext

__all__ = ["Hooks", "ListField", "aggregate_source", "compile_each", "list_kind"]


class _Compiled(Protocol):
    @property
    def compute(self) -> Callable[[RenderContext], Any]: ...
    @property
    def description(self) -> str: ...
    @property
    def reads(self) -> tuple[str, ...]: ...
    @property
    def safe(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Hooks:
    """The field compiler's functions a list needs (passed in: no import circle)."""

    field: Callable[..., _Compiled | None]
    fields: Callable[..., tuple[tuple[FieldPlan, ...], tuple[Any, ...]]]
    conditions: Callable[[dict[str, Any], Path, CompileContext], bool]


@dataclass(frozen=True, slots=True)
class ListField:
    """A compiled ``each:`` field."""

    compute: Callable[[RenderContext], Any]
    description: str
    reads: tuple[str, ...]
    items: ItemsPlan
    pii: bool


@dataclass(frozen=True, slots=True)
class AggregateSource:
    """A compiled aggregate: a getter the field's transforms then apply to."""

    get: Getter
    label: str
    description: str
    reads: tuple[str, ...]
    safe: bool
    """count, any and all give numbers and true/false; min, max and sum are as safe as their
    `of`."""


def list_kind(spec: FieldSpec) -> str | None:
    """``each`` or the aggregate a field spec uses, or None for any other field."""
    if spec.each is not None:
        return "each"
    return next((k for k in AGGREGATES if getattr(spec, k) is not None), None)


@contextmanager
def _inside(ctx: CompileContext, scope: str) -> Iterator[None]:
    ctx.item_scopes.append(scope)
    try:
        yield
    finally:
        ctx.item_scopes.pop()


def _the_list(text: str, at: Path, ctx: CompileContext) -> tuple[Getter, str] | None:
    """The getter of a lead list and its lead-schema path, or None after reporting LP206."""
    path = text.strip()
    schema = ctx.lead_schema
    lists: frozenset[str] = getattr(schema, "list_paths", frozenset())
    parts = path.split(".")
    if parts[0] == "item":
        scope = ctx.item_path(path)
        if scope is None:
            ctx.error(
                "LP206",
                f"'{path}' reads an item, but this field is not inside an 'each:' list",
                at,
                hint="name a list of the lead, e.g. lead.drivers",
            )
            return None
        dotted, keys = scope, tuple(parts)
    else:
        dotted, keys = path, tuple(parts)
        outer = getattr(schema, "list_of", lambda p: None)(path)
        if outer is not None and outer != path:
            ctx.error(
                "LP206",
                f"'{path}' is inside the list '{outer}': it exists once per item",
                at,
                hint=f"inside each: {outer}, write item.{path[len(outer) + 1 :]}",
            )
            return None
    if schema is not None and dotted not in lists:
        known = sorted(lists)
        ctx.error(
            "LP206",
            f"'{path}' is not a list of the lead",
            at,
            hint=(hint_for(dotted, known) if known else None)
            or (
                f"the lists are: {', '.join(known)}"
                if known
                else "declare one in lead-schema.yaml, e.g. lead.drivers: {type: list}"
            ),
        )
        return None
    return lead_getter(keys), dotted


def _conditions(
    texts: Sequence[tuple[str, Path]], ctx: CompileContext, hooks: Hooks
) -> tuple[CompiledExpression, ...] | None:
    out: list[CompiledExpression] = []
    ok = True
    for text, at in texts:
        compiled = compile_expression(text, at, ctx, "this condition")
        if compiled is None or not hooks.conditions(dict(compiled.parsed), at, ctx):
            ok = False
            continue
        out.append(compiled)
    return tuple(out) if ok else None


def _keep(
    spec: FieldSpec, getter: Getter, label: str, at: Path, ctx: CompileContext, hooks: Hooks
) -> Keep | None:
    where = [(spec.where, (*at, "where"))] if spec.where is not None else []
    conditions = _conditions(where, ctx, hooks)
    if conditions is None:
        return None
    return Keep(getter, label, conditions, spec.max_items, spec.extra_items == "reject")


def _limits_words(keep: Keep, where: str | None) -> str:
    words = []
    if where:
        words.append(f"where {where}")
    if keep.limit is not None:
        extra = "more refuse the lead" if keep.reject_extra else "more are left out"
        words.append(f"at most {keep.limit} ({extra})")
    return ", ".join(words)


def compile_each(
    name: str, spec: FieldSpec, at: Path, ctx: CompileContext, hooks: Hooks, *, flat: bool
) -> ListField | None:
    """A list field: one entry per kept item (an object of ``fields``, or one value)."""
    assert spec.each is not None
    found = _the_list(spec.each, (*at, "each"), ctx)
    if found is None:
        return None
    getter, dotted = found
    label = spec.each.strip()
    ok = _check_each(spec, at, ctx, flat=flat)
    with _inside(ctx, dotted):
        keep = _keep(spec, getter, label, at, ctx, hooks)
        if spec.fields is not None:
            plans, pipelines = hooks.fields(spec.fields, (*at, "fields"), ctx, literal_names=flat)
            if len(plans) != len(spec.fields):
                return None
            render: Callable[[RenderContext], Any] = fuse(plans, pipelines)
            reads = tuple(r for p in plans for r in p.reads)
            pii = any(p.pii for p in plans)
            inner = "; ".join(f"{p.name}: {p.description}" for p in plans)
            items = ItemsPlan(plans, spec.names)
        else:
            single = _item_spec(spec)
            compiled = hooks.field(name, single, at, ctx)
            if compiled is None:
                return None
            render = compiled.compute
            reads, pii = compiled.reads, not compiled.safe and _pii(ctx, compiled.reads)
            inner = compiled.description
            items = ItemsPlan((), spec.names)
    if keep is None or not ok:
        return None
    mode = spec.if_missing or "omit"
    if spec.if_missing is None and "if_missing" in spec.model_fields_set:
        mode = "null"

    def on_missing() -> Any:
        from engine.errors import MappingError
        from engine.plan import OMIT, Rows

        if mode == "reject":
            raise MappingError(f"{label} has no items; this buyer requires at least one")
        if mode == "empty":
            return Rows()  # JSON writes [], XML its container empty, a form nothing
        return None if mode == "null" else OMIT

    span = ctx.source.key_at(at)
    compute = each_compute(name, span, keep, render, on_missing, spec.fields is not None)
    limits = _limits_words(keep, spec.where)
    without = {
        "reject": "the lead is refused without one",
        "null": "null without one",
        "empty": "an empty list without one",
    }.get(mode)
    if without is not None:
        limits = ", ".join(w for w in (limits, without) if w)
    description = f"one per item of {label}" + (f" ({limits})" if limits else "") + f": {inner}"
    return ListField(compute, description, tuple(dict.fromkeys(reads)), items, pii)


def _pii(ctx: CompileContext, reads: tuple[str, ...]) -> bool:
    check = getattr(ctx.lead_schema, "is_pii", None)
    return callable(check) and any(check(r) for r in reads)


_LIST_KEYS = {"each", "where", "max_items", "extra_items", "names", "if_missing"}


def _item_spec(spec: FieldSpec) -> FieldSpec:
    """The per-item field of a list of values: the list's transforms applied to ``item``.

    Built anew rather than copied: a copy that sets ``if_missing`` to None would count as
    written ``if_missing: null``, and an item left empty would be sent as null."""
    written = spec.model_dump(by_alias=True, exclude_unset=True, exclude=_LIST_KEYS)
    return FieldSpec.model_validate({**written, "from": "item"})


def _check_each(spec: FieldSpec, at: Path, ctx: CompileContext, *, flat: bool) -> bool:
    """``names`` for form and query (with {i} or {n} and, for objects, {name}); no
    ``transform``/``type`` beside ``fields``."""
    ok = True
    if spec.fields is not None:
        for key in ("transform", "type", "max_length", "default"):
            if key in spec.model_fields_set:
                ctx.error(
                    "LP207",
                    f"'{key}' applies to a list of values; with 'fields' give each field its own",
                    (*at, key),
                    key=True,
                )
                ok = False
    if not flat:
        if spec.names is not None:
            ctx.error(
                "LP207",
                "'names' only applies to form and query formats, whose names are flat",
                (*at, "names"),
                key=True,
                hint="remove it: JSON sends a list, XML repeats the element",
            )
            ok = False
        return ok
    names = spec.names
    if names is None:
        ctx.error(
            "LP207",
            "a list in a form needs 'names': how each item's fields are named",
            at,
            hint="e.g. names: 'driver{n}_{name}' (driver1_first) or 'drivers[{i}][{name}]'",
        )
        return False
    indexed = "{i}" in names or "{n}" in names
    if spec.fields is not None and ("{name}" not in names or not indexed):
        ctx.error(
            "LP207",
            f"'{names}' must contain {{name}} (the item's field) and {{i}} or {{n}} (its "
            "position from 0 or 1)",
            (*at, "names"),
            hint="e.g. 'driver{n}_{name}' or 'drivers[{i}][{name}]'",
        )
        ok = False
    elif spec.fields is None and "{name}" in names:
        ctx.error(
            "LP207",
            f"'{names}' uses {{name}}, but a list of values has no field names",
            (*at, "names"),
            hint="e.g. 'phone{n}', or 'phones[]' to repeat one name",
        )
        ok = False
    leftover = names.replace("{name}", "").replace("{i}", "").replace("{n}", "")
    if "{" in leftover or "}" in leftover:
        ctx.error(
            "LP207",
            f"'{names}' has a placeholder other than {{name}}, {{i}} and {{n}}",
            (*at, "names"),
        )
        ok = False
    return ok


def aggregate_source(
    spec: FieldSpec, at: Path, ctx: CompileContext, hooks: Hooks
) -> AggregateSource | None:
    """A ``count``/``min``/``max``/``sum``/``any``/``all`` over a lead list's kept items."""
    kind = list_kind(spec)
    assert kind in AGGREGATES
    text = str(getattr(spec, kind))
    found = _the_list(text, (*at, kind), ctx)
    if found is None:
        return None
    getter, dotted = found
    label = text.strip()
    post = ctx.post_lists.get(dotted)
    limits = post if isinstance(post, FieldSpec) and not label.startswith("item") else None
    with _inside(ctx, dotted):
        keep = _post_keep(limits, getter, label, ctx, hooks)
        own = _conditions([(spec.where, (*at, "where"))] if spec.where else [], ctx, hooks)
        of = None
        if spec.of is not None:
            of = hooks.field(kind, spec.of, (*at, "of"), ctx)
            if of is None:
                return None
    if keep is None or own is None:
        return None
    if spec.max_items is not None:
        keep = Keep(keep.source, label, keep.where, min(spec.max_items, keep.limit or 10**9))
    condition = own[0] if own else None
    get = aggregate_getter(kind, keep, condition, of.compute if of else None)  # type: ignore[arg-type]
    reads = (*(of.reads if of else ()),)
    safe = of is None or of.safe or not _pii(ctx, of.reads)
    scope = f"the items of {label}" + (" the post sends" if limits is not None else "")
    where = f" where {spec.where}" if spec.where else ""
    inner = of.description if of else ""
    words = {
        "count": f"the number of {scope}{where}",
        "any": f"whether any of {scope} meets {spec.where}",
        "all": f"whether all of {scope} meet {spec.where}",
        "min": f"the least ({inner}) over {scope}{where}",
        "max": f"the greatest ({inner}) over {scope}{where}",
        "sum": f"the total of ({inner}) over {scope}{where}, 0 when none has one",
    }
    return AggregateSource(get, f"{kind} of {label}", words[kind], reads, safe)


def _post_keep(
    limits: FieldSpec | None, getter: Getter, label: str, ctx: CompileContext, hooks: Hooks
) -> Keep | None:
    """The items the post sends (its ``where`` and ``max_items``), or every item."""
    top = not label.startswith("item")
    found = ctx.keeps.get(label) if top else None
    if isinstance(found, Keep):
        return found
    if limits is None:
        keep = Keep(getter, label, shared=top)
        if top:
            ctx.keeps[label] = keep
        return keep
    where: list[tuple[str, Path]] = [(limits.where, ("stages", "post"))] if limits.where else []
    quiet = CompileContext(ctx.source, ctx.lead_schema, item_scopes=list(ctx.item_scopes))
    conditions = _conditions(where, quiet, hooks)  # the post's own field reports problems
    if conditions is None:
        return None
    keep = Keep(getter, label, conditions, limits.max_items, limits.extra_items == "reject", top)
    ctx.keeps[label] = keep
    return keep


def post_lists(fields: dict[str, Any]) -> dict[str, FieldSpec]:
    """Each lead list the post's fields send with ``each:`` -> its (first) field spec."""
    found: dict[str, FieldSpec] = {}
    for spec in fields.values():
        if isinstance(spec, FieldSpec) and spec.each is not None:
            found.setdefault(spec.each.strip(), spec)
    return found

"""The per-lead side of lists: which items are kept, each item rendered, aggregates over items.

A list field (``each: lead.drivers``) and an aggregate (``count: lead.drivers``) first take the
same *kept items*: the lead's list, filtered by ``where`` and cut to ``max_items`` (or refused
when ``extra_items: reject``). Each kept item is then read in its own context, where the lead
document gains one more top-level name, ``item``, holding that item; so ``item.dob`` reads the
item and ``lead.address.zip`` still reads the lead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import jmespath.exceptions

from engine.compiler.fields_run import Getter, is_missing
from engine.compiler.jmes import CompiledExpression
from engine.errors import MappingError
from engine.plan import OMIT, RenderContext, Rows
from engine.positions import Span

Aggregate = Literal["count", "min", "max", "sum", "any", "all"]


def items_context(ctx: RenderContext) -> tuple[RenderContext, dict[str, Any]]:
    """One context for reading a list's items in turn: set ``doc["item"]`` before each (the
    items are read one after the other, so one copy of the lead document serves them all)."""
    doc = dict(ctx.lead)
    return RenderContext(doc, ctx.now, ctx.prior, ctx.environ, ctx.trace, ctx.stamp), doc


def holds(condition: CompiledExpression, doc: Any) -> bool:
    """JMESPath truth of ``condition`` over ``doc`` (false, null, '' , [] and {} are false)."""
    try:
        value = condition.search(doc)
    except jmespath.exceptions.JMESPathError as exc:
        reason = f"the condition {condition.expression} could not be checked: {exc}"
        raise MappingError(reason) from None
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and not value)


@dataclass(frozen=True, slots=True)
class Keep:
    """Which items of a lead list are used: those meeting every ``where``, at most ``limit``."""

    source: Getter
    label: str
    """The list as the author wrote it, e.g. ``lead.drivers``."""
    where: tuple[CompiledExpression, ...] = ()
    limit: int | None = None
    reject_extra: bool = False
    shared: bool = False
    """A list of the lead itself, whose aggregates share this Keep: one render chooses its items
    once. (Not for an item's list: one context serves all items of the outer list in turn.)"""
    _last: list[Any] = field(default_factory=lambda: [None], compare=False, repr=False)
    """The last context asked about and its kept items (a tuple, replaced whole)."""

    def items(self, ctx: RenderContext) -> list[Any]:
        """The kept items, in the lead's order (empty when the list is absent or empty)."""
        if not self.shared:
            return self._choose(ctx)
        last = self._last[0]
        if last is not None and last[0] is ctx:
            kept: list[Any] = last[1]
            return kept
        kept = self._choose(ctx)
        self._last[0] = (ctx, kept)
        return kept

    def _choose(self, ctx: RenderContext) -> list[Any]:
        found = self.source(ctx)
        if not isinstance(found, list):
            return []
        kept = found
        if self.where:
            doc = dict(ctx.lead)
            kept = []
            for item in found:
                doc["item"] = item
                if all(holds(c, doc) for c in self.where):
                    kept.append(item)
        if self.limit is not None and len(kept) > self.limit:
            if self.reject_extra:
                raise MappingError(
                    f"{self.label} has {len(kept)} items and this buyer takes at most "
                    f"{self.limit} (extra_items: reject)"
                )
            kept = kept[: self.limit]
        return kept


def each_compute(
    name: str,
    span: Span,
    keep: Keep,
    render_item: Callable[[RenderContext], Any],
    on_missing: Callable[[], Any],
    objects: bool,
) -> Callable[[RenderContext], Any]:
    """A list field's compute: :class:`Rows` of the kept items, or the missing policy's value
    when none are kept. A problem with one item names the field and the item (from 1)."""

    def compute(ctx: RenderContext) -> Any:
        try:
            items = keep.items(ctx)
        except MappingError as exc:
            raise MappingError(exc.reason, field=name, span=span) from None
        rows: list[Any] = []
        here, doc = items_context(ctx)
        for number, item in enumerate(items, 1):
            doc["item"] = item
            try:
                value = render_item(here)
            except MappingError as exc:
                raise MappingError(
                    f"item {number} of {keep.label}: {exc.reason}",
                    field=name,
                    span=exc.span or span,
                ) from None
            if objects:
                rows.append(tuple(value))
            elif value is not OMIT:
                rows.append(value)
        if not rows:
            return on_missing()
        return Rows(rows)

    return compute


def aggregate_getter(
    kind: Aggregate,
    keep: Keep,
    condition: CompiledExpression | None,
    of: Callable[[RenderContext], Any] | None,
) -> Getter:
    """The value of an aggregate over the kept items meeting ``condition``.

    ``count``: how many; ``any``: at least one; ``all``: every kept item (true for none);
    ``min``/``max``: the least/greatest ``of`` value (numbers, or texts such as dates), missing
    when no item gives one; ``sum``: the total of the ``of`` numbers, 0 when no item gives one.
    An item whose ``of`` is missing is left out of ``min``, ``max`` and ``sum``.
    """

    def get(ctx: RenderContext) -> Any:
        items = keep.items(ctx)
        chosen = items
        here, doc = items_context(ctx)
        if condition is not None:
            chosen = []
            for item in items:
                doc["item"] = item
                if holds(condition, doc):
                    chosen.append(item)
        if kind == "count":
            return len(chosen)
        if kind == "any":
            return bool(chosen)
        if kind == "all":
            return len(chosen) == len(items)
        assert of is not None
        values = []
        for item in chosen:
            doc["item"] = item
            values.append(of(here))
        present = [v for v in values if v is not OMIT and not is_missing(v)]
        return total(present) if kind == "sum" else extreme(kind, present)

    return get


def extreme(kind: Aggregate, values: Sequence[Any]) -> Any:
    """The least (``min``) or greatest (``max``) of numbers, or of texts; None when empty."""
    if not values:
        return None
    numbers = all(_is_number(v) for v in values)
    texts = all(isinstance(v, str) for v in values)
    if not (numbers or texts):
        raise MappingError(
            f"cannot compare {', '.join(sorted({type(v).__name__ for v in values}))} values; "
            "make 'of' give numbers (e.g. transform: [age]) or dates as YYYY-MM-DD"
        )
    return min(values) if kind == "min" else max(values)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def total(values: Sequence[Any]) -> int | float | Decimal:
    """The sum of numbers, added in order: 0 when there are none, a whole number when all are
    whole. Among exact decimals a float counts as the decimal it is
    written as, so no ``TypeError`` and no binary rounding enters the total. Anything else (a
    text, true/false) refuses the lead: which text is a number is for ``of`` to say."""
    odd = sorted({type(v).__name__ for v in values if not _is_number(v)})
    if odd:
        raise MappingError(
            f"cannot add {', '.join(odd)} values; make 'of' give numbers "
            "(e.g. of: {from: item.value, type: number})"
        )
    if any(isinstance(v, Decimal) for v in values):
        return sum((v if isinstance(v, Decimal) else Decimal(repr(v)) for v in values), Decimal(0))
    found: int | float = sum(values)
    return found

"""Generated leads against the buyer's spec: render each like the runtime, shrink what breaks it.

:func:`find_violations` renders Hypothesis-generated leads (engine.contract.leads) for one stage
exactly as a sale would — the lead validated and normalized, its timestamp as "now", plausible
values from earlier stages, the buyer's filters applied — and hands each payload to a ``check``
(usually ``BuyerSpec.validate``). A lead the buyer does not take or the mapping refuses is never
sent, so it breaks nothing. Each break is shrunk to the smallest lead that shows it; the search
then goes on for other rules, up to ``limit`` findings. :func:`finding_issue` words a finding.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from random import Random
from typing import Any

from hypothesis import Phase, Verbosity, find, settings
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy

from engine.contract.leads import leads
from engine.contract.messages import show_path
from engine.contract.model import EXAMPLES, PayloadPath, Violation
from engine.contract.shrink import shrink_lead
from engine.errors import Issue, LeadError, MappingError
from engine.lead import US_STATES, LeadSchema, lead_timestamp, validate_lead
from engine.plan import OMIT, FieldPlan, IntegrationPlan, RenderContext
from engine.runtime.render import MaskedEnviron, render_request, render_values
from engine.words import show

#: Checks one rendered payload: every way it breaks the buyer's spec.
Check = Callable[[bytes], list[Violation]]


@dataclass(frozen=True, slots=True)
class Finding:
    """A generated lead whose payload breaks the buyer's spec, shrunk to the smallest such lead."""

    stage: str
    lead: Mapping[str, Any]
    """The raw lead document as a publisher would send it (JSON-able)."""
    violation: Violation
    field: FieldPlan | None
    """The buyer file's field that writes the broken spot (None when no field does)."""
    value: Any
    """What that field rendered for this lead (None when there is no field)."""
    body: bytes
    """The payload exactly as the encoder wrote it."""


@dataclass(frozen=True, slots=True)
class _Sent:
    body: bytes
    values: tuple[Any, ...]


def _plausible(name: str) -> Any:
    """A value an earlier stage might extract under ``name`` (a test case's when it gives one)."""
    if name in ("price", "bid", "amount"):
        return Decimal("12.50")
    return "1A2B3C4D5E"


class _PriorValues(Mapping[str, Any]):
    """An earlier stage's extracted values: the file's own examples, else a plausible value."""

    def __init__(self, known: Mapping[str, Any]) -> None:
        self._known = dict(known)

    def __getitem__(self, name: str) -> Any:
        return self._known[name] if name in self._known else _plausible(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


def prior_values(plan: IntegrationPlan, stage: str) -> dict[str, Mapping[str, Any]]:
    """Values of the stages sent before ``stage``, as the runtime passes them (``ping.ping_id``)."""
    earlier = list(plan.stages)[: list(plan.stages).index(stage)]
    known: dict[str, dict[str, Any]] = {name: {} for name in earlier}
    for case in plan.tests:
        if case.stage == stage:
            for name, values in case.prior.items():
                if name in known:
                    known[name] = {**values, **known[name]}
    return {name: _PriorValues(values) for name, values in known.items()}


class _Stage:
    """Renders raw leads for one stage of one buyer the way a sale would."""

    def __init__(self, plan: IntegrationPlan, stage: str, schema: LeadSchema, check: Check):
        self.plan, self.stage, self.schema, self.check = plan, stage, schema, check
        self.fields = plan.stages[stage].request.fields
        self.prior = prior_values(plan, stage)
        self.env = "test" if "test" in plan.environments else next(iter(plan.environments))
        self.environ = MaskedEnviron()

    def taken(self, lead: Mapping[str, Any]) -> bool:
        """True when the buyer's filters take this (normalized) lead."""
        return self.plan.filters is None or self.plan.filters.check(lead) is None

    def send(self, raw: Mapping[str, Any]) -> _Sent | None:
        """The payload of a raw lead, or None when the lead would not be sent to this buyer."""
        try:
            lead = validate_lead(self.schema, raw)
            now = lead_timestamp(lead)
        except LeadError:
            return None  # not a lead the schema accepts: nobody would render it
        if not self.taken(lead):
            return None
        ctx = RenderContext(lead, now, dict(self.prior), self.environ)
        try:
            values = render_values(self.plan, self.stage, ctx)
            rendered = render_request(self.plan, self.stage, ctx, self.env, values=values)
        except MappingError:
            return None  # refused by the mapping (if_missing: reject, too_long: reject, ...)
        return _Sent(rendered.payload, tuple(values))

    def violations(self, sent: _Sent) -> list[Violation]:
        """The spec's violations, less those at a secret (shown as ``${env:NAME}`` here)."""
        found = []
        for v in self.check(sent.body):
            index = responsible_index(self.fields, v.path)
            value = sent.values[index] if index is not None else None
            if not (isinstance(value, str) and "${env:" in value):
                found.append(v)
        return found


def responsible_index(fields: tuple[FieldPlan, ...], path: PayloadPath) -> int | None:
    """The field writing ``path``: exact, else the longest one above it, else the first below it
    (None for the whole document, or when no field is near)."""
    if not path:
        return None
    best: int | None = None
    for i, f in enumerate(fields):
        if f.path == path:
            return i
        if path[: len(f.path)] == f.path and (best is None or len(f.path) > len(fields[best].path)):
            best = i
    if best is not None:
        return best
    return next((i for i, f in enumerate(fields) if f.path[: len(path)] == path), None)


def _set(lead: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(lead)
    *parents, key = dotted.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[key] = value
    return out


def taken_choices(stage: _Stage, base: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The states and enum choices the buyer's filters take, probed on a normalized lead.

    Without this, a buyer taking four states would see one generated lead in fourteen. ``base``
    is first changed in one or two such fields until the filters take it (when that is possible);
    then each field is narrowed to the choices the filters take with the rest of ``base``.
    """
    filters = stage.plan.filters
    if filters is None:
        return {}
    check = filters.check
    probes = {
        path: sorted(US_STATES) if spec.kind == "state" else list(spec.values)
        for path, spec in stage.schema.fields.items()
        if spec.kind in ("state", "enum")
    }
    passing = _passing(check, base, probes)
    if passing is None:
        return {}
    narrowed: dict[str, tuple[str, ...]] = {}
    for path, values in probes.items():
        ok = tuple(v for v in values if check(_set(passing, path, v)) is None)
        if ok and len(ok) < len(values):
            narrowed[path] = ok
    return narrowed


def _passing(
    check: Callable[[Mapping[str, Any]], str | None],
    base: dict[str, Any],
    probes: Mapping[str, list[str]],
) -> dict[str, Any] | None:
    """``base``, or ``base`` with one or two probed fields changed, that the filters take."""
    if check(base) is None:
        return base
    for path, values in probes.items():
        for value in values:
            if check(changed := _set(base, path, value)) is None:
                return changed
    paths = list(probes)
    for i, first in enumerate(paths):
        for second in paths[i + 1 :]:
            for one in probes[first]:
                once = _set(base, first, one)
                for two in probes[second]:
                    if check(changed := _set(once, second, two)) is None:
                        return changed
    return None


def needed_fields(stage: _Stage, rich: dict[str, Any], optional: list[str]) -> list[str]:
    """The optional lead fields without which the mapping refuses a lead (``if_missing: reject``).

    ``rich`` carries every field; each is taken out in turn. Generating these fields always
    keeps the search from spending its leads on ones that would never be sent.
    """
    if stage.send(rich) is None:
        return []
    return [path for path in optional if stage.send(_set(rich, path, None)) is None]


def _simplest(strategy: SearchStrategy[dict[str, Any]], seed: int) -> dict[str, Any]:
    """The strategy's simplest lead: Hypothesis tries it first, so nothing needs shrinking."""
    only = _settings(1)
    found: dict[str, Any] = find(strategy, lambda _: True, settings=only, random=Random(seed))
    return found


def _settings(examples: int) -> settings:
    """Deterministic (the caller seeds), silent, no example database, no time limit per lead.

    Only the generate phase: the first breaking lead is shrunk by :func:`shrink_lead`, on the
    lead itself, far faster than Hypothesis shrinking a 35-field lead's choice sequence."""
    return settings(
        database=None,
        max_examples=examples,
        deadline=None,
        phases=(Phase.generate,),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def find_violations(
    plan: IntegrationPlan,
    stage: str,
    schema: LeadSchema,
    check: Check,
    *,
    examples: int = EXAMPLES,
    seed: int = 0,
    limit: int = 5,
) -> list[Finding]:
    """Up to ``limit`` distinct ways (rule, payload path) generated leads break the spec.

    One pass over at most ``examples`` generated leads keeps the first lead breaking each rule
    at each place; each is then shrunk. The same arguments always give the same findings.
    Exceptions from ``check`` or from rendering (other than a refusal) are not caught.
    """
    if examples < 1 or limit < 1:
        return []
    runner = _Stage(plan, stage, schema, check)
    choices = taken_choices(runner, validate_lead(schema, _simplest(leads(schema), seed)))
    optional = [path for path, spec in schema.fields.items() if not spec.required]
    rich = _simplest(leads(schema, choices, present=optional), seed)
    needed = tuple(sorted(needed_fields(runner, rich, optional)))
    pool = generated(schema, tuple(sorted(choices.items())), needed, examples, seed)
    first: dict[tuple[str, PayloadPath], dict[str, Any]] = {}

    def keys(raw: Mapping[str, Any]) -> list[tuple[str, PayloadPath]]:
        sent = runner.send(raw)
        return [] if sent is None else [(v.rule, v.path) for v in runner.violations(sent)]

    for raw in pool:
        for key in keys(raw):
            if key not in first and len(first) < limit:
                first[key] = raw
        if len(first) >= limit:
            break  # enough
    return [_finding(runner, key, raw, keys, rich) for key, raw in first.items()]


@lru_cache(maxsize=64)
def generated(
    schema: LeadSchema,
    choices: tuple[tuple[str, tuple[str, ...]], ...],
    present: tuple[str, ...],
    examples: int,
    seed: int,
) -> tuple[dict[str, Any], ...]:
    """The leads a search tries, in Hypothesis's order. Stages narrowing the same choices and
    needing the same fields try the same leads, so one lint run draws them once (drawing is
    most of a search's time). Callers must not change the leads."""
    drawn: list[dict[str, Any]] = []

    def keep(raw: dict[str, Any]) -> bool:
        drawn.append(raw)
        return False

    strategy = leads(schema, dict(choices), present=present)
    with suppress(NoSuchExample):  # raised once every lead was drawn
        find(strategy, keep, settings=_settings(examples), random=Random(seed))
    return tuple(drawn)


def _finding(
    runner: _Stage,
    key: tuple[str, PayloadPath],
    raw: dict[str, Any],
    keys: Callable[[Mapping[str, Any]], list[tuple[str, PayloadPath]]],
    rich: dict[str, Any],
) -> Finding:
    """The finding for the first lead breaking ``key``, shrunk to the smallest that still does."""
    lead = shrink_lead(raw, lambda candidate: key in keys(candidate), runner.schema, rich)
    sent = runner.send(lead)
    assert sent is not None  # shrinking keeps only leads that are sent and still break
    violation = next(v for v in runner.violations(sent) if (v.rule, v.path) == key)
    index = responsible_index(runner.fields, violation.path)
    field = runner.fields[index] if index is not None else None
    value = sent.values[index] if index is not None else None
    return Finding(runner.stage, lead, violation, field, value, sent.body)


# -- wording a finding ---------------------------------------------------------------------------


def _show_value(value: Any) -> str:
    """A rendered value for a message: text quoted and cut with its length, others as JSON."""
    if isinstance(value, str):
        if len(value) > 24:
            return f"'{value[:12]}…' ({len(value)} characters)"
        return f"'{value}'"
    if isinstance(value, Decimal):
        return str(value)
    return show(value)


def _hint(finding: Finding) -> str:
    """What to change in the buyer file, by the rule's family."""
    rule = finding.violation.rule
    family, _, limit = rule.partition(":")
    limit = limit.strip()
    if finding.field is None:
        if family == "required":
            return f"add a field that writes {show_path(finding.violation.path)}"
        return "change the mapping so that every lead gives a body the spec accepts"
    hints = {
        "maxLength": f"add max_length: {limit} to this field (or too_long: reject to refuse "
        "such leads)",
        "minLength": f"make sure the value has at least {limit} characters, e.g. with a default",
        "enum": f"translate {_show_value(finding.value)} into one of the buyer's choices: add it "
        "to this field's translate map, or give the map a default",
        "pattern": "add a format step (date, phone, digits, substring, replace, ...) so the "
        "value takes the form the spec's pattern asks for",
        "format": f"add a format step so the value is a valid {limit}",
        "type": f"add type: {limit.split('|')[0]} to this field",
        "required": "give this field a default, or if_missing: reject to refuse leads without it",
        "additionalProperties": "remove this field, or rename it to one the spec lists",
    }
    low, high = f"{{range: {{min: {limit}}}}}", f"{{range: {{max: {limit}}}}}"
    for name, step in (("minimum", low), ("minInclusive", low), ("maximum", high)):
        hints[name] = f"add {step} to this field's transforms, so such leads are refused"
    hints["maxInclusive"] = hints["maximum"]
    hints["const"] = hints["enum"]
    hints["unevaluatedProperties"] = hints["additionalProperties"]
    return hints.get(family, "change this field so that every lead gives a value the spec accepts")


def finding_issue(plan: IntegrationPlan, finding: Finding) -> Issue:
    """LP708 at the responsible field (else at the stage), with the smallest lead in the hint."""
    v = finding.violation
    where = f" ({v.where})" if v.where else ""
    subject = show_path(v.path)
    if finding.field is not None and finding.value is not None and finding.value is not OMIT:
        what = f"{subject} {_show_value(finding.value)} breaks {v.rule}{where}"
    else:
        what = f"{subject}: {v.message}; this breaks {v.rule}{where}"
    span = finding.field.span if finding.field is not None else plan.stages[finding.stage].span
    lead = json.dumps(finding.lead, separators=(",", ":"), ensure_ascii=False)
    return Issue(
        "LP708",
        f"a generated lead breaks the buyer's spec: {what}",
        span,
        hint=f"{_hint(finding)}; smallest lead that shows it: {lead}",
    )

"""The static contract rules (LP702–LP714): does this mapping always satisfy the buyer's spec?

Each rule reads a :class:`StageCheck` (one stage: its fields with what each may send, and the
buyer's spec) and yields :class:`Finding` s: an Issue at the field (or at the ``spec:`` key for
a property nobody sends) and the spec path it is about. :data:`CONTRACT_RULES` lists them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.contract.infer import Facts, json_type, text
from engine.contract.messages import choices_text, show_path, types_text
from engine.contract.model import BuyerSpec, PayloadPath, Property
from engine.contract.paths import PayloadShape, key, present_paths, to_spec
from engine.dsl import models as m
from engine.dsl.suggest import hint_for
from engine.errors import Issue
from engine.plan import FieldPlan
from engine.positions import Span
from engine.words import show


@dataclass(frozen=True, slots=True)
class SentField:
    """One field of the document: its plan, its place in the spec's terms, what it may send."""

    plan: FieldPlan
    path: PayloadPath
    facts: Facts


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's finding: the issue, and the spec path it is about."""

    path: PayloadPath
    issue: Issue


@dataclass(frozen=True, slots=True)
class StageCheck:
    """What the rules read for one stage."""

    stage: str
    shape: PayloadShape
    spec: BuyerSpec
    fields: tuple[SentField, ...]
    spec_span: Span
    tests: tuple[tuple[m.TestCaseSpec, Span], ...] = ()
    """The stage's test cases, each with the position of its ``expect_body`` (or of the case)."""
    charset: str = "utf-8"

    @property
    def props(self) -> Mapping[PayloadPath, Property]:
        return {key(p): prop for p, prop in self.spec.properties.items()}

    def produced(self) -> set[PayloadPath]:
        """Every place a field sends something, with the groups around it."""
        found: set[PayloadPath] = set()
        for f in self.fields:
            found.update(f.path[:i] for i in range(1, len(f.path) + 1))
        return found

    def waived(self, path: PayloadPath) -> bool:
        """A recorded acceptance without it: a test with a lead, an expected body lacking
        ``path``, a sample response and ``expect: {outcome: accepted}``."""
        for case, _ in self.tests:
            accepted = (case.expect or {}).get("outcome") == "accepted"
            if not (accepted and case.lead is not None and case.response is not None):
                continue
            if case.expect_body is None:
                continue
            try:
                body = case.expect_body.encode(self.charset)
            except (LookupError, UnicodeEncodeError):
                continue
            present = present_paths(self.shape, body)
            if present is not None and path not in present:
                return True
        return False


#: A contract rule: the findings it makes in one stage.
Rule = Callable[[StageCheck], Iterator[Finding]]


def _name(f: SentField) -> str:
    return f.plan.name


def _counted(check: StageCheck, prop: Property) -> bool:
    """A required property counts when its group is the document or something sends the group."""
    parent = key(prop.path)[:-1]
    return not parent or parent in check.produced()


def required_sent(check: StageCheck) -> Iterator[Finding]:
    """LP702: every property the spec requires is sent (unless a test shows it is not needed)."""
    produced = check.produced()
    for path, prop in check.props.items():
        if not prop.required or path in produced or not _counted(check, prop):
            continue
        if check.waived(path):
            continue
        issue = Issue(
            "LP702",
            f"the buyer's spec requires '{show_path(path)}' ({prop.where}), but no field sends it",
            check.spec_span,
            f"add a field for {show_path(path)}, or a test case with a sample response showing "
            "the buyer accepts a lead without it",
        )
        yield Finding(path, issue)


def required_may_be_left_out(check: StageCheck) -> Iterator[Finding]:
    """LP709: a required property whose every field may be left out for some leads."""
    props = check.props
    by_path: dict[PayloadPath, list[SentField]] = {}
    for f in check.fields:
        by_path.setdefault(f.path, []).append(f)
    for path, fields in by_path.items():
        prop = props.get(path)
        if prop is None or not prop.required or not _counted(check, prop):
            continue
        if any(f.facts.optional is None for f in fields) or check.waived(path):
            continue
        f = fields[0]
        issue = Issue(
            "LP709",
            f"field '{_name(f)}' may be left out ({f.facts.optional}), but the buyer's spec "
            f"requires '{show_path(path)}'",
            f.plan.span,
            "give it a default (default: ...), or write if_missing: reject to refuse leads "
            "without it",
        )
        yield Finding(path, issue)


def _nearest(check: StageCheck, path: PayloadPath) -> PayloadPath:
    """The nearest group around ``path`` that the spec declares (``()`` for the document)."""
    props = check.props
    for end in range(len(path) - 1, 0, -1):
        if path[:end] in props:
            return path[:end]
    return ()


def undeclared(check: StageCheck) -> Iterator[Finding]:
    """LP703: a field the spec does not declare: an error where the spec allows no other
    fields, a warning otherwise (send only what the buyer asks for)."""
    props = check.props
    closed = {key(p) for p in check.spec.closed}
    for f in check.fields:
        if f.path in props:
            continue
        group = _nearest(check, f.path)
        children = [p[-1] for p in props if p[:-1] == group and isinstance(p[-1], str)]
        if group and not children and group not in closed:
            continue  # a free-form group: anything goes
        close = hint_for(str(f.path[len(group)]), children) if len(f.path) > len(group) else None
        where = f"'{show_path(group)}'" if group else "the document"
        if group in closed:
            issue = Issue(
                "LP703",
                f"field '{_name(f)}' sends '{show_path(f.path)}', which the buyer's spec does "
                f"not allow in {where}",
                f.plan.span,
                close or "remove the field, or check its name against the spec",
            )
        else:
            issue = Issue(
                "LP703",
                f"field '{_name(f)}' sends '{show_path(f.path)}', which the buyer's spec does "
                "not ask for",
                f.plan.span,
                close
                or "send only the data the buyer asks for: remove it unless the buyer wants it",
                severity="warning",
            )
        yield Finding(f.path, issue)


_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TEXT_FORMS = {
    "integer": lambda t: bool(_INTEGER.fullmatch(t)),
    "number": lambda t: bool(_NUMBER.fullmatch(t)),
    "boolean": lambda t: t in ("true", "false", "1", "0"),
}


def _accepts(wanted: frozenset[str], sent: str) -> bool:
    return sent in wanted or (sent == "integer" and "number" in wanted)


def _type_problem(check: StageCheck, f: SentField, prop: Property) -> str | None:
    """What the field sends that the property's type does not take, or None."""
    wanted = prop.types
    if not wanted:
        return None
    if wanted <= {"object", "array"}:
        return types_text(f.facts.types - {"null"})
    if not check.shape.text_only:
        bad = [t for t in f.facts.types if not _accepts(wanted, t)]
        if bad and f.facts.values is not None:
            return choices_text(v for v in f.facts.values if json_type(v) in bad)
        return types_text(bad) if bad else None
    form = next((t for t in ("integer", "number", "boolean") if t in wanted), None)
    if form is None or "string" in wanted:
        return None
    if f.facts.values is not None:
        bad_values = [v for v in f.facts.values if v is not None and not _TEXT_FORMS[form](text(v))]
        return choices_text(bad_values) if bad_values else None
    fine = {"integer": {"integer"}, "number": {"integer", "number"}, "boolean": {"boolean"}}[form]
    others = f.facts.types - fine - {"null"}
    return types_text(others) if others else None


def type_agrees(check: StageCheck) -> Iterator[Finding]:
    """LP704: the field sends the kind of value the spec declares (as text in form and XML)."""
    props = check.props
    for f in check.fields:
        prop = props.get(f.path)
        if prop is None:
            continue
        problem = _type_problem(check, f, prop)
        if problem is None:
            continue
        wanted = types_text(prop.types)
        simple = next(
            (t for t in ("integer", "number", "boolean", "string") if t in prop.types), None
        )
        hint = f"add type: {simple} to the field" if simple else "send a group of fields here"
        if check.shape.text_only and simple and simple != "string":
            hint = f"send a value that always reads as {wanted} (type: {simple} converts it)"
        issue = Issue(
            "LP704",
            f"field '{_name(f)}' may send {problem}, but the buyer's spec wants {wanted} for "
            f"'{show_path(f.path)}' ({prop.where})",
            f.plan.span,
            hint,
        )
        yield Finding(f.path, issue)


def _listed(check: StageCheck, value: Any, enum: tuple[Any, ...]) -> bool:
    if check.shape.text_only:
        return text(value) in {text(c) for c in enum}
    return (json_type(value), text(value)) in {(json_type(c), text(c)) for c in enum} or (
        json_type(value) in ("integer", "number")
        and any(json_type(c) in ("integer", "number") and c == value for c in enum)
    )


def choices_covered(check: StageCheck) -> Iterator[Finding]:
    """LP705: a property with choices gets only values from them."""
    props = check.props
    for f in check.fields:
        prop = props.get(f.path)
        if prop is None or prop.enum is None:
            continue
        choices = choices_text(prop.enum)
        if f.facts.values is None:
            message = (
                f"field '{_name(f)}' may send values that are not among the buyer's "
                f"choices for '{show_path(f.path)}' ({choices})"
            )
            hint = "map each value to one of the choices: transform: [{translate: {map: {...}}}]"
        else:
            missing = [v for v in f.facts.values if not _listed(check, v, prop.enum)]
            if not missing:
                continue
            message = (
                f"field '{_name(f)}' may send {choices_text(missing)}, which the buyer's "
                f"spec does not list for '{show_path(f.path)}' ({choices})"
            )
            hint = (
                "translate those values to the buyer's choices, or keep such leads "
                "away from this buyer with filters"
            )
        yield Finding(f.path, Issue("LP705", message, f.plan.span, hint))


def length_guaranteed(check: StageCheck) -> Iterator[Finding]:
    """LP706: a property with a maximum length never gets a longer text."""
    props = check.props
    for f in check.fields:
        prop = props.get(f.path)
        limit = prop.max_length if prop is not None else None
        if limit is None or (not check.shape.text_only and "string" not in f.facts.types):
            continue
        longest = f.facts.max_len
        if longest is not None and longest <= limit:
            continue
        if f.facts.values is not None:
            long = [v for v in f.facts.values if len(text(v)) > limit]
            what = f"{choices_text(long)}, longer than"
        else:
            what = "text longer than"
        issue = Issue(
            "LP706",
            f"field '{_name(f)}' may send {what} the {limit} characters the buyer's spec allows "
            f"for '{show_path(f.path)}' ({prop.where if prop else ''})",
            f.plan.span,
            f"add max_length: {limit} (longer values are cut; too_long: reject refuses the "
            "lead instead)",
        )
        yield Finding(f.path, issue)


def pattern_guaranteed(check: StageCheck) -> Iterator[Finding]:
    """LP707: a property with a pattern gets values of one definite form, never free text."""
    props = check.props
    for f in check.fields:
        prop = props.get(f.path)
        if prop is None or prop.regex is None:
            continue
        if not check.shape.text_only and "string" not in f.facts.types:
            continue
        try:
            regex = re.compile(prop.regex)
        except re.error:
            continue
        if f.facts.values is not None:
            bad = [v for v in f.facts.values if v is not None and not regex.search(text(v))]
            if not bad:
                continue
            message = (
                f"field '{_name(f)}' may send {choices_text(bad)}, which does not match "
                f"the pattern {prop.pattern} of '{show_path(f.path)}'"
            )
            hint = "change those values so they have the buyer's form"
        elif f.facts.shaped:
            continue  # a formatting step shapes it; the generated-leads check tries it
        else:
            message = (
                f"field '{_name(f)}' copies free text into '{show_path(f.path)}', which "
                f"must match the pattern {prop.pattern} ({prop.where})"
            )
            hint = (
                "shape the value with a transform (digits, phone, date, substring, "
                "translate, ...) so it always has the buyer's form"
            )
        yield Finding(f.path, Issue("LP707", message, f.plan.span, hint))


def test_bodies(check: StageCheck) -> Iterator[Finding]:
    """LP714: the expected body of each test case satisfies the buyer's spec."""
    for case, span in check.tests:
        if not case.expect_body:  # None, or "" left for `leadpost test --update` (LP803)
            continue
        try:
            body = case.expect_body.encode(check.charset)
        except (LookupError, UnicodeEncodeError):
            continue
        found = check.spec.validate(body)
        found = [v for v in found if v.rule != "required" or not check.waived(key(v.path))]
        for v in found[:5]:
            place = f" at '{show_path(v.path)}'" if v.path else ""
            issue = Issue(
                "LP714",
                f"test '{case.name}': the expected body breaks the buyer's spec{place}: "
                f"{v.message} ({v.rule}, {v.where})",
                span,
                "fix the mapping (and this expected body) so the buyer accepts it",
            )
            yield Finding(v.path, issue)


#: Every contract rule, in code order.
CONTRACT_RULES: list[Rule] = [
    required_sent,
    required_may_be_left_out,
    undeclared,
    type_agrees,
    choices_covered,
    length_guaranteed,
    pattern_guaranteed,
    test_bodies,
]


def sent_fields(
    shape: PayloadShape, plans: tuple[FieldPlan, ...], facts: Mapping[str, Facts]
) -> tuple[SentField, ...]:
    """The document's fields in the spec's terms (fields outside the described payload, such as
    a SOAP header, are left out)."""
    out = []
    for plan in plans:
        path = to_spec(shape, plan.path)
        if path is not None and plan.name in facts:
            out.append(SentField(plan, key(path), facts[plan.name]))
    return tuple(out)


def check_stage(check: StageCheck) -> list[Finding]:
    """Every rule's findings for one stage."""
    return [finding for rule in CONTRACT_RULES for finding in rule(check)]


__all__ = ["CONTRACT_RULES", "Finding", "StageCheck", "check_stage", "sent_fields", "show"]

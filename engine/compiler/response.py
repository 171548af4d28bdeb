"""Compile a stage's ``response:`` section into a ResponsePlan that decides what a reply means.

Every expression (status pattern, JMESPath, regular expression, CSS selector) is compiled here
once; the plan's ``interpret`` only runs them. Rules are tried in order and the first whose
conditions all hold decides; values are extracted afterwards, whatever the decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.compiler.bodies import BadBody, Body, BodyKind, read_body
from engine.compiler.context import CompileContext, Path
from engine.compiler.response_exprs import (
    Extractor,
    compile_css,
    compile_extractor,
    compile_jmespath,
    compile_regex,
    compile_status,
    holds,
    status_text,
)
from engine.compiler.response_values import typed_value
from engine.dsl.models import ResponseSpec, Rule
from engine.patterns import Pattern, PatternError, compile_pattern
from engine.plan import Decision, Interpretation, ResponsePlan
from engine.positions import Span

NO_RULE = "response matched no rule"
_DOCUMENT_KINDS = ("json", "xml")


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """One response rule with every condition compiled; a None condition is not checked."""

    span: Span
    outcome: Decision
    reason: str | None
    status: Callable[[int], bool]
    if_: Callable[[Any], Any] | None
    match: Pattern | None
    select: Callable[[Any], list[Any]] | None
    contains: str | None

    def check(self, status: int, body: Body) -> dict[str, Any] | None:
        """None when a condition fails; else the named groups ``match`` captured."""
        if not self.status(status):
            return None
        if self.contains is not None and self.contains not in body.text:
            return None
        captures: dict[str, Any] = {}
        if self.match is not None:
            m = self.match.search(body.text)
            if m is None:
                return None
            captures = {k: v for k, v in m.groupdict().items() if v is not None}
        if self.select is not None and not self.select(body.tree):
            return None
        if self.if_ is not None and not holds(self.if_(body.doc)):
            return None
        return captures


@dataclass(frozen=True, slots=True)
class Interpreter:
    """The run-time half of a ResponsePlan: (status, headers, body) -> Interpretation."""

    kind: BodyKind
    lenient_xml: bool
    rules: tuple[CompiledRule, ...]
    otherwise: Decision
    otherwise_span: Span
    extract: tuple[tuple[str, Extractor], ...]

    def __call__(self, status: int, headers: Mapping[str, str], body: bytes) -> Interpretation:
        ok = 200 <= status <= 299
        try:
            return self._interpret(status, ok, headers, body)
        except Exception as exc:  # the last guard: interpret never raises
            reason = f"the response could not be read: {exc}"
            return Interpretation("error" if ok else None, {}, reason if ok else None)

    def _interpret(
        self, status: int, ok: bool, headers: Mapping[str, str], raw: bytes
    ) -> Interpretation:
        try:
            body = read_body(self.kind, raw, headers, lenient_xml=self.lenient_xml)
        except BadBody as exc:
            return Interpretation("error" if ok else None, {}, exc.reason if ok else None)
        decided: CompiledRule | None = None
        captures: dict[str, Any] = {}
        for number, rule in enumerate(self.rules, start=1):
            try:
                found = rule.check(status, body)
            except Exception as exc:
                failure = f"rule {number} could not be checked: {exc}"
                return Interpretation("error" if ok else None, {}, failure, rule.span)
            if found is not None:
                decided, captures = rule, found
                break
        values, notes = self._values(body, captures)
        extracted: str | None = values.get("reason")
        reason: str | None
        if decided is not None:
            decision: Decision | None = decided.outcome
            reason = decided.reason or extracted
            span: Span | None = decided.span
            if reason is not None:
                values["reason"] = reason
        elif ok:
            decision, span = self.otherwise, self.otherwise_span
            if self.otherwise == "error":
                reason = f"{NO_RULE}: {extracted}" if extracted else NO_RULE
            elif self.otherwise == "accepted":
                reason = extracted  # an accepted answer has no "matched no rule" to report
            else:
                reason = extracted or NO_RULE
        else:
            decision, reason, span = None, extracted, None
        text = "; ".join(p for p in (reason, *notes) if p) or None
        return Interpretation(decision, values, text, span)

    def _values(self, body: Body, captures: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        found: dict[str, Any] = dict(captures)
        notes: list[str] = []
        for name, extractor in self.extract:
            try:
                value = extractor(body, name == "reason")
            except Exception as exc:
                notes.append(f"could not read '{name}': {exc}")
                continue
            if value is not None:
                found[name] = value
        values: dict[str, Any] = {}
        for name, raw in found.items():
            value, note = typed_value(name, raw)
            if note:
                notes.append(note)
            if value is not None:
                values[name] = value
        return values, notes


def compile_response(spec: ResponseSpec, at: Path, ctx: CompileContext) -> ResponsePlan | None:
    """The plan for one stage's ``response:`` section; None (with issues in ctx) when invalid."""
    errors_before = _errors(ctx)
    if spec.lenient_xml and spec.body != "xml":
        ctx.warn(
            "LP312",
            f"lenient_xml only applies to XML bodies, but this response is read as {spec.body}",
            (*at, "lenient_xml"),
            key=True,
            hint="remove lenient_xml, or set body: xml",
        )
    rules = [_rule(rule, spec, (*at, "rules", i), ctx) for i, rule in enumerate(spec.rules)]
    for i, rule in enumerate(spec.rules[:-1]):
        if _is_catch_all(rule):
            ctx.error(
                "LP312",
                "this rule has no condition, so it decides every 2xx response "
                "and the rules after it are never tried",
                (*at, "rules", i),
                hint="move it to the end of the rules, or give it a condition",
            )
    extract = []
    for name, expr in spec.extract.items():
        extractor = compile_extractor(spec.body, name, expr, (*at, "extract", name), ctx)
        if extractor is not None:
            extract.append((name, extractor))
    if _errors(ctx) > errors_before:
        return None
    interpreter = Interpreter(
        kind=spec.body,
        lenient_xml=spec.lenient_xml,
        rules=tuple(r for r in rules if r is not None),
        otherwise=spec.otherwise,
        otherwise_span=ctx.source.at((*at, "otherwise")),
        extract=tuple(extract),
    )
    return ResponsePlan(interpret=interpreter, description=describe(spec))


def extracted_names(spec: ResponseSpec) -> frozenset[str]:
    """Names later stages may use: ``extract`` keys and named groups of ``match`` rules."""
    names = set(spec.extract)
    for rule in spec.rules:
        if rule.match:
            try:
                names.update(compile_pattern(rule.match).groupindex)
            except PatternError:
                continue
    return frozenset(names)


def describe(spec: ResponseSpec) -> str:
    """One plain-English line for ``leadpost explain``."""
    parts = [f"body read as {spec.body}" + (" (lenient)" if spec.lenient_xml else "")]
    for i, rule in enumerate(spec.rules, start=1):
        conditions = [f"status {status_text(rule.status)}"]
        for label, value in (
            ("if", rule.if_),
            ("match", rule.match),
            ("select", rule.select),
            ("contains", rule.contains),
        ):
            if value is not None:
                conditions.append(f"{label} {value!r}")
        parts.append(f"rule {i}: {' and '.join(conditions)} -> {rule.outcome}")
    parts.append(f"any other 2xx -> {spec.otherwise}")
    if spec.extract:
        parts.append("extracts " + ", ".join(spec.extract))
    return "; ".join(parts)


def _errors(ctx: CompileContext) -> int:
    return sum(1 for i in ctx.issues if i.severity == "error")


def _is_catch_all(rule: Rule) -> bool:
    conditions = (rule.status, rule.if_, rule.match, rule.select, rule.contains)
    return all(c is None for c in conditions)


def _rule(rule: Rule, spec: ResponseSpec, at: Path, ctx: CompileContext) -> CompiledRule | None:
    kind = spec.body
    for label, value in (
        ("if", rule.if_),
        ("match", rule.match),
        ("select", rule.select),
        ("contains", rule.contains),
    ):
        if value is not None and not value.strip():
            ctx.error("LP204", f"'{label}' is empty", (*at, label), hint="write a condition")
            return None
    ok = True
    status = compile_status(rule.status, (*at, "status"), ctx)
    if_ = None
    if rule.if_ is not None:
        if kind not in _DOCUMENT_KINDS:
            _wrong_kind(ctx, "if", kind, "a JSON or XML body", (*at, "if"))
            ok = False
        elif (search := compile_jmespath(rule.if_, (*at, "if"), ctx, "this condition")) is not None:
            if_ = search
        else:
            ok = False
    match = compile_regex(rule.match, (*at, "match"), ctx) if rule.match is not None else None
    select = None
    if rule.select is not None:
        if kind != "html":
            _wrong_kind(ctx, "select", kind, "an HTML body", (*at, "select"))
            ok = False
        else:
            select = compile_css(rule.select, (*at, "select"), ctx)
    if not ok or status is None or (rule.match is not None and match is None):
        return None
    if rule.select is not None and select is None:
        return None
    return CompiledRule(
        span=ctx.source.at(at),
        outcome=rule.outcome,
        reason=(rule.reason or "").strip() or None,  # a blank reason is no reason
        status=status,
        if_=if_,
        match=match,
        select=select,
        contains=rule.contains,
    )


def _wrong_kind(ctx: CompileContext, label: str, kind: str, needs: str, at: Path) -> None:
    ctx.error(
        "LP312",
        f"'{label}' reads {needs}, but this response is read as {kind} (body: {kind})",
        at,
        key=True,
        hint="use 'match' or 'contains' on text, 'if' on JSON or XML, 'select' on HTML, "
        "or change 'body:'",
    )

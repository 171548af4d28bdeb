"""Plain-English changes of a buyer file's stages: request, fields, response rules; its tests."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from engine.diff.changes import Collector
from engine.diff.wording import arrow, description_change, dump_changes, duration, other_keys
from engine.dsl import models as m
from engine.plan import FieldPlan, IntegrationPlan, StagePlan


def stage_changes(
    a_spec: m.IntegrationSpec,
    a_plan: IntegrationPlan,
    b_spec: m.IntegrationSpec,
    b_plan: IntegrationPlan,
    out: Collector,
) -> None:
    """Stages added or removed, and the changes inside the stages both versions have."""
    for name in ("ping", "post"):
        old, new = a_plan.stages.get(name), b_plan.stages.get(name)
        old_spec, new_spec = getattr(a_spec.stages, name), getattr(b_spec.stages, name)
        area = f"{name} stage"
        if old is None and new is not None:
            req = new.request
            what = f"{req.method} {req.path or '/'}, {len(req.fields)} fields"
            out.add(area, f"{name} stage added: {what}", ("stages", name))
        elif old is not None and new is None:
            out.add(area, f"{name} stage removed", ("stages",))
        elif old is not None and new is not None and old_spec is not None and new_spec is not None:
            _request(name, old, new, old_spec, new_spec, out)
            _fields(name, old.request.fields, new.request.fields, old_spec, new_spec, out)
            _response(name, old_spec.response, new_spec.response, out)


def _request(
    name: str, a: StagePlan, b: StagePlan, a_spec: m.StageSpec, b_spec: m.StageSpec, out: Collector
) -> None:
    area, at = f"{name} stage", ("stages", name)
    ra, rb = a.request, b.request
    if ra.method != rb.method:
        out.add(area, f"{name} method {arrow(ra.method, rb.method)}", (*at, "method"))
    if ra.path != rb.path:
        out.add(area, f"{name} path {arrow(ra.path or '/', rb.path or '/')}", (*at, "path"))
    if a_spec.format != b_spec.format or ra.encoder.content_type != rb.encoder.content_type:
        was = "query string" if ra.in_query else ra.encoder.content_type
        now = "query string" if rb.in_query else rb.encoder.content_type
        out.add(area, f"{name} fields now sent as {now} (was {was})", (*at, "format"))
    for key in ("connect", "read", "total"):
        old, new = getattr(ra.timeouts, key), getattr(rb.timeouts, key)
        if old != new:
            what = f"{duration(old)} → {duration(new)}"
            out.add(area, f"{name} {key} timeout {what}", (*at, "timeout", key))
    for key, text in other_keys(a_spec, b_spec, _STAGE_KEYS):
        out.add(area, f"{name} {key.replace('_', ' ')}: {text}", (*at, key))
    if a_spec.spec != b_spec.spec:  # checked by lint only: what is sent stays the same
        text = f"{name} now checked against {_spec_words(b_spec.spec)}"
        if b_spec.spec is None:
            text = f"{name} no longer checked against a buyer's spec"
        elif a_spec.spec is not None:
            text += f" (was {_spec_words(a_spec.spec)})"
        out.add(area, text, (*at, "spec"), behavioural=False)
    old_h, new_h = a_spec.headers, b_spec.headers
    for header, value in new_h.items():
        if header not in old_h:
            out.add(area, f"{name} header {header} added: {value}", (*at, "headers", header))
        elif old_h[header] != value:
            what = arrow(old_h[header], value)
            out.add(area, f"{name} header {header} {what}", (*at, "headers", header))
    for header, value in old_h.items():
        if header not in new_h:
            out.add(area, f"{name} header {header} removed (was {value})", (*at, "headers"))


#: Stage settings with their own wording; the others (xml, wrap_in_form, spec, …) are
#: reported key by key.
_STAGE_KEYS = frozenset(
    {"method", "path", "format", "headers", "timeout", "fields", "response", "spec"}
)


def _spec_words(spec: m.ContractSpec | None) -> str:
    """``the OpenAPI operation createLead in ../specs/summit.yaml``, for a stage's spec."""
    if spec is None:
        return "no spec"
    if spec.openapi is not None:
        return f"the OpenAPI operation {spec.operation} in {spec.openapi}"
    if spec.xsd is not None:
        element = f" (element {spec.element})" if spec.element else ""
        return f"the XSD {spec.xsd}{element}"
    return f"the JSON Schema {spec.json_schema}"


def _field_dump(value: m.FieldSpec | str | None) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = m.FieldSpec.model_validate({"from": value})
    return value.model_dump(by_alias=True)


def _fields(
    name: str,
    old: Sequence[FieldPlan],
    new: Sequence[FieldPlan],
    a_spec: m.StageSpec,
    b_spec: m.StageSpec,
    out: Collector,
) -> None:
    area, at = f"{name} fields", ("stages", name, "fields")
    before = {f.name: f for f in old}
    after = {f.name: f for f in new}
    for f in new:
        was = before.get(f.name)
        if was is None:
            out.at_line(area, f"new field {f.name}: {f.description}", f.span.line)
        elif was.description != f.description:
            what = description_change(was.description, f.description)
            out.at_line(area, f"field {f.name} {what}", f.span.line)
        elif _field_dump(a_spec.fields.get(f.name)) != _field_dump(b_spec.fields.get(f.name)):
            old_d, new_d = (
                _field_dump(a_spec.fields.get(f.name)),
                _field_dump(b_spec.fields.get(f.name)),
            )
            for text in dump_changes(old_d, new_d):
                out.at_line(area, f"field {f.name}: {text}", f.span.line)
    for i, f in enumerate(old):
        if f.name not in after:
            text = f"field {f.name} removed (was {f.description})"
            following = [after[g.name] for g in old[i + 1 :] if g.name in after]
            if following:  # where it was: just above the next field both versions have
                out.at_line(area, text, following[0].span.line)
            else:
                out.add(area, text, at)
    kept_old = [f.name for f in old if f.name in after]
    kept_new = [f.name for f in new if f.name in before]
    if kept_old != kept_new:
        out.add(area, f"{name} fields reordered: the request now lists them in the new order", at)


def rule_text(rule: m.Rule) -> str:
    """One response rule in words: ``status 422 and if "x" → rejected (reason: …)``."""
    if rule.status is None:
        conditions = ["status 2xx"]
    elif isinstance(rule.status, list):
        conditions = ["status " + " or ".join(str(s) for s in rule.status)]
    else:
        conditions = [f"status {rule.status}"]
    if rule.if_ is not None:
        conditions.append(f'if "{rule.if_}"')
    if rule.match is not None:
        conditions.append(f"body matches /{rule.match}/")
    if rule.select is not None:
        conditions.append(f"selector {rule.select}")
    if rule.contains is not None:
        conditions.append(f"body contains '{rule.contains}'")
    text = f"{' and '.join(conditions)} → {rule.outcome}"
    return text + (f" (reason: {rule.reason})" if rule.reason else "")


def _response(name: str, a: m.ResponseSpec, b: m.ResponseSpec, out: Collector) -> None:
    area, at = f"{name} responses", ("stages", name, "response")
    if a.body != b.body:
        out.add(area, f"{name} response body now read as {b.body} (was {a.body})", (*at, "body"))
    if a.lenient_xml != b.lenient_xml:
        out.add(
            area, f"{name} lenient XML {arrow(a.lenient_xml, b.lenient_xml)}", (*at, "lenient_xml")
        )
    old = [rule_text(r) for r in a.rules]
    new = [rule_text(r) for r in b.rules]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                text = f"{name} response rule {j + 1} changed: {old[i]} → {new[j]}"
                out.add(area, text, (*at, "rules", j))
            continue
        for j in range(j1, j2):
            out.add(area, f"{name} response rule added: {new[j]}", (*at, "rules", j))
        for i in range(i1, i2):
            out.add(area, f"{name} response rule removed: {old[i]}", (*at, "rules"))
    if a.otherwise != b.otherwise:
        text = f"{name}: a 2xx no rule decides now counts as {b.otherwise} (was {a.otherwise})"
        out.add(area, text, (*at, "otherwise"))
    for key, expr in b.extract.items():
        where = (*at, "extract", key)
        if key not in a.extract:
            out.add(area, f"{name} now extracts {key} from {expr}", where)
        elif a.extract[key] != expr:
            out.add(area, f"{name} extracts {key} from {expr} (was {a.extract[key]})", where)
    for key, expr in a.extract.items():
        if key not in b.extract:
            out.add(area, f"{name} no longer extracts {key} (was {expr})", (*at, "extract"))


def test_changes(
    old: Sequence[m.TestCaseSpec], new: Sequence[m.TestCaseSpec], out: Collector
) -> None:
    """Test cases added, removed or changed, by name: documentation, not behaviour."""
    before = {t.name: t for t in old}
    after = {t.name: t for t in new}
    for i, t in enumerate(new):
        if t.name not in before:
            out.add("tests", f"test case added: {t.name}", ("tests", i), behavioural=False)
        elif before[t.name] != t:
            out.add("tests", f"test case changed: {t.name}", ("tests", i), behavioural=False)
    for t in old:
        if t.name not in after:
            out.add("tests", f"test case removed: {t.name}", ("tests",), behavioural=False)

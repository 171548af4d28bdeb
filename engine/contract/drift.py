"""``leadpost spec check FILE --spec NEW``: what changed in the buyer's spec, and does the
mapping still satisfy it?

The spec the buyer file names (the one recorded with the mapping) is compared with the new one,
property by property: added, removed, now (or no longer) required, choices dropped or added,
maximum length, pattern and type changed. The contract rules run against the new spec and each
change says whether the current mapping still satisfies it; generated leads then find what
reading the file cannot (a new minimum, a pattern a format step no longer meets). Exit code 1
when the mapping does not satisfy the new spec.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.compiler.integration import compile_document
from engine.contract.infer import text
from engine.contract.lint import generated_issues, spec_spans, stage_check
from engine.contract.messages import choices_text, show_path, types_text
from engine.contract.model import EXAMPLES, BuyerSpec, PayloadPath, Property
from engine.contract.paths import PayloadShape, field_key, key, shape_of
from engine.contract.spec import load_spec, spec_file
from engine.contract.static import Finding, check_stage
from engine.dsl import models as m
from engine.dsl.issues import validate
from engine.dsl.loader import load_yaml
from engine.errors import AuthoringError, Issue, LeadpostError
from engine.loading import display_name, schema_for
from engine.plan import IntegrationPlan

EXIT_OK, EXIT_BROKEN = 0, 1


def _limit(value: int | None) -> str:
    return "none" if value is None else str(value)


def changes(old: Property | None, new: Property | None) -> list[str]:
    """What changed about one property, in words (empty when nothing did)."""
    if old is None and new is not None:
        return ["new property" + (", required" if new.required else "")]
    if new is None:
        return ["removed"]
    if old is None:
        return []
    out: list[str] = []
    if old.required != new.required:
        out.append("now required" if new.required else "no longer required")
    if old.types != new.types:
        out.append(f"type {types_text(old.types)} -> {types_text(new.types)}")
    if old.enum is not None and new.enum is not None:
        before, after = {text(v) for v in old.enum}, {text(v) for v in new.enum}
        dropped = [v for v in old.enum if text(v) not in after]
        added = [v for v in new.enum if text(v) not in before]
        if dropped:
            out.append(f"choices dropped: {choices_text(dropped)}")
        if added:
            out.append(f"choices added: {choices_text(added)}")
    elif old.enum != new.enum:
        out.append("now limited to " + choices_text(new.enum) if new.enum else "any value now")
    if old.max_length != new.max_length:
        shorter = new.max_length is not None and (
            old.max_length is None or new.max_length < old.max_length
        )
        word = "shortened" if shorter else "lengthened"
        out.append(f"maxLength {word}: {_limit(old.max_length)} -> {_limit(new.max_length)}")
    if old.pattern != new.pattern:
        out.append(f"pattern {old.pattern or 'none'} -> {new.pattern or 'none'}")
    return out


#: A generated-lead problem and the spec path of the field it was found at (None: no field).
Placed = tuple[PayloadPath | None, Issue]


def _status(
    path: PayloadPath, findings: list[Finding], generated: Sequence[Placed]
) -> Iterator[str]:
    related = [f.issue for f in findings if f.path[: len(path)] == path]
    related += [i for at, i in generated if at is not None and at[: len(path)] == path]
    errors = [i for i in related if i.severity == "error"]
    if not errors:
        yield "    still satisfied by the mapping"
    for issue in errors:
        yield f"    NOT satisfied: {issue.code} {issue.message}"


def _placed(
    plan: IntegrationPlan, stage: str, shape: PayloadShape, issues: list[Issue]
) -> list[Placed]:
    """Each generated-lead problem with the spec path of the field at its line."""
    at_span = {f.span: f.path for f in plan.stages[stage].request.fields}
    out: list[Placed] = []
    for issue in issues:
        path = at_span.get(issue.span) if issue.span is not None else None
        out.append((field_key(shape, path) if path is not None else None, issue))
    return out


def drift_report(file: str | Path, new_spec: str | Path, stage: str = "post") -> tuple[str, int]:
    """The report text and the exit code; AuthoringError when a file cannot be used."""
    path = Path(file)
    doc = load_yaml(path, display_name(path))
    schema = schema_for(path)
    base_dir = path.resolve().parent
    plan, issues = compile_document(doc, schema, base_dir=str(base_dir))
    spec, _ = validate(m.IntegrationSpec, doc)
    if plan is None or spec is None:
        raise AuthoringError([i for i in issues if i.severity == "error"], doc.source.text)
    model = getattr(spec.stages, stage, None)
    if model is None or model.spec is None:
        where = doc.source.at(("stages", stage))
        what = f"the {stage} stage names no spec" if model else f"there is no {stage} stage"
        hint = "add spec: {json_schema: FILE} (or openapi/xsd) to the stage"
        raise AuthoringError([Issue("LP202", what, where, hint)], doc.source.text)
    span, spans = spec_spans(doc.source, stage)
    shape = shape_of(model)
    old = load_spec(model.spec, base_dir, shape, span, spans)
    kind, _, _ = spec_file(model.spec, base_dir)
    if not Path(new_spec).is_file():  # a command-line argument: no line of the file to show
        read_from = f"a relative path is read from {Path.cwd()}"
        raise LeadpostError(f"the new spec '{new_spec}' is not a file ({read_from})")
    fields: dict[str, Any] = model.spec.model_dump(exclude_none=True)
    fields[kind] = str(Path(new_spec).resolve())
    new = load_spec(m.ContractSpec.model_validate(fields), Path.cwd(), shape, span, spans)
    check = stage_check(spec, doc.source, plan, schema, stage, new)
    findings = check_stage(check) if check is not None else []
    generated: list[Placed] = []
    if schema is not None and stage in plan.stages:  # what reading the file cannot tell
        flagged = {f.issue.span for f in findings if f.issue.severity == "error"}
        found = generated_issues(plan, schema, stage, model, new, EXAMPLES)
        fresh = [i for i in found if i.span not in flagged and i.severity == "error"]
        generated = _placed(plan, stage, shape, fresh)
    return _report(doc.source.file, stage, old, new, findings, generated)


def _report(
    file: str,
    stage: str,
    old: BuyerSpec,
    new: BuyerSpec,
    findings: list[Finding],
    generated: Sequence[Placed] = (),
) -> tuple[str, int]:
    lines = [
        f"{file}, {stage} stage",
        f"  recorded spec: {old.source}",
        f"  new spec:      {new.source}",
        "",
    ]
    before = {key(p): v for p, v in old.properties.items()}
    after = {key(p): v for p, v in new.properties.items()}
    changed: list[PayloadPath] = []
    for path in [*before, *(p for p in after if p not in before)]:
        words = changes(before.get(path), after.get(path))
        if not words:
            continue
        changed.append(path)
        lines.append(f"  {show_path(path)}: " + "; ".join(words))
        lines += _status(path, findings, generated)
    if not changed:
        lines.append("  no differences in the properties of the two specs")
    covered = [f for f in findings if any(f.path[: len(p)] == p for p in changed)]
    others = [f.issue for f in findings if f not in covered and f.issue.severity == "error"]
    if others:
        lines += ["", "other problems with the new spec:"]
        lines += [f"  {i.code} {i.message}" for i in others]
    unplaced = [
        i for at, i in generated if at is None or not any(at[: len(p)] == p for p in changed)
    ]
    if unplaced:
        lines += ["", "generated leads the new spec rejects:"]
        lines += [f"  {i.code} {i.message}" for i in unplaced]
    broken = sum(1 for f in findings if f.issue.severity == "error") + len(generated)
    lines.append("")
    if broken:
        lines.append(
            f"the mapping no longer satisfies the new spec ({broken} problem"
            + ("" if broken == 1 else "s")
            + ")"
        )
        return "\n".join(lines) + "\n", EXIT_BROKEN
    lines.append("the mapping satisfies the new spec")
    return "\n".join(lines) + "\n", EXIT_OK

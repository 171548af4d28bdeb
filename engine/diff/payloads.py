"""Rendered payload diffs: each stage's request for sample and test leads, BASE plan vs HEAD plan.

Requests are rendered as ``leadpost render`` shows them (secrets masked, never resolved). A lead
is rendered with the same lead text on both sides, so a difference comes from the buyer file.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.authoring.cases import body_diff
from engine.authoring.explain import render_preview
from engine.diff.changes import PayloadDiff
from engine.errors import LeadError, LeadpostError, MappingError
from engine.lead import LeadSchema
from engine.loading import find_lead_schema, schema_for
from engine.plan import IntegrationPlan
from engine.runtime.render import RenderedRequest

LEADS_FOLDER = "leads"


@dataclass(frozen=True, slots=True)
class SampleLead:
    label: str
    text: bytes
    stage: str | None = None
    """Only this stage (a test case's); None: every stage."""
    env: str | None = None
    prior: Mapping[str, Mapping[str, Any]] | None = None


def sample_leads(head_file: Path, given: Sequence[Path] | None) -> list[SampleLead]:
    """The leads given on the command line, else ``leads/*.json`` beside the lead schema."""
    if given is not None:
        return [SampleLead(str(p), p.read_bytes()) for p in given]
    schema = find_lead_schema(head_file)
    if schema is None:
        return []
    folder = schema.parent / LEADS_FOLDER
    return [
        SampleLead(p.relative_to(schema.parent).as_posix(), p.read_bytes())
        for p in sorted(folder.glob("*.json"))
    ]


def _test_leads(plan: IntegrationPlan) -> Iterator[SampleLead]:
    for case in plan.tests:
        if case.lead is not None:
            text = json.dumps(case.lead, default=str).encode()
            yield SampleLead(f"test '{case.name}'", text, case.stage, case.env, case.prior)


def _render(
    plan: IntegrationPlan, schema: LeadSchema | None, lead: SampleLead, stage: str
) -> RenderedRequest | str:
    try:
        return render_preview(
            plan,
            lead.text,
            schema,
            stage=stage,
            env=lead.env,
            prior=lead.prior,
            lead_file=lead.label,
        )
    except LeadError:
        return "invalid lead"
    except MappingError as exc:  # the reason only: the field's position differs between sides
        where = f" (field {exc.field})" if exc.field else ""
        return f"refused: {exc.reason}{where}"
    except LeadpostError as exc:  # CommandError: no such environment
        return f"refused: {exc}"
    except Exception as exc:  # a diff must report, never crash
        return f"could not be rendered: {exc or type(exc).__name__}"


def _head_lines(request: RenderedRequest, in_query: bool) -> list[str]:
    url = request.url
    payload = request.payload.decode("utf-8", "replace")
    if in_query and payload:
        url = url.replace(payload, "{fields}", 1)
    return [f"{request.method} {url}", *(f"{n}: {v}" for n, v in request.headers)]


def _relabel(diff: str) -> str:
    lines = diff.split("\n")
    swap = {"--- expected": "--- base", "+++ rendered": "+++ head"}
    return "\n".join(swap.get(line, line) for line in lines)


def payload_diffs(
    base: IntegrationPlan,
    head: IntegrationPlan,
    base_file: Path,
    head_file: Path,
    leads: Sequence[Path] | None = None,
) -> list[PayloadDiff]:
    """For each stage both versions have: the request line and headers when they changed, and
    the body of every sample and test lead that renders differently."""
    base_schema, head_schema = _schema(base_file), _schema(head_file)
    found: list[PayloadDiff] = []
    candidates = [*sample_leads(head_file, leads), *_test_leads(head)]
    for stage in head.stages:
        if stage not in base.stages:
            continue
        line = head.stages[stage].span.line
        in_query = head.stages[stage].request.in_query
        heads_shown = False
        seen: set[tuple[str, str, str]] = set()
        for lead in candidates:
            if lead.stage not in (None, stage):
                continue
            key = (_canonical(lead.text), lead.env or "test", _canonical(lead.prior or {}))
            if key in seen:
                continue
            seen.add(key)
            new = _render(head, head_schema, lead, stage)
            if new == "invalid lead":
                continue
            old = _render(base, base_schema, lead, stage)
            if isinstance(old, RenderedRequest) and isinstance(new, RenderedRequest):
                if not heads_shown:
                    heads_shown = True
                    a, b = _head_lines(old, in_query), _head_lines(new, in_query)
                    if a != b:
                        diff = difflib.unified_diff(a, b, "base", "head", lineterm="", n=3)
                        found.append(
                            PayloadDiff(stage, "request line and headers", "\n".join(diff), line)
                        )
                if old.payload != new.payload:
                    text = _relabel(body_diff(old.payload, new.payload))
                    found.append(PayloadDiff(stage, lead.label, text, line))
            elif old != new:
                was = old if isinstance(old, str) else "rendered"
                now = new if isinstance(new, str) else "rendered"
                found.append(PayloadDiff(stage, lead.label, f"now {now} (was {was})", line, False))
    return found


def _canonical(value: bytes | Mapping[str, Any]) -> str:
    """The same lead written two ways (file bytes, a test's inline lead) gives the same key."""
    try:
        data = json.loads(value) if isinstance(value, bytes) else value
        return json.dumps(data, sort_keys=True, default=str)
    except ValueError:
        return repr(value)


def _schema(file: Path) -> LeadSchema | None:
    try:
        return schema_for(file)
    except LeadpostError:
        return None

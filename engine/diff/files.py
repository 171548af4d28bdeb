"""Compare one file's two versions: load and compile each side, then pick what to say about it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.authoring.lint import LINTERS, LintOptions, kind_of
from engine.campaigns.compile import compile_campaign
from engine.campaigns.models import CampaignSpec
from engine.compiler.integration import compile_document
from engine.diff.campaign import CampaignVersion, campaign_changes
from engine.diff.changes import Change, FileDiff, PayloadDiff, Status
from engine.diff.payloads import payload_diffs
from engine.diff.semantic import BuyerVersion, buyer_changes
from engine.diff.sources import Side
from engine.dsl import models as m
from engine.dsl.issues import validate
from engine.dsl.loader import Document, load_yaml
from engine.errors import AuthoringError, Issue
from engine.loading import schema_for

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Version:
    """One side of one file after loading: its kind, and either a compared version or errors."""

    kind: str | None
    compiled: BuyerVersion | CampaignVersion | None
    errors: tuple[Issue, ...]
    path: Path


def _relabel(issue: Issue, side: Side) -> Issue:
    """Point an issue found in a temp copy at the file's shown name."""
    span = issue.span
    if span is None:
        return issue
    try:
        rel = Path(span.file).relative_to(side.root).as_posix()
    except ValueError:
        return issue
    return dataclasses.replace(issue, span=dataclasses.replace(span, file=side.shown(rel)))


def _errors(issues: Sequence[Issue], side: Side) -> tuple[Issue, ...]:
    return tuple(_relabel(i, side) for i in issues if i.severity == "error")


def load_version(side: Side, key: str) -> Version:
    """Load, validate and compile the file ``key`` of ``side``. Never raises for its content."""
    path = side.files[key]
    if path.suffix not in YAML_SUFFIXES:
        return Version(None, None, (), path)
    try:
        doc = load_yaml(path, side.shown(key))
    except AuthoringError as exc:
        return Version("yaml", None, _errors(exc.issues, side), path)
    kind = kind_of(doc.data)
    if kind not in ("buyer", "campaign"):
        return Version(kind, None, (), path)
    compiled: BuyerVersion | CampaignVersion | None
    compiled = _buyer(doc, path) if kind == "buyer" else _campaign(doc, path)
    if compiled is not None:
        return Version(kind, compiled, (), path)
    return Version(
        kind, None, _errors(LINTERS[kind](doc, path, LintOptions(examples=0)), side), path
    )


def _buyer(doc: Document, path: Path) -> BuyerVersion | None:
    try:
        schema = schema_for(path)
    except AuthoringError:
        return None
    plan, _ = compile_document(doc, schema, base_dir=str(path.resolve().parent))
    spec, _ = validate(m.IntegrationSpec, doc)
    return None if plan is None or spec is None else BuyerVersion(spec, plan, doc.source)


def _campaign(doc: Document, path: Path) -> CampaignVersion | None:
    plan, _ = compile_campaign(doc, path)
    spec, _ = validate(CampaignSpec, doc)
    return None if plan is None or spec is None else CampaignVersion(spec, plan, doc.source)


def _name(compiled: Any) -> str:
    if isinstance(compiled, BuyerVersion):
        return f"buyer {compiled.plan.buyer}"
    if isinstance(compiled, CampaignVersion):
        return f"campaign {compiled.plan.campaign}"
    return ""


def diff_pair(
    base: Side, head: Side, key: str, leads: Sequence[Path] | None = None
) -> FileDiff | None:
    """What changed in file ``key`` from ``base`` to ``head``; None when the bytes are equal."""
    a_path, b_path = base.files.get(key), head.files.get(key)
    if a_path is not None and b_path is not None and a_path.read_bytes() == b_path.read_bytes():
        return None
    if a_path is None or b_path is None:
        side = head if a_path is None else base
        v = load_version(side, key)
        status: Status = "added" if a_path is None else "removed"
        what = _name(v.compiled) or (v.kind if v.kind in LINTERS else "file")
        return FileDiff(side.shown(key), v.kind, status, f"{what} {status}")
    a, b = load_version(base, key), load_version(head, key)
    shown = head.shown(key)
    for version, side in ((b, head), (a, base)):
        if version.errors:
            label = "HEAD" if side is head else "BASE"
            kind = b.kind or a.kind
            summary = f"does not compile in {label} ({side.label})"
            return FileDiff(
                shown, kind, "broken", summary, problems=version.errors, broken_side=label
            )
    if a.compiled is None or b.compiled is None or type(a.compiled) is not type(b.compiled):
        kinds = f"{a.kind or 'other'} → {b.kind or 'other'}"
        if a.kind == b.kind or (a.kind not in LINTERS and b.kind not in LINTERS):
            return FileDiff(shown, b.kind, "plain", "changed (not a buyer or campaign file)")
        return FileDiff(shown, b.kind, "changed", f"kind of file changed: {kinds}")
    return _compare(a.compiled, b.compiled, a.path, b.path, shown, leads)


def _compare(
    a: BuyerVersion | CampaignVersion,
    b: BuyerVersion | CampaignVersion,
    a_path: Path,
    b_path: Path,
    shown: str,
    leads: Sequence[Path] | None,
) -> FileDiff:
    changes: list[Change]
    payloads: tuple[PayloadDiff, ...] = ()
    if isinstance(a, BuyerVersion) and isinstance(b, BuyerVersion):
        changes = buyer_changes(a, b)
        payloads = tuple(payload_diffs(a.plan, b.plan, a_path, b_path, leads))
        kind = "buyer"
    elif isinstance(a, CampaignVersion) and isinstance(b, CampaignVersion):
        changes = campaign_changes(a, b)
        kind = "campaign"
    else:  # pragma: no cover - diff_pair checks the types match
        raise TypeError("two versions of different kinds")
    status: Status
    if any(c.behavioural for c in changes) or payloads:
        status = "changed"
    elif changes:
        status = "other"
    else:
        status = "formatting"
    return FileDiff(shown, kind, status, _name(b), tuple(changes), payloads)

"""Load buyer files from disk: find the lead schema, load YAML, compile, report every issue."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from engine.compiler.integration import compile_document
from engine.dsl.kinds import guess_kind, kind_of
from engine.dsl.loader import load_yaml
from engine.errors import AuthoringError, Issue
from engine.lead import LeadSchema
from engine.lead.schema import load_lead_schema
from engine.plan import IntegrationPlan

LEAD_SCHEMA = "lead-schema.yaml"


def find_lead_schema(start: str | Path) -> Path | None:
    """The nearest ``lead-schema.yaml`` in the file's folder or a parent folder."""
    here = Path(start).resolve()
    for folder in [here, *here.parents] if here.is_dir() else list(here.parents):
        candidate = folder / LEAD_SCHEMA
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=8)
def _schema_at(path: Path, mtime: float) -> LeadSchema:
    return load_lead_schema(path)


def schema_for(file: str | Path) -> LeadSchema | None:
    """The lead schema governing ``file`` (cached while the schema file is unchanged)."""
    path = find_lead_schema(file)
    if path is None:
        return None
    return _schema_at(path, path.stat().st_mtime)


def display_name(path: Path) -> str:
    """A short name for messages: relative to the working folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_integration(
    path: str | Path, lead_schema: LeadSchema | None = None
) -> tuple[IntegrationPlan | None, list[Issue], str]:
    """Load and compile one buyer file: the plan (None on errors), every issue, and its text."""
    p = Path(path)
    try:
        doc = load_yaml(p, display_name(p))
    except AuthoringError as exc:
        return None, exc.issues, exc.source or ""
    typo: list[Issue] = []
    if kind_of(doc.data, ("buyer",)) is None and (guess := guess_kind(doc, ("buyer",))):
        _, doc, issue = guess  # "buyerx:": report the typo, and everything else as a buyer file
        typo.append(issue)
    schema = lead_schema if lead_schema is not None else schema_for(p)
    plan, issues = compile_document(doc, schema, base_dir=str(p.resolve().parent))
    return (None if typo else plan), [*typo, *issues], doc.source.text


def load_integration(path: str | Path, lead_schema: LeadSchema | None = None) -> IntegrationPlan:
    """The compiled plan of one buyer file; raises AuthoringError listing every problem."""
    plan, issues, text = check_integration(path, lead_schema)
    if plan is None:
        raise AuthoringError(issues, text)
    return plan


def yaml_files(
    paths: Iterable[str | Path], *, skip: Iterable[str] = (LEAD_SCHEMA,)
) -> Iterator[Path]:
    """Every ``*.yaml``/``*.yml`` file named or found (recursively, sorted) under the paths."""
    skipped = set(skip)
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")])
            yield from (f for f in found if f.name not in skipped)
        else:
            yield p

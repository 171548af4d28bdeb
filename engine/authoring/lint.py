"""``leadpost lint``: load, validate and compile files, then apply the semantic rules LP401–LP409.

Each kind of file has a linter, found by the top-level key that marks the kind (``buyer:``);
other kinds register theirs in :data:`LINTERS`. A buyer linter reports every compile problem
plus what the rules in :data:`BUYER_RULES` find. A rule is a small function from a
:class:`~engine.authoring.rules.BuyerFile` to the issues it finds (see
:mod:`engine.authoring.rules`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from engine.authoring.placeholders import DRAFT_RULES, placeholder_lines
from engine.authoring.rules import BUYER_RULES, BuyerFile
from engine.compiler.integration import compile_document
from engine.contract.model import EXAMPLES
from engine.dsl import kinds
from engine.dsl import models as m
from engine.dsl.issues import validate
from engine.dsl.loader import Document, load_yaml
from engine.dsl.partial import partial_spec
from engine.errors import AuthoringError, Issue
from engine.lead.schema import load_lead_schema
from engine.loading import LEAD_SCHEMA, display_name, find_lead_schema, schema_for, yaml_files
from engine.positions import Span


@dataclass(frozen=True, slots=True)
class LintOptions:
    """How thorough lint is."""

    examples: int = EXAMPLES
    """Generated leads tried per stage that names the buyer's spec (0: none)."""
    storage: Path | None = None
    """Where Hypothesis keeps its files while leads are generated (None: its default)."""
    cache: Path | None = None
    """Where each buyer file's verdict against its specs is kept between runs (None: not kept)."""


#: Lints one loaded file of its kind: every issue found (the path locates neighbouring files).
Linter = Callable[[Document, Path, LintOptions], list[Issue]]


def _position(issue: Issue) -> tuple[int, int]:
    return (issue.span.line, issue.span.col) if issue.span else (0, 0)


def lint_buyer(doc: Document, path: Path, options: LintOptions = LintOptions()) -> list[Issue]:
    """Compile problems of a buyer file plus every rule's findings, in file order."""
    issues: list[Issue] = []
    try:
        schema = schema_for(path)
    except AuthoringError as exc:  # the lead schema itself is broken: report it here too
        schema = None
        issues += exc.issues
    plan, compiled = compile_document(doc, schema, base_dir=str(path.resolve().parent))
    issues += compiled
    spec, _ = validate(m.IntegrationSpec, doc)
    if spec is None:  # still check the sections that are valid on their own
        spec = partial_spec(doc.data)
    if spec is not None:
        target = BuyerFile(spec, doc.source, plan, schema)
        for rule in (*BUYER_RULES, *DRAFT_RULES):
            issues += rule(target)
        if any(stage.spec is not None for _, stage in target.stages()):
            # stages naming the buyer's spec (LP7xx), quiet where a draft left a placeholder
            # (LP800); imported only then (Hypothesis, xmlschema and the spec readers are most
            # of lint's start-up)
            from engine.contract.lint import contract_issues

            quiet = placeholder_lines(target)
            issues += [
                i
                for i in contract_issues(
                    target, path, options.examples, storage=options.storage, cache=options.cache
                )
                if i.span is None or (i.span.file, i.span.line) not in quiet
            ]
    unique = list({(i.code, i.span, i.message): i for i in issues}.values())
    return sorted(unique, key=_position)


#: The linter of each kind of file, keyed by the top-level key that marks the kind.
#: Campaign files: :func:`engine.campaigns.lint.lint_campaign`. Other kinds add theirs here.
def _lint_campaign(doc: Document, path: Path, options: LintOptions) -> list[Issue]:
    from engine.campaigns.lint import lint_campaign

    return lint_campaign(doc, path)


LINTERS: dict[str, Linter] = {"buyer": lint_buyer, "campaign": _lint_campaign}


@dataclass(frozen=True, slots=True)
class FileReport:
    """The problems found in one file, with its text for the excerpts under them."""

    file: str
    source: str
    issues: tuple[Issue, ...]
    blocked: tuple[str, ...] = ()
    """A broken lead schema: the files that read it, not checked until it is fixed."""

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def failed(self, strict: bool = False) -> bool:
        """True when the file has an error (or, when ``strict``, a warning)."""
        return bool(self.errors or (strict and self.warnings))


def kind_of(data: Any) -> str | None:
    """The registered kind of a loaded file (``buyer``), from its top-level keys."""
    return kinds.kind_of(data, LINTERS)


def lint_lead_schema(path: str | Path) -> FileReport:
    """Every problem in a lead schema file (``lead-schema.yaml``)."""
    p = Path(path)
    name = display_name(p)
    try:
        load_lead_schema(p, name)
    except AuthoringError as exc:
        return FileReport(name, exc.source or "", tuple(exc.issues))
    return FileReport(name, "", ())


def lint_file(path: str | Path, options: LintOptions = LintOptions()) -> FileReport:
    """Every problem in one file. Never raises for a problem in the file."""
    p = Path(path)
    if p.name == LEAD_SCHEMA:
        return lint_lead_schema(p)
    name = display_name(p)
    try:
        doc = load_yaml(p, name)
    except AuthoringError as exc:
        return FileReport(name, exc.source or "", tuple(exc.issues))
    kind = kind_of(doc.data)
    typo: tuple[Issue, ...] = ()
    if kind is None and (guessed := kinds.guess_kind(doc, LINTERS)) is not None:
        kind, doc, issue = guessed  # "buyerx:" is a buyer file with a misspelt key
        typo = (issue,)
    if kind is None:
        known = " or ".join(f"'{k}:'" for k in LINTERS)
        issue = Issue(
            "LP202",
            f"leadpost does not know what kind of file this is: it has no {known} key",
            Span(name, 1, 1),
            hint=(
                "this is a buyer's spec: lint the buyer file whose stage names it in 'spec:'"
                if _SPEC_DOCUMENT.search(doc.source.text)
                else "a buyer file starts with 'buyer: <id>', a campaign file with 'campaign: <id>'"
            ),
        )
        return FileReport(name, doc.source.text, (issue,))
    return FileReport(name, doc.source.text, (*typo, *LINTERS[kind](doc, p, options)))


#: Files of other tools that folders may hold: skipped when found in a folder (a file named
#: on the command line is always linted).
SKIPPED_FILES: tuple[str, ...] = (LEAD_SCHEMA, "sandbox.yaml")


#: A buyer's spec written in YAML (an OpenAPI document, a JSON Schema): read by the buyer files
#: that name it, not linted on its own when found in a folder.
_SPEC_DOCUMENT = re.compile(r"""^(?:openapi|swagger|["']?\$schema["']?)[ \t]*:""", re.MULTILINE)


def _spec_document(path: Path) -> bool:
    try:
        return _SPEC_DOCUMENT.search(path.read_text(encoding="utf-8")) is not None
    except (OSError, UnicodeDecodeError):
        return False  # lint_file reports it


def lint_paths(
    paths: Iterable[str | Path], options: LintOptions = LintOptions()
) -> list[FileReport]:
    """Lint every file named, and every ``*.yaml`` under the folders named (except
    :data:`SKIPPED_FILES` and buyers' specs written in YAML)."""
    paths = list(paths)
    named = {Path(p) for p in paths}
    every = yaml_files(paths, skip=SKIPPED_FILES)
    found = [p for p in every if p in named or not _spec_document(p)]
    schemas, broken = _lead_schemas_first(found)
    rest = [p for p in found if p.name != LEAD_SCHEMA and _governing(p) not in broken]
    return [*schemas, *_lint_many(rest, options)]


#: From this many files on, a first run lints them in worker processes, one per core (at most
#: :data:`MAX_WORKERS`): a file is linted on its own, so the answer is the same, only sooner.
PARALLEL_FROM = 32
MAX_WORKERS = 8


def _lint_many(paths: list[Path], options: LintOptions) -> list[FileReport]:
    """:func:`lint_file` of each path, in order; over processes when there are many."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if len(paths) < PARALLEL_FROM or workers < 2:
        return [lint_file(p, options) for p in paths]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lint_file, paths, [options] * len(paths), chunksize=4))


def _governing(path: Path) -> Path | None:
    """The lead schema a file is read with (a lead schema file: itself)."""
    return path.resolve() if path.name == LEAD_SCHEMA else find_lead_schema(path)


def _lead_schemas_first(found: list[Path]) -> tuple[list[FileReport], set[Path]]:
    """The lead schemas the files read, checked first: a broken one is reported alone, and the
    files reading it are not checked (each would repeat its errors as errors of its own)."""
    reports: list[FileReport] = []
    broken: set[Path] = set()
    for schema in dict.fromkeys(g for p in found if (g := _governing(p)) is not None):
        report = lint_lead_schema(schema)
        readers = [p for p in found if p.name != LEAD_SCHEMA and _governing(p) == schema]
        if report.failed():
            broken.add(schema)
            reports.append(replace(report, blocked=tuple(display_name(p) for p in readers)))
        elif any(p.name == LEAD_SCHEMA and p.resolve() == schema for p in found):
            reports.append(report)  # named (or found) itself: counted as a file checked
    return reports, broken


# -- output --------------------------------------------------------------------------------------


def render_issue(issue: Issue, report: FileReport) -> str:
    """The issue with the line and caret when it points into this report's file."""
    own = issue.span is not None and issue.span.file == report.file
    return issue.render(report.source if own else None)


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_line(issue: Issue) -> str:
    """One GitHub Actions workflow command, shown as an annotation on the pull request."""
    level = "warning" if issue.severity == "warning" else "error"
    where = ""
    if issue.span is not None:
        s = issue.span
        where = f"file={_github_escape(s.file, prop=True)},line={s.line},col={s.col},"
    text = issue.message + (f"\nhint: {issue.hint}" if issue.hint else "")
    return f"::{level} {where}title={issue.code}::{_github_escape(text)}"


def summary(reports: list[FileReport]) -> str:
    """``2 errors, 1 warning in 3 files`` or ``3 files checked: no problems found``."""
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    files = f"{len(reports)} file" + ("" if len(reports) == 1 else "s")
    blocked = sum(len(r.blocked) for r in reports)
    later = f"; {_files(blocked)} not checked until the lead schema is fixed" if blocked else ""
    if not errors and not warnings:
        return f"{files} checked: no problems found{later}"
    parts = [f"{errors} error" + ("" if errors == 1 else "s")]
    parts.append(f"{warnings} warning" + ("" if warnings == 1 else "s"))
    return f"{', '.join(parts)} in {files}{later}"


def _files(count: int) -> str:
    return f"{count} file" + ("" if count == 1 else "s")


def blocked_note(report: FileReport) -> str | None:
    """``fix lead-schema.yaml first: …`` under a broken lead schema's problems."""
    if not report.blocked:
        return None
    shown = ", ".join(report.blocked[:5]) + (", …" if len(report.blocked) > 5 else "")
    count = len(report.blocked)
    which = f"the {_files(count)} that read it" if count > 1 else "the file that reads it"
    verb = "were" if count > 1 else "was"
    return f"fix {report.file} first: {which} ({shown}) {verb} not checked"


def format_reports(reports: list[FileReport], style: Literal["text", "github"] = "text") -> str:
    """Every issue of every file, then the summary line."""
    if style == "github":
        lines = [github_line(i) for r in reports for i in r.issues]
        return "\n".join([*lines, summary(reports)])
    blocks: list[str] = []
    for r in reports:
        blocks += [render_issue(i, r) for i in r.issues]
        note = blocked_note(r)
        blocks += [note] if note else []
    return "\n\n".join([*blocks, summary(reports)])

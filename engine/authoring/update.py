"""``leadpost test --update``: write the bodies leadpost renders into ``expect_body``.

Only cases whose body differs (LP601) are updated, and only in a file that has nothing else
pending, so the change can be reviewed on its own: a file with uncommitted git changes, or one
whose layout the rewrite would change (it does not read back exactly as written), is refused
with the reason. The file is rewritten like ``leadpost fmt`` does it (ruamel, comments and
layout kept), and read back: the new ``expect_body`` must be exactly the rendered body.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from engine.authoring.cases import FileTests, test_environ
from engine.authoring.fmt import round_trip_yaml
from engine.dsl.issues import validate
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import IntegrationSpec
from engine.errors import AuthoringError
from engine.lead import lead_timestamp, validate_lead
from engine.loading import check_integration, schema_for
from engine.plan import RenderContext
from engine.runtime.render import render_request


@dataclass(frozen=True, slots=True)
class Update:
    """What ``--update`` did to one file: the cases rewritten, or why nothing was written."""

    file: str
    cases: tuple[str, ...] = ()
    refused: str | None = None


def pending_git_changes(path: Path) -> bool:
    """True when git knows of uncommitted changes to ``path`` (False outside a repository). A
    file git has never committed (untracked or just added, like a fresh ``leadpost new`` draft)
    has no earlier version to review the update against, so it counts as having none."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--", path.name],
            cwd=path.resolve().parent,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    status = done.stdout.strip()
    return done.returncode == 0 and bool(status) and not status.startswith(("??", "A"))


def _charset(spec: IntegrationSpec, stage: str) -> str:
    """The charset ``expect_body`` is compared in (as the compiler reads it)."""
    found = spec.stages.ping if stage == "ping" else spec.stages.post
    if found is not None and found.xml is not None and found.wrap_in_form is None:
        return found.xml.encoding
    return "utf-8"


def _styled(old: object, text: str) -> object:
    """The new value in the old value's style (a ``|`` block or quotes) when it can hold it."""
    lines_printable = all(line.isprintable() for line in text.split("\n"))
    if isinstance(old, LiteralScalarString) and lines_printable and text.strip() == text:
        return LiteralScalarString(text + ("\n" if str(old).endswith("\n") else ""))
    if text.isprintable():
        return SingleQuotedScalarString(text)
    return DoubleQuotedScalarString(text)


def rendered_bodies(path: Path, failed: set[int]) -> dict[int, str] | str:
    """The rendered body of each failed case (by its index under ``tests:``), or why not."""
    plan, _, text = check_integration(path)
    if plan is None:
        return "the file does not compile"
    spec, _ = validate(IntegrationSpec, load_yaml_text(text, str(path)))
    schema = schema_for(path)
    if spec is None or schema is None:
        return "the file or its lead schema cannot be read"
    bodies: dict[int, str] = {}
    for index, case in enumerate(plan.tests):
        if index not in failed or case.lead is None or case.expect_body is None:
            continue
        lead = validate_lead(schema, case.lead)
        ctx = RenderContext(lead, lead_timestamp(lead), dict(case.prior), test_environ())
        payload = render_request(plan, case.stage, ctx, case.env, mask=False).payload
        bodies[index] = payload.decode(_charset(spec, case.stage))
    return bodies


def update_file(path: Path, tests: FileTests) -> Update:
    """Rewrite the ``expect_body`` of every case of ``tests`` that failed with LP601."""
    by_line = {c.line: c for c in tests.cases}
    failed_lines = {c.line for c in tests.cases if any(p.code == "LP601" for p in c.problems)}
    if not failed_lines:
        return Update(tests.file)
    if pending_git_changes(path):
        return Update(
            tests.file,
            refused="it has uncommitted changes: commit them first (the change that altered "
            "the bodies included), so that the update can be reviewed on its own",
        )
    text = path.read_text(encoding="utf-8")
    yaml = round_trip_yaml()
    tree = yaml.load(text)
    if _dump(yaml, tree) != text:
        return Update(
            tests.file,
            refused="writing it back would change its layout: run leadpost fmt on it first "
            "(and commit that), then --update",
        )
    doc = load_yaml_text(text, str(path))
    indexes = {
        i
        for i, _case in enumerate(doc.data.get("tests") or [])
        if doc.source.at(("tests", i)).line in failed_lines
    }
    bodies = rendered_bodies(path, indexes)
    if isinstance(bodies, str):
        return Update(tests.file, refused=bodies)
    for index, body in bodies.items():
        case = tree["tests"][index]
        case["expect_body"] = _styled(case["expect_body"], body)
    result = _dump(yaml, tree)
    if not _reads_back(result, str(path), bodies):
        return Update(tests.file, refused="the new bodies cannot be written back exactly")
    path.write_text(result, encoding="utf-8")
    names = tuple(by_line[doc.source.at(("tests", i)).line].name for i in sorted(bodies))
    return Update(tests.file, names)


def _dump(yaml: YAML, tree: object) -> str:
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def _reads_back(text: str, file: str, bodies: Mapping[int, str]) -> bool:
    try:
        data = load_yaml_text(text, file).data
    except AuthoringError:
        return False
    tests = data.get("tests") or []
    return all(
        str(tests[i].get("expect_body", "")).rstrip("\n") == body.rstrip("\n")
        for i, body in bodies.items()
    )

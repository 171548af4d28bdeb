"""``leadpost new buyer|campaign ID``: a new buyer file (drafted from a spec) or campaign file."""

from __future__ import annotations

import argparse
import re
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from engine.commands.output import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, out

if TYPE_CHECKING:
    from engine.lead import LeadSchema

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Writes a new buyer or campaign file. With --from-spec, the buyer file is drafted from "
        "the buyer's published spec (JSON Schema, OpenAPI 3 or XSD): one field per property, "
        "each mapped to a lead field with the transforms the spec's constraints call for and a "
        "comment saying why; what the spec cannot answer is left as TODO, which lint reports. "
        "Without a spec it writes an annotated minimal file. Nothing is ever overwritten "
        "unless --force is given."
    )
    parser.add_argument("kind", choices=("buyer", "campaign"), help="what to write")
    parser.add_argument("id", metavar="ID", help="its id: lowercase letters, digits and dashes")
    parser.add_argument("--from-spec", metavar="SPEC", help="the buyer's spec: .json, .yaml, .xsd")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--operation", metavar="OP", help="OpenAPI: the operationId to draft")
    which.add_argument("--element", metavar="EL", help="XSD: the global element to draft")
    parser.add_argument(
        "--stage", choices=("post", "ping"), default="post", help="the stage to draft (post)"
    )
    parser.add_argument(
        "--ping-spec",
        metavar="SPEC",
        help="the ping's spec, for a ping/post buyer: drafted as the ping stage, and the post's "
        "ping id or auction token read from the ping's answer",
    )
    parser.add_argument(
        "--out", metavar="FILE", help="where (default: integrations/KIND s/ID.yaml)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite the file if it exists")


def _default_out(kind: str, ident: str) -> Path:
    """``integrations/buyers/ID.yaml`` in a leadpost project, else ``ID.yaml`` here."""
    project = Path("integrations")
    return project / f"{kind}s" / f"{ident}.yaml" if project.is_dir() else Path(f"{ident}.yaml")


def _schema_for(target: Path) -> tuple[LeadSchema, str | None]:
    """The lead schema governing ``target``, else the starter project's (with a note)."""
    from engine.lead.schema import lead_schema_text
    from engine.loading import schema_for

    found = schema_for(target.resolve().parent / target.name)
    if found is not None:
        return found, None
    text = (
        resources.files("engine") / "templates" / "starter" / "integrations" / "lead-schema.yaml"
    ).read_text(encoding="utf-8")
    note = "no lead-schema.yaml was found above the file: mapped to the starter lead schema"
    return lead_schema_text(text, "lead-schema.yaml"), note


def run(args: argparse.Namespace) -> int:
    if not _ID.match(args.id):
        out(f"leadpost new: '{args.id}' is not a valid id", sys.stderr)
        out("use lowercase letters, digits and dashes, e.g. acme-insurance", sys.stderr)
        return EXIT_FAILURE
    if args.kind == "campaign" and (
        args.from_spec or args.operation or args.element or args.ping_spec
    ):
        out(
            "leadpost new campaign: --from-spec, --operation and --element are for buyers",
            sys.stderr,
        )
        return EXIT_FAILURE
    target = Path(args.out) if args.out else _default_out(args.kind, args.id)
    if target.exists() and not args.force:
        out(f"leadpost new: {target} exists already; nothing was written", sys.stderr)
        out("choose another --out, or add --force to overwrite it", sys.stderr)
        return EXIT_PROBLEMS
    lines: list[str]
    if args.kind == "campaign":
        from engine.authoring.scaffold import minimal_campaign

        text = minimal_campaign(args.id, target)
        lines = [f"wrote {target}: a waterfall campaign over the project's buyers"]
    elif args.from_spec is None and args.ping_spec:
        out("leadpost new: --ping-spec goes with --from-spec (the post's spec)", sys.stderr)
        return EXIT_FAILURE
    elif args.from_spec is None:
        from engine.authoring.scaffold import minimal_buyer

        text = minimal_buyer(args.id, target)
        lines = [f"wrote {target}: an annotated minimal buyer file"]
    else:
        drafted = _draft(args, target)
        if isinstance(drafted, int):
            return drafted
        text, lines = drafted
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    lines += ["", "next:", f"  leadpost lint {target}"]
    if args.kind == "buyer":
        lines.append(f"  leadpost test --update {target}")
    out("\n".join(lines))
    return EXIT_OK


def _draft(args: argparse.Namespace, target: Path) -> tuple[str, list[str]] | int:
    from engine.authoring.scaffold import draft_buyer
    from engine.contract.problems import SpecProblem

    spec = Path(args.from_spec)
    if args.ping_spec and args.stage == "ping":
        out("leadpost new: --ping-spec goes with the post's spec (--stage post)", sys.stderr)
        return EXIT_FAILURE
    if args.operation and spec.suffix.lower() == ".xsd":
        out("leadpost new: --operation is for OpenAPI specs; for an XSD use --element", sys.stderr)
        return EXIT_FAILURE
    schema, note = _schema_for(target)
    try:
        drafted = draft_buyer(
            args.id,
            spec,
            target,
            schema,
            operation=args.operation,
            element=args.element,
            stage=args.stage,
            ping_spec=Path(args.ping_spec) if args.ping_spec else None,
        )
    except SpecProblem as problem:
        named = spec.name in problem.message
        out(f"leadpost new: {'' if named else f'{spec}: '}{problem.message}", sys.stderr)
        if problem.hint:
            out(f"  hint: {problem.hint}", sys.stderr)
        return EXIT_PROBLEMS
    fields = drafted.fields
    mapped = sum(f.lead_field is not None for f in fields)
    constants = len(fields) - mapped - drafted.placeholders
    lines = [
        f"wrote {target}: {len(fields)} fields from {spec.name}: {mapped} mapped to lead fields, "
        f"{constants} constants, {drafted.placeholders} TODO"
        + (f"; {drafted.todo_choices} translate entries TODO" if drafted.todo_choices else ""),
        "the response section "
        + (
            "comes from the spec's documented responses"
            if drafted.documented_response
            else "is a commented skeleton: the spec documents no responses"
        ),
    ]
    todo = [f for f in fields if f.placeholder or f.todos]
    if todo:
        lines.append("left for you (lint reports each until it is done):")
        lines += [
            f"  {'.'.join(map(str, f.path))}: {f.why.removeprefix('TODO: ')}" for f in todo[:10]
        ]
        if len(todo) > 10:
            lines.append(f"  … and {len(todo) - 10} more")
    if note:
        lines.append(note)
    return drafted.text, lines

"""The TODOs a drafted buyer file leaves (``leadpost new buyer --from-spec``): LP800–LP803.

A draft writes ``TODO`` where the buyer's spec could not answer: a field nothing in the lead
matched (``{value: TODO}``, LP800), a translate entry with no buyer choice of the same name
(LP801), a production address the spec does not give (``https://todo.invalid/…``, LP802) and a
test's ``expect_body: ""`` left for ``leadpost test --update`` (LP803). Lint reports each one,
so a draft cannot go live with a guess left in it; the contract checks (LP7xx) say nothing
about a field that is still a placeholder (LP800/LP801 already do).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from engine.authoring.rules import BuyerFile, Rule
from engine.dsl import models as m
from engine.errors import Issue

#: What a draft writes where the spec could not answer.
TODO = "TODO"
#: The host of a production address the spec did not give.
PLACEHOLDER_HOST = "todo.invalid"


def _translate_todos(spec: m.FieldSpec) -> list[tuple[int, str]]:
    """(step index, lead choice) of every translate entry left as TODO."""
    found = []
    for i, step in enumerate(spec.transform):
        if isinstance(step, dict) and isinstance(step.get("translate"), dict):
            args = step["translate"]
            mapping = args.get("map", args) if isinstance(args.get("map"), dict) else args
            found += [(i, str(k)) for k, v in mapping.items() if v == TODO]
    return found


def placeholder_fields(f: BuyerFile) -> Iterator[tuple[tuple[str | int, ...], str, m.FieldSpec]]:
    """(position, field name, spec) of every field holding a TODO (the form's too)."""
    for stage_name, stage in f.stages():
        groups: list[tuple[m.Fields, tuple[str | int, ...]]] = [
            (stage.fields, ("stages", stage_name, "fields"))
        ]
        if stage.wrap_in_form is not None:
            form = ("stages", stage_name, "wrap_in_form", "fields")
            groups.append((stage.wrap_in_form.fields, form))
        for fields, at in groups:
            for name, spec in fields.items():
                if not isinstance(spec, m.FieldSpec):
                    continue
                if spec.value == TODO or _translate_todos(spec):
                    yield (*at, name), name, spec


def drafted_placeholders(f: BuyerFile) -> Iterator[Issue]:
    """LP800–LP803: what a draft left for the author to decide."""
    for at, name, spec in placeholder_fields(f):
        if spec.value == TODO:
            yield Issue(
                "LP800",
                f"field '{name}' is a placeholder: the draft found nothing in the lead for it",
                f.at(*at, "value"),
                "map it (from: lead.…), give the value the buyer expects (value: …), or delete "
                "the field if the buyer does not need it; the comment says what the spec asks",
            )
        for step, choice in _translate_todos(spec):
            yield Issue(
                "LP801",
                f"field '{name}' does not say what to send for the lead's '{choice}'",
                f.at(*at, "transform", step),
                "replace TODO with one of the buyer's choices (the comment lists them)",
            )
    for env, settings in f.spec.environments.items():
        if (urlsplit(settings.url.strip()).hostname or "") == PLACEHOLDER_HOST:
            yield Issue(
                "LP802",
                f"environment '{env}' still has the draft's placeholder address",
                f.at("environments", env, "url"),
                "write the buyer's address (from their documentation or onboarding email)",
            )
    for i, case in enumerate(f.spec.tests):
        if case.expect_body == "":
            yield Issue(
                "LP803",
                f"test '{case.name}' has no expected body yet",
                f.at("tests", i, "expect_body"),
                "check the mapping, then record the body: leadpost test --update FILE",
                severity="warning",
            )


def placeholder_lines(f: BuyerFile) -> set[tuple[str, int]]:
    """(file, line) of every placeholder field, to quiet contract findings there."""
    lines = set()
    for at, _, _ in placeholder_fields(f):
        for span in (f.source.key_at(at), f.at(*at)):
            lines.add((span.file, span.line))
    return lines


DRAFT_RULES: list[Rule] = [drafted_placeholders]

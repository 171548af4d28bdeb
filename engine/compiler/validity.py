"""Compile ``require_valid`` lists (buyer filters, campaigns) into requirements over the lead."""

from __future__ import annotations

from collections.abc import Sequence

from engine.compiler.context import CompileContext, Path
from engine.dsl.suggest import hint_for
from engine.lead.normalize import NORMALIZERS
from engine.lead.validity import Requirement, requirement


def require_valid(
    paths: Sequence[str] | None, at: Path, ctx: CompileContext, who: str
) -> Requirement | None:
    """The requirement that every field of ``paths`` holds a valid value (None when the list is
    absent or empty); LP360 for an entry that is not a phone or email field of the lead schema."""
    if not paths:
        return None
    schema = ctx.lead_schema
    fields = []
    for i, raw in enumerate(paths):
        path = raw.strip()
        spec = schema.fields.get(path) if schema is not None else None
        if schema is not None and path not in schema.contact_fields:
            what = f"has type {spec.kind}" if spec is not None else "is not a lead field"
            contact = sorted(schema.contact_fields)
            ctx.error(
                "LP360",
                f"require_valid lists '{path}', which {what}: only phone and email fields "
                "have a validity",
                (*at, i),
                hint=hint_for(path, contact)
                or (f"phone and email fields: {', '.join(contact)}" if contact else None),
            )
            continue
        # Without a lead schema the type is unknown: a field named like an email is one.
        named_email = "email" in path.rsplit(".", 1)[-1].lower()
        kind = spec.kind if spec is not None else ("email" if named_email else "phone")
        fields.append((path, NORMALIZERS[kind]))
    return requirement(fields, who) if fields else None

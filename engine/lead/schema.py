"""Read ``lead-schema.yaml``: validate its fields with positions and compile it into a LeadSchema.

This is the only part of ``engine.lead`` that touches the YAML layer; ``engine.lead`` itself does
not import it, so the run side can use the pure validator without pulling in ``engine.dsl``.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.dsl.issues import validate
from engine.dsl.loader import Document, load_yaml, load_yaml_text
from engine.errors import AuthoringError, Issue
from engine.lead.normalize import KINDS
from engine.lead.validate import FieldSpec, LeadSchema
from engine.lead.validity import CONTACT_KINDS, VALIDITY

Kind = Literal[
    "string", "integer", "number", "boolean", "date", "datetime", "phone", "email", "state",
    "zip", "enum", "url", "trustedform_url", "jornaya_leadid", "list",
]  # fmt: skip
ItemKind = Literal[
    "string", "integer", "number", "boolean", "date", "datetime", "phone", "email", "state",
    "zip", "enum", "url", "trustedform_url", "jornaya_leadid",
]  # fmt: skip

_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FieldModel(BaseModel):
    """One field of the lead, e.g. ``lead.phone: {type: phone, pii: true, required: true}``."""

    model_config = ConfigDict(extra="forbid")

    type: Kind = Field(description="what the value is: phone, email, enum, integer, ...")
    pii: bool = Field(False, description="true when the value identifies a person")
    required: bool = Field(False, description="true when every lead must carry it")
    values: list[str] | None = Field(None, description="the allowed choices (enum only)")
    minimum: Decimal | None = Field(None, description="the least value (integer, number)")
    maximum: Decimal | None = Field(None, description="the greatest value (integer, number)")
    description: str = Field("", description="one line saying what the field means")
    of: ItemKind | None = Field(
        None,
        description="list only: the type of each item of a list of values (of: phone); a list "
        "of objects leaves it out and declares its item fields inside it (lead.drivers.dob)",
    )
    min_items: int | None = Field(None, ge=0, description="list only: the fewest items allowed")
    max_items: int | None = Field(None, ge=1, description="list only: the most items allowed")
    required_valid: bool = Field(
        False,
        description="phone and email only: refuse a lead whose value is not valid (by default "
        "it is kept, and its validity recorded for the buyers that require it)",
    )


class LeadSchemaFile(BaseModel):
    """The whole ``lead-schema.yaml`` file: one entry per dotted field path."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldModel] = Field(description="dotted path -> field declaration")


def load_lead_schema(path: str | os.PathLike[str], display: str | None = None) -> LeadSchema:
    """Load and compile a lead schema file; AuthoringError lists every problem with its position."""
    return lead_schema_of(load_yaml(path, display))


def lead_schema_text(text: str, file: str) -> LeadSchema:
    """:func:`load_lead_schema` for text already read (``file`` names it in messages)."""
    return lead_schema_of(load_yaml_text(text, file))


def lead_schema_of(doc: Document) -> LeadSchema:
    """The compiled schema of a loaded lead schema document (AuthoringError on problems)."""
    model, issues = validate(LeadSchemaFile, doc)
    issues = [*issues, *_meaning_issues(doc)]
    if model is None or any(i.severity == "error" for i in issues):
        issues.sort(key=lambda i: (i.span.line, i.span.col) if i.span else (0, 0))
        raise AuthoringError(issues, source=doc.source.text)
    return compile_lead_schema(model)


def compile_lead_schema(model: LeadSchemaFile) -> LeadSchema:
    """The immutable LeadSchema of a validated file (choices keep their declared spelling)."""
    return LeadSchema(
        {
            path: FieldSpec(
                kind=f.type,
                pii=f.pii,
                required=f.required,
                values=tuple(f.values or ()),
                description=" ".join(f.description.split()),
                minimum=f.minimum,
                maximum=f.maximum,
                required_valid=f.required_valid,
                of=f.of,
                min_items=f.min_items,
                max_items=f.max_items,
            )
            for path, f in model.fields.items()
        }
    )


def _meaning_issues(doc: Document) -> list[Issue]:
    """Checks the model cannot express: path spelling, enum choices, fields nested in values."""
    data = doc.data if isinstance(doc.data, dict) else {}
    fields = data.get("fields")
    if not isinstance(fields, dict):
        return []
    src = doc.source
    issues: list[Issue] = []
    if not fields:
        issues.append(
            Issue(
                "LP204",
                "no lead fields are declared",
                src.at(("fields",)),
                hint="add lines like 'lead.phone: {type: phone, pii: true, required: true}'",
            )
        )
    for path, entry in fields.items():
        at = ("fields", path)
        if not all(_PART.fullmatch(part) for part in path.split(".")):
            issues.append(
                Issue(
                    "LP204",
                    f"'{path}' is not a valid field path",
                    src.key_at(at),
                    hint="join names made of letters, digits and _ with dots: lead.address.zip",
                )
            )
        parents = path.split(".")
        if parents[0] == VALIDITY:
            issues.append(
                Issue(
                    "LP204",
                    f"'{path}' is inside '{VALIDITY}', which leadpost keeps for the validity it "
                    "records of phone and email fields",
                    src.key_at(at),
                    hint=f"give the field another name (leads cannot carry '{VALIDITY}')",
                )
            )
        for end in range(1, len(parents)):
            parent = ".".join(parents[:end])
            if parent in fields and not _list_of_objects(fields[parent]):
                issues.append(
                    Issue(
                        "LP312",
                        f"'{parent}' is declared as a single value, but '{path}' is declared "
                        "inside it",
                        src.key_at(at),
                        hint=f"remove '{parent}' (objects are implied by the fields inside them)",
                    )
                )
        if isinstance(entry, dict):
            issues += _list_issues(doc, path, entry, fields)
            issues += _choice_issues(doc, path, entry)
            issues += _bound_issues(doc, path, entry)
            issues += _validity_issues(doc, path, entry)
    return issues


def _list_of_objects(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("type") == "list" and entry.get("of") is None


def _list_issues(
    doc: Document, path: str, entry: dict[str, Any], fields: dict[str, Any]
) -> list[Issue]:
    """``of``, ``min_items`` and ``max_items`` only on lists; a list of objects has fields."""
    at = ("fields", path)
    src = doc.source
    if entry.get("type") != "list":
        wrong = [k for k in ("of", "min_items", "max_items") if k in entry]
        return [
            Issue(
                "LP312",
                f"'{k}' only applies to list fields, and '{path}' has type {entry.get('type')}",
                src.key_at((*at, k)),
                hint=f"use 'type: list', or remove '{k}'",
            )
            for k in wrong
        ]
    issues: list[Issue] = []
    inside = [p for p in fields if p.startswith(path + ".")]
    if entry.get("of") is None and not inside:
        issues.append(
            Issue(
                "LP202",
                f"'{path}' is a list but says neither what its items are ('of') nor declares "
                "fields inside it",
                src.at(at),
                hint=f"a list of values: add 'of: phone'; a list of objects: declare "
                f"'{path}.first_name: {{type: string}}' and its other fields",
            )
        )
    low, high = _number(entry.get("min_items")), _number(entry.get("max_items"))
    if low is not None and high is not None and low > high:
        issues.append(
            Issue(
                "LP312",
                f"'{path}' has min_items ({low}) above its max_items ({high})",
                src.at((*at, "min_items")),
                hint="swap them, or correct one",
            )
        )
    if entry.get("of") == "enum" and entry.get("values") is None:
        issues.append(
            Issue(
                "LP202",
                f"'{path}' is a list of enum values but lists no 'values'",
                src.at(at),
                hint="add the allowed choices, e.g. values: [own, rent]",
            )
        )
    if entry.get("pii") and entry.get("of") is None:
        issues.append(
            Issue(
                "LP312",
                f"'pii' goes on the fields inside the list '{path}', not on the list",
                src.key_at((*at, "pii")),
                hint=f"mark e.g. '{path}.first_name' with pii: true",
            )
        )
    return issues


def _validity_issues(doc: Document, path: str, entry: dict[str, Any]) -> list[Issue]:
    """``required_valid`` only on phone and email fields (the only ones kept when invalid)."""
    kind = entry.get("type")
    if "required_valid" not in entry or kind in CONTACT_KINDS or kind not in KINDS:
        return []
    return [
        Issue(
            "LP312",
            f"'required_valid' only applies to phone and email fields, and '{path}' has type "
            f"{kind}",
            doc.source.key_at(("fields", path, "required_valid")),
            hint=f"remove it: an invalid {kind} value always refuses the lead",
        )
    ]


def _number(text: Any) -> Decimal | None:
    try:
        number = Decimal(str(text))
    except ArithmeticError:
        return None  # the model reports a bound that is not a number
    return number if number.is_finite() else None


def _bound_issues(doc: Document, path: str, entry: dict[str, Any]) -> list[Issue]:
    """``minimum``/``maximum`` only on integer and number fields, and in order."""
    at = ("fields", path)
    bounds = [k for k in ("minimum", "maximum") if entry.get(k) is not None]
    if not bounds:
        return []
    kind = entry.get("of") if entry.get("type") == "list" else entry.get("type")
    if kind not in ("integer", "number"):
        return [
            Issue(
                "LP312",
                f"'{bounds[0]}' only applies to integer and number fields, and '{path}' has "
                f"type {kind}",
                doc.source.key_at((*at, bounds[0])),
                hint=f"remove '{bounds[0]}'",
            )
        ]
    low, high = _number(entry.get("minimum")), _number(entry.get("maximum"))
    if low is not None and high is not None and low > high:
        return [
            Issue(
                "LP312",
                f"'{path}' has a minimum ({low}) above its maximum ({high})",
                doc.source.at((*at, "minimum")),
                hint="swap them, or correct one",
            )
        ]
    return []


def _choice_issues(doc: Document, path: str, entry: dict[str, Any]) -> list[Issue]:
    kind, values = entry.get("type"), entry.get("values")
    if kind == "list":
        if entry.get("of") is None:
            return []  # a list of objects: its fields inside carry the choices
        kind = entry.get("of")
        if kind == "enum" and values is None:
            return []  # _list_issues reports it
    at = ("fields", path)
    if kind not in KINDS:
        return []  # the model reports the unknown type
    if kind == "enum" and values is None:
        return [
            Issue(
                "LP202",
                f"'{path}' is an enum field but lists no 'values'",
                doc.source.at(at),
                hint="add the allowed choices, e.g. values: [own, rent]",
            )
        ]
    if kind != "enum" and values is not None:
        return [
            Issue(
                "LP312",
                f"'values' only applies to enum fields, and '{path}' has type {kind}",
                doc.source.key_at((*at, "values")),
                hint="use 'type: enum', or remove 'values'",
            )
        ]
    if not isinstance(values, list):
        return []
    issues: list[Issue] = []
    if not values:
        issues.append(
            Issue(
                "LP204",
                f"'{path}' lists no choices",
                doc.source.at((*at, "values")),
                hint="write at least one choice, e.g. values: [own, rent]",
            )
        )
    seen: dict[str, str] = {}
    for i, value in enumerate(values):
        if not isinstance(value, str):
            continue  # the model reports a choice that is not text
        key = value.strip().casefold()
        if not key or value != value.strip():
            issues.append(
                Issue(
                    "LP204",
                    f"choice '{value}' of '{path}' is empty or has spaces around it",
                    doc.source.at((*at, "values", i)),
                    hint="write each choice as plain text without surrounding spaces",
                )
            )
        elif key in seen:
            issues.append(
                Issue(
                    "LP204",
                    f"choice '{value}' of '{path}' repeats '{seen[key]}' (case is ignored)",
                    doc.source.at((*at, "values", i)),
                    hint="keep only one of them",
                )
            )
        else:
            seen[key] = value
    return issues

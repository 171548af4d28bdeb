"""``leadpost schema``: JSON Schemas of every kind of file, for editors (yaml-language-server).

Each schema comes from the pydantic models of its file kind, then is shaped for editors:

- every key gets the one line dsl-spec.md's cheat sheet gives it (:mod:`engine.authoring.key_docs`),
  so an editor's hover text and the reference never disagree;
- transform steps are listed from the transform registry, each with its settings, so a
  transform another module registers appears by itself and ``uper`` is underlined;
- "text or a mapping" (a field written as ``lead.phone`` or ``{from: …}``) and the kinds of
  auth become ``if``/``then``: a typo inside a field is reported as that typo
  ("'form' was unexpected"), not as "not valid under any of the given schemas";
- leadpost reads every value as the text written, so a text setting also accepts what an
  editor reads as a number or true/false (``version: 1.2``, ``price: 35.00``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.authoring.key_docs import key_docs, plain
from engine.campaigns.models import CampaignSpec
from engine.dsl.models import IntegrationSpec
from engine.lead.schema import LeadSchemaFile
from engine.sandbox.config import SandboxShape
from engine.transforms import TRANSFORMS, TransformDef

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_TEXT_LIKE = ["string", "number", "boolean"]


@dataclass(frozen=True, slots=True)
class FileKind:
    """One kind of file: its model, the schema file editors read, the files it applies to."""

    name: str
    model: type[BaseModel]
    title: str
    file: str
    applies_to: str


KINDS: dict[str, FileKind] = {
    k.name: k
    for k in (
        FileKind(
            "buyer",
            IntegrationSpec,
            "leadpost buyer integration",
            "leadpost-buyer.schema.json",
            "integrations/buyers/*.yaml",
        ),
        FileKind(
            "campaign",
            CampaignSpec,
            "leadpost campaign file",
            "leadpost-campaign.schema.json",
            "integrations/campaigns/*.yaml",
        ),
        FileKind(
            "lead-schema",
            LeadSchemaFile,
            "leadpost lead schema",
            "leadpost-lead-schema.schema.json",
            "integrations/lead-schema.yaml",
        ),
        FileKind(
            "sandbox",
            SandboxShape,
            "leadpost sandbox file",
            "leadpost-sandbox.schema.json",
            "integrations/sandbox.yaml",
        ),
    )
}


def editor_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one kind of file (``buyer``, ``campaign``, …)."""
    found = KINDS[kind]
    raw = found.model.model_json_schema(by_alias=True)
    defs: dict[str, Any] = raw.get("$defs", {})
    _describe(raw, found.model.__name__)
    for name, node in defs.items():
        _describe(node, name)
    if "FieldSpec" in defs:
        defs["FieldSpec"]["properties"]["transform"] = _steps_schema()
    shaped = _loosen(_shape(raw))
    assert isinstance(shaped, dict)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": found.title,
        **{k: v for k, v in shaped.items() if k != "title"},
    }


def buyer_schema() -> dict[str, Any]:
    """The JSON Schema of a buyer integration file."""
    return editor_schema("buyer")


def schema_text(kind: str = "buyer") -> str:
    """The schema as indented JSON text ending with a newline."""
    return json.dumps(editor_schema(kind), indent=2, ensure_ascii=False) + "\n"


def described_keys(schema: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(where, key, description) of every property of every object in ``schema``."""
    stack: list[tuple[str, Any]] = [("", schema)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            for key, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict):
                    yield where, key, sub.get("description")
            stack.extend((f"{where}/{k}", v) for k, v in node.items() if k != "if")
        elif isinstance(node, list):
            stack.extend((where, v) for v in node)


# -- descriptions --------------------------------------------------------------------------------


def _describe(node: dict[str, Any], model: str) -> None:
    """Each property of a model's schema gets its line from the cheat sheet."""
    docs = key_docs().get(model, {})
    for key, prop in (node.get("properties") or {}).items():
        line = docs.get(key)
        if line is not None and isinstance(prop, dict):
            prop["description"] = plain(line)
            prop["markdownDescription"] = line
    node.pop("description", None)  # the model's docstring: written for programmers


# -- transforms ----------------------------------------------------------------------------------


def _steps_schema() -> dict[str, Any]:
    """``transform:``: a list of steps, each a name or ``{name: settings}``, from the registry."""
    bare = [n for n, d in TRANSFORMS.items() if _takes_nothing_required(d)]
    with_settings = {n: _settings_schema(d) for n, d in TRANSFORMS.items() if d.args is not None}
    step = {
        "if": {"type": "object"},
        "then": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": {"enum": list(TRANSFORMS)},
            "properties": with_settings,
        },
        "else": {"enum": bare, "description": "a transform that needs no settings"},
    }
    return {
        "type": "array",
        "items": step,
        "description": "steps applied in order, e.g. [trim, {phone: dashes}]",
        "markdownDescription": "steps applied in order, e.g. `[trim, {phone: dashes}]`",
    }


def _takes_nothing_required(d: TransformDef) -> bool:
    if d.args is None:
        return True
    return not d.args.model_json_schema().get("required")


def _summary(d: TransformDef) -> str:
    value, arg, result = d.example
    shown = f" — e.g. {value!s} → {result!s}" if arg is None else f" — e.g. {arg!s}: {result!s}"
    settings = (d.args.__doc__ or "").strip() if d.args is not None else "no settings"
    return f"{d.name}{shown}. {settings}"


def _settings_schema(d: TransformDef) -> dict[str, Any]:
    """A transform's settings: the mapping of its arguments model, or its short form."""
    assert d.args is not None
    full = copy.deepcopy(d.args.model_json_schema())
    full.pop("title", None)
    settings = plain((full.pop("description", None) or "").strip())
    for prop in full.get("properties", {}).values():
        prop.setdefault("description", settings)  # the arguments model's line, for each
    if _accepts_free_keys(d.args):  # translate: {own: Y} is short for {map: {own: Y}}
        known = list(full.get("properties", {}))
        full = {
            "if": {"type": "object", "anyOf": [{"required": [k]} for k in known]},
            "then": full,
        }
    short: Any = {}
    if d.shorthand is not None:
        short = copy.deepcopy(full.get("properties", {}).get(d.shorthand, {}))
        short.pop("title", None)
        if "enum" not in short:
            short = {}  # checked by lint, with positions
    return {
        "if": {"type": "object"},
        "then": full,
        "else": short,
        "description": _summary(d),
    }


def _accepts_free_keys(args: type[BaseModel]) -> bool:
    try:
        args.model_validate({"leadpost_probe": "x"})
    except ValidationError:
        return False
    return True


# -- "text or a mapping", kinds of auth ---------------------------------------------------------


def _shape(node: Any) -> Any:
    """Unions rewritten as ``if``/``then`` so validators report the error inside the branch."""
    if isinstance(node, list):
        return [_shape(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _shape(value) for key, value in node.items()}
    choices = out.get("anyOf")
    if isinstance(choices, list):
        refs = [c for c in choices if isinstance(c, dict) and "$ref" in c]
        texts = [c for c in choices if isinstance(c, dict) and c.get("type") == "string"]
        nulls = [c for c in choices if isinstance(c, dict) and c.get("type") == "null"]
        if (
            len(refs) == 1
            and len(texts) == 1
            and len(refs) + len(texts) + len(nulls) == len(choices)
        ):
            del out["anyOf"]
            text: dict[str, Any] = dict(texts[0])
            if nulls:
                text = {"anyOf": [text, {"type": "null"}]}
            out.update({"if": {"type": "object"}, "then": refs[0], "else": text})
    mapping = out.get("discriminator", {}).get("mapping") if "discriminator" in out else None
    if isinstance(mapping, dict) and "oneOf" in out:
        tag = out["discriminator"]["propertyName"]
        del out["oneOf"], out["discriminator"]
        docs = key_docs().get(_model_name(next(iter(mapping.values()))), {})
        line = docs.get(tag, "")
        out.update(
            {
                "type": "object",
                "required": [tag],
                "properties": {
                    tag: {
                        "enum": list(mapping),
                        "description": plain(line),
                        "markdownDescription": line,
                    }
                },
                "allOf": [
                    {
                        "if": {"properties": {tag: {"const": value}}, "required": [tag]},
                        "then": {"$ref": ref},
                    }
                    for value, ref in mapping.items()
                ],
            }
        )
    return out


def _model_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _loosen(node: Any) -> Any:
    """Copy of ``node`` where free text properties also accept numbers and booleans."""
    if isinstance(node, list):
        return [_loosen(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _loosen(value) for key, value in node.items()}
    free_text = not ({"enum", "const", "pattern", "format"} & set(node))
    if node.get("type") == "string" and free_text:
        out["type"] = list(_TEXT_LIKE)
    return out

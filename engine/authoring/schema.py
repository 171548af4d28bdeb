"""``leadpost schema``: the JSON Schema of a buyer file, for editors (yaml-language-server).

The schema comes from the pydantic models. One adjustment keeps editors in step with leadpost:
leadpost reads every value as the text written, so ``version: 1.2`` or ``price: 35.00`` are
valid text; plain text properties therefore also accept what an editor reads as a number or a
boolean.
"""

from __future__ import annotations

import json
from typing import Any

from engine.dsl.models import IntegrationSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_TEXT_LIKE = ["string", "number", "boolean"]


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


def buyer_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a buyer integration file."""
    schema = _loosen(IntegrationSpec.model_json_schema(by_alias=True))
    assert isinstance(schema, dict)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "leadpost buyer integration",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def schema_text() -> str:
    """The schema as indented JSON text ending with a newline."""
    return json.dumps(buyer_schema(), indent=2, ensure_ascii=False) + "\n"

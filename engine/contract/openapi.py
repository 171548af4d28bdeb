"""OpenAPI 3.0/3.1 specs: the request body schema of one operation, read as JSON Schema.

The operation is found by its ``operationId``; its ``requestBody`` content for the stage's
format gives the schema (for a ``format: query`` stage, the operation's query parameters do).
Local ``$ref`` s (``#/components/...``) are followed by validating against the whole document
with a ``$ref`` to the body schema. OpenAPI 3.0's ``nullable: true`` also allows null, and its
true/false ``exclusiveMaximum``/``exclusiveMinimum`` are read as 3.0 meant them.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.contract.jsonspec import (
    escape,
    flatten,
    json_validator,
    outside_refs,
    pointers,
    resolve,
)
from engine.contract.model import BuyerSpec
from engine.contract.paths import PayloadShape
from engine.contract.problems import SpecProblem
from engine.dsl.suggest import hint_for

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MEDIA = {
    "json": ("application/json",),
    "form": ("application/x-www-form-urlencoded",),
    "query": ("application/x-www-form-urlencoded",),
    "xml": ("application/xml", "text/xml"),
}


def _convert_30(node: Any) -> None:
    """Rewrite OpenAPI 3.0 schema words in place as JSON Schema 2020-12 says them."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        stack.extend(item.values())
        for word, bound in (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum")):
            if isinstance(item.get(word), bool) and item.pop(word) and bound in item:
                item[word] = item.pop(bound)
        if item.get("nullable") is not True:
            continue
        del item["nullable"]
        kind = item.get("type")
        if isinstance(kind, str):
            item["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            kind.append("null")
        if isinstance(item.get("enum"), list) and None not in item["enum"]:
            item["enum"].append(None)
        if kind is None and any(w in item for w in ("$ref", "allOf", "oneOf", "anyOf")):
            inner = dict(item)
            item.clear()
            item["anyOf"] = [inner, {"type": "null"}]


def _operations(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], Any]]:
    """operationId -> (pointer of the operation, the operation, its path item)."""
    found: dict[str, tuple[str, dict[str, Any], Any]] = {}
    paths = doc.get("paths")
    for route, item in paths.items() if isinstance(paths, dict) else []:
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict) and isinstance(op.get("operationId"), str):
                found[op["operationId"]] = (f"/paths/{escape(route)}/{method}", op, item)
    return found


def _media(content: dict[str, Any], shape: PayloadShape) -> str | None:
    wanted = _MEDIA[shape.format]
    names = {str(k).split(";")[0].strip().lower(): k for k in content}
    for name in wanted:
        if name in names:
            return str(names[name])
    if shape.format == "json":
        return next((str(v) for k, v in names.items() if k.endswith("+json")), None)
    return None


def _query_schema(doc: Any, op: dict[str, Any], item: Any) -> dict[str, Any] | None:
    """An object schema made of the operation's query parameters."""
    params = [*(item.get("parameters") or []), *(op.get("parameters") or [])]
    props: dict[str, Any] = {}
    required: list[str] = []
    for raw in params:
        param = resolve(doc, raw["$ref"]) if isinstance(raw, dict) and "$ref" in raw else raw
        if not isinstance(param, dict) or param.get("in") != "query" or "name" not in param:
            continue
        props[str(param["name"])] = param.get("schema", {})
        if param.get("required") is True:
            required.append(str(param["name"]))
    return {"type": "object", "properties": props, "required": required} if props else None


def openapi_spec(doc: Any, source: str, operation: str, shape: PayloadShape) -> BuyerSpec:
    """The BuyerSpec of ``operation``'s request; SpecProblem when the document does not say."""
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3."):
        raise SpecProblem(
            "LP710",
            f"{source} is not an OpenAPI 3 document",
            "it should start with a line like 'openapi: 3.1.0'",
        )
    if str(doc["openapi"]).startswith("3.0"):
        _convert_30(doc)
    for ref in outside_refs(doc):
        raise SpecProblem(
            "LP710",
            f"{source} refers to another file ('{ref}'), which leadpost does not follow",
            "copy the definitions it needs into the document under components",
        )
    ops = _operations(doc)
    if operation not in ops:
        raise SpecProblem(
            "LP711",
            f"{source} has no operation with operationId '{operation}'",
            hint_for(operation, ops) or "its operations are: " + (", ".join(ops) or "none"),
            at="operation",
        )
    where, op, item = ops[operation]
    if shape.format == "xml":
        raise SpecProblem(
            "LP713",
            "an OpenAPI spec is checked for JSON and form payloads; this stage sends XML",
            "name the buyer's XML Schema instead: spec: {xsd: FILE, element: NAME}",
        )
    if shape.format == "query":
        schema = _query_schema(doc, op, item)
        if schema is None:
            raise SpecProblem(
                "LP712", f"operation '{operation}' takes no query parameters", at="operation"
            )
        ids = pointers(doc)
        root: dict[str, Any] = {**doc, **schema}
    else:
        body = op.get("requestBody")
        if isinstance(body, dict) and isinstance(body.get("$ref"), str):
            body = resolve(doc, body["$ref"])
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or not content:
            raise SpecProblem(
                "LP712", f"operation '{operation}' takes no request body", at="operation"
            )
        media = _media(content, shape)
        schema = content[media].get("schema") if media is not None else None
        if not isinstance(schema, dict):
            listed = ", ".join(map(str, content)) or "none"
            raise SpecProblem(
                "LP712",
                f"operation '{operation}' has no {_MEDIA[shape.format][0]} request body "
                f"(it takes: {listed})",
                "check the stage's format, or name the operation that takes this format",
                at="operation",
            )
        ids = pointers(doc)
        root = {**doc, "$ref": "#" + ids.get(id(schema), where)}
    _check(schema, doc, source)
    props, closed = flatten(doc, schema, source, ids)
    return BuyerSpec(
        source, "openapi", props, closed, json_validator(root, ids, source, shape, props)
    )


def _check(schema: Any, doc: Any, source: str) -> None:
    components = doc.get("components", {}).get("schemas", {}) if isinstance(doc, dict) else {}
    named = components.items() if isinstance(components, dict) else []
    for name, sub in [("request body", schema), *named]:
        try:
            Draft202012Validator.check_schema(sub)
        except SchemaError as exc:
            at = "/".join(str(p) for p in exc.path)
            raise SpecProblem(
                "LP710",
                f"the {name} schema in {source} is not valid JSON Schema: {exc.message}"
                + (f" (at {at})" if at else ""),
            ) from None

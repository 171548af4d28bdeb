"""Read the spec a stage names (``spec: {json_schema | openapi | xsd: FILE}``) into a BuyerSpec.

The file is resolved against the buyer file's folder and read once; every problem (missing
file, not JSON/YAML/XML, not a valid schema, unknown operation or element) becomes an
AuthoringError whose Issue points at the ``spec:`` key, or at its ``operation``/``element``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import SchemaError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from engine.contract.jsonspec import flatten, json_validator, outside_refs, pointers
from engine.contract.model import BuyerSpec, SpecKind
from engine.contract.openapi import openapi_spec
from engine.contract.paths import PayloadShape
from engine.contract.problems import SpecProblem
from engine.contract.xsd import load_xsd, xsd_spec
from engine.dsl import models as m
from engine.errors import AuthoringError, Issue
from engine.files import MAX_SPEC_BYTES, outside_project, project_folder, regular_file
from engine.loading import display_name
from engine.positions import Span

#: Spec files larger than this are refused (a real buyer spec is a few hundred kilobytes).
MAX_BYTES = MAX_SPEC_BYTES


def spec_file(ref: m.ContractSpec, base_dir: Path) -> tuple[SpecKind, str, Path]:
    """(kind, the path as written, the resolved path) of a ``spec:`` section."""
    kind: SpecKind
    if ref.json_schema is not None:
        kind, written = "json_schema", ref.json_schema
    elif ref.openapi is not None:
        kind, written = "openapi", ref.openapi
    else:
        kind, written = "xsd", ref.xsd or ""
    return kind, written, base_dir / written


def _read(written: str, file: Path, shown: str) -> bytes:
    try:
        regular_file(file)
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SpecProblem(
            "LP701",
            f"the spec file '{written}' does not exist (looked for {shown})",
            "paths are relative to the folder of the buyer file",
        ) from None
    except OSError as exc:
        reason = exc.strerror or "it could not be opened"
        raise SpecProblem("LP701", f"cannot read the spec file '{written}': {reason}") from None
    if len(data) > MAX_BYTES:
        raise SpecProblem("LP701", f"the spec file '{written}' is larger than 5 MB")
    return data


def parse_document(data: bytes, shown: str) -> Any:
    """A JSON or YAML document (YAML is a superset of JSON: JSON is tried first)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecProblem("LP701", f"{shown} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if shown.endswith(".json") or text.lstrip()[:1] in ("{", "["):  # meant as JSON
            msg = exc.msg[:1].lower() + exc.msg[1:]  # worded as for a lead that is not JSON
            where = f"{msg} at line {exc.lineno}, column {exc.colno}"
            raise SpecProblem("LP701", f"{shown} is not valid JSON: {where}") from None
    except (ValueError, RecursionError):
        pass
    try:
        return YAML(typ="safe", pure=True).load(text)
    except (YAMLError, RecursionError, ValueError) as exc:
        raise SpecProblem("LP701", f"{shown} is not valid YAML{_yaml_problem(exc)}") from None


def _yaml_problem(exc: Exception) -> str:
    """``: could not find expected ':' at line 3, column 5`` (where ruamel says it)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["it cannot be read"])[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f": {problem}{where}"


def _json_schema(doc: Any, shown: str, shape: PayloadShape) -> BuyerSpec:
    if not isinstance(doc, dict):
        raise SpecProblem("LP710", f"{shown} is not a JSON Schema: it should be an object")
    if shape.format == "xml":
        raise SpecProblem(
            "LP713",
            "a JSON Schema is checked for JSON and form payloads; this stage sends XML",
            "name the buyer's XML Schema instead: spec: {xsd: FILE, element: NAME}",
        )
    cls = validators.validator_for(doc, default=validators.Draft202012Validator)
    try:
        cls.check_schema(doc)
    except SchemaError as exc:
        at = "/".join(str(p) for p in exc.path)
        raise SpecProblem(
            "LP710",
            f"{shown} is not a valid JSON Schema: {exc.message}" + (f" (at {at})" if at else ""),
        ) from None
    for ref in outside_refs(doc):
        raise SpecProblem(
            "LP710",
            f"{shown} refers to another file ('{ref}'), which leadpost does not follow",
            "copy the definitions it needs into the schema under $defs",
        )
    ids = pointers(doc)
    props, closed = flatten(doc, doc, shown, ids)
    return BuyerSpec(
        shown, "json_schema", props, closed, json_validator(doc, ids, shown, shape, props)
    )


def read_spec(ref: m.ContractSpec, base_dir: Path, shape: PayloadShape) -> BuyerSpec:
    """The BuyerSpec of one stage; SpecProblem when the spec cannot be used."""
    kind, written, file = spec_file(ref, base_dir)
    outside = outside_project(file, project_folder(base_dir))
    if outside is not None:
        raise SpecProblem("LP701", f"the spec file '{written}' cannot be read: {outside}")
    shown = display_name(file.resolve())
    data = _read(written, file, shown)
    if kind == "xsd":
        if shape.format != "xml":
            raise SpecProblem(
                "LP713",
                f"an XML Schema describes XML payloads; this stage sends {shape.format}",
                "name the buyer's JSON Schema or OpenAPI document instead",
            )
        return xsd_spec(load_xsd(data, file, shown), shown, ref.element or shape.element, shape)
    doc = parse_document(data, shown)
    if kind == "openapi":
        return openapi_spec(doc, shown, ref.operation or "", shape)
    return _json_schema(doc, shown, shape)


def load_spec(
    ref: m.ContractSpec,
    base_dir: Path,
    shape: PayloadShape,
    span: Span,
    spans: Mapping[str, Span] | None = None,
) -> BuyerSpec:
    """The BuyerSpec of one stage; AuthoringError with one Issue at ``span`` (the ``spec:`` key)
    or at ``spans[key]`` (the ``operation`` or ``element`` value) when it cannot be used."""
    try:
        return read_spec(ref, base_dir, shape)
    except SpecProblem as problem:
        where = (spans or {}).get(problem.at or "", span)
        raise AuthoringError([Issue(problem.code, problem.message, where, problem.hint)]) from None

"""Read a lead file: parse, validate against the lead schema, and point every problem at its line.

A lead is JSON, which is also YAML, so the YAML loader that keeps a position for every node
finds where each field was written: a problem in ``lead.email`` is reported at the line and
column of that value (a missing field at the object that should hold it).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.dsl.loader import SourceMap, load_yaml_text
from engine.errors import AuthoringError, Issue, LeadError, LeadpostError
from engine.files import MAX_LEAD_BYTES, read_limited
from engine.lead import LeadSchema, lead_timestamp, parse_lead_json, validate_lead
from engine.positions import Span

_FIELD = re.compile(r"^([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*): ")
_JSON_AT = re.compile(r"line (\d+), column (\d+)")


def lead_from_text(
    text: str | bytes, schema: LeadSchema | None, file: str = "the lead"
) -> tuple[dict[str, Any], datetime]:
    """The normalized lead and its timestamp; LeadError whose issues carry ``file:line:col``."""
    try:
        raw = parse_lead_json(text)
        lead = validate_lead(schema, raw) if schema is not None else raw
        return lead, lead_timestamp(lead)
    except LeadError as exc:
        raise LeadError(locate(exc.issues, text, file)) from None


def read_lead_file(path: str | Path, schema: LeadSchema | None) -> tuple[dict[str, Any], datetime]:
    """Read and validate the lead in ``path``; LeadpostError when it cannot be read."""
    try:
        text = read_limited(path, MAX_LEAD_BYTES)
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise LeadpostError(f"cannot read the lead file {path}: {why}") from None
    return lead_from_text(text, schema, str(path))


def locate(issues: list[Issue], text: str | bytes, file: str) -> list[Issue]:
    """The issues with a span in ``file``: where the field is written, or the JSON error is."""
    source = _source(text, file)
    located = []
    for issue in issues:
        span = _span(issue, source, file)
        located.append(dataclasses.replace(issue, span=span) if span else issue)
    return located


def _source(text: str | bytes, file: str) -> SourceMap | None:
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        return load_yaml_text(decoded, file).source
    except (AuthoringError, UnicodeDecodeError):
        return None  # not readable as JSON/YAML: positions come from the JSON error, if any


def _span(issue: Issue, source: SourceMap | None, file: str) -> Span | None:
    if issue.code == "LP512":
        at = _JSON_AT.search(issue.message)
        return Span(file, int(at.group(1)), int(at.group(2))) if at else Span(file, 1, 1)
    field = _FIELD.match(issue.message)
    if source is None:
        return Span(file, 1, 1)
    return source.at(tuple(field.group(1).split("."))) if field else source.at(())

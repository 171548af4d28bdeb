"""The conventions every ``--format json`` report shares: the envelope, problems, the text.

One JSON object on standard output, starting with ``leadpost`` (the version), ``command``,
``format_version`` and ``ok`` (what the exit code says); snake_case keys; positions 1-based;
absent values ``null``, never left out; money as text (``"12.50"``); times in milliseconds.
dsl-spec.md ("Output for scripts") documents them for every command, the ones to come included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.errors import CODES, Issue
from engine.version import leadpost_version

#: Raised when a report's shape changes in a way a program reading it would notice.
FORMAT_VERSION = 1


def envelope(command: str, ok: bool, **fields: Any) -> dict[str, Any]:
    """The keys every JSON report starts with."""
    return {
        "leadpost": leadpost_version(),
        "command": command,
        "format_version": FORMAT_VERSION,
        "ok": ok,
        **fields,
    }


def problem(issue: Issue) -> dict[str, Any]:
    """One problem: code, its title, severity, message, hint and where (null when unknown)."""
    span = issue.span
    return {
        "code": issue.code,
        "title": CODES.get(issue.code, ""),
        "severity": issue.severity,
        "message": issue.message,
        "hint": issue.hint,
        "file": span.file if span else None,
        "line": span.line if span else None,
        "column": span.col if span else None,
    }


def dumps(document: Mapping[str, Any]) -> str:
    """Indented JSON, UTF-8 characters as themselves."""
    return json.dumps(document, indent=2, ensure_ascii=False)

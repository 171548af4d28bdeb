"""A buyer file's verdict against its buyers' specs, kept between lint runs while nothing changes.

Reading the specs and rendering a hundred generated leads per stage to validate against them is
most of ``leadpost lint``'s time, and the answer depends only on the file and its specs. The
verdict (the contract issues found, often none) is stored in the user's cache folder under a
key hashing everything it depends on: the buyer file's text (so positions stay true), the bytes
of each spec file its stages name, the lead schema file's text, how many leads are tried, and
the versions of leadpost and Hypothesis. Change any of them and the file is checked again. Files
a spec pulls in itself (an XSD's includes) are not part of the key: after editing only those,
run ``leadpost lint --no-cache``.

A cache that cannot be read or written is ignored: lint then checks as if there were none.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import Issue
from engine.positions import Span

#: Bumped when the stored form changes.
_FORMAT = 1


def verdict_key(
    *,
    buyer_text: str,
    buyer_name: str,
    specs: Sequence[Path],
    schema: Path | None,
    examples: int,
    versions: Sequence[str],
) -> str | None:
    """The cache key of a buyer file's verdict, or None when a file it depends on cannot be
    read (the check then runs and reports it)."""
    digest = hashlib.sha256()
    try:
        parts: list[bytes] = [
            f"{_FORMAT}\0{buyer_name}\0{examples}\0{'/'.join(versions)}".encode(),
            buyer_text.encode("utf-8"),
            schema.read_bytes() if schema is not None else b"",
            *(spec.read_bytes() for spec in specs),
        ]
    except OSError:
        return None
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _to_json(issue: Issue) -> dict[str, Any]:
    span = issue.span
    return {
        "code": issue.code,
        "message": issue.message,
        "span": [span.file, span.line, span.col] if span else None,
        "hint": issue.hint,
        "severity": issue.severity,
    }


def _from_json(data: dict[str, Any]) -> Issue:
    span = data["span"]
    return Issue(
        data["code"],
        data["message"],
        Span(span[0], span[1], span[2]) if span else None,
        data["hint"],
        data["severity"],
    )


def recall(folder: Path, key: str) -> list[Issue] | None:
    """The stored verdict under ``key``, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        return [_from_json(item) for item in data]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def remember(folder: Path, key: str, issues: Sequence[Issue]) -> None:
    """Store a verdict under ``key`` (written whole or not at all; failures are ignored)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump([_to_json(i) for i in issues], out)
        Path(temp).replace(folder / f"{key}.json")
    except OSError:
        return

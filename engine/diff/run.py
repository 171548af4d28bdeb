"""Comparing two versions: every file of BASE and HEAD through the semantic and payload diffs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.diff.changes import DiffReport
from engine.diff.files import diff_pair
from engine.diff.sources import SourceError, open_sources


def diff_command(
    base: str,
    head: str,
    paths: Sequence[str] | None = None,
    *,
    leads: Sequence[str | Path] | None = None,
    cwd: str | Path | None = None,
) -> DiffReport:
    """Compare every file of BASE and HEAD. Raises SourceError when either cannot be read."""
    lead_paths = None
    if leads:
        lead_paths = [Path(p) if cwd is None else Path(cwd) / p for p in leads]
        for p in lead_paths:
            if not p.is_file():
                raise SourceError(f"cannot read the lead file {p}")
    with open_sources(base, head, paths, cwd) as sources:
        found = [diff_pair(sources.base, sources.head, key, lead_paths) for key in sources.paths()]
        files = tuple(f for f in found if f is not None)
        return DiffReport(sources.base.label, sources.head.label, files)

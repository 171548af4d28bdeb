"""``leadpost diff``: what changed between two versions of the integration files, for reviewers.

sources (where BASE and HEAD come from) → files (load and compile each side) → semantic and
campaign (plain-English changes) + payloads (rendered request diffs) → output (text, markdown,
GitHub annotations). run ties them together; engine.commands.diff is the command line.
"""

from __future__ import annotations

from engine.diff.changes import Change, DiffReport, FileDiff, PayloadDiff
from engine.diff.files import diff_pair
from engine.diff.run import diff_command
from engine.diff.sources import SourceError, open_sources

__all__ = [
    "Change",
    "DiffReport",
    "FileDiff",
    "PayloadDiff",
    "SourceError",
    "diff_command",
    "diff_pair",
    "open_sources",
]

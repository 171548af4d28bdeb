"""``leadpost lint`` for campaign files: every compile problem, the buyer files' own included.

Registered in :data:`engine.authoring.lint.LINTERS` under ``campaign`` (the top-level key of
the kind).
"""

from __future__ import annotations

from pathlib import Path

from engine.campaigns.compile import compile_campaign
from engine.dsl.loader import Document
from engine.errors import Issue


def lint_campaign(doc: Document, path: Path) -> list[Issue]:
    """Problems of a loaded campaign file: its own first, in file order, then its buyers'."""
    _, issues = compile_campaign(doc, path)
    return list(dict.fromkeys(issues))

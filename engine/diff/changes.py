"""The result of ``leadpost diff``: changes per file, rendered payload diffs, the exit status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from engine.dsl.loader import SourceMap, YamlPath
from engine.errors import Issue

#: added / removed: the file exists on one side only; changed: behavioural changes; other:
#: only tests, descriptions, names or versions changed; formatting: nothing behavioural (comments,
#: layout, key order); broken: does not compile on one side; plain: not a buyer or campaign file.
Status = Literal["added", "removed", "changed", "other", "formatting", "broken", "plain"]

EXIT_SAME, EXIT_CHANGED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Change:
    """One change in plain English, in an area of the file, at a line of the HEAD file."""

    area: str
    text: str
    line: int | None = None
    behavioural: bool = True


@dataclass(frozen=True, slots=True)
class PayloadDiff:
    """How one stage's request for one lead differs: a unified diff, or one sentence."""

    stage: str
    lead: str
    text: str
    line: int | None = None
    is_diff: bool = True


@dataclass(frozen=True, slots=True)
class FileDiff:
    """Everything ``leadpost diff`` says about one file present in BASE, HEAD or both."""

    file: str
    """The file's name as shown (the HEAD side's, or BASE's for a removed file)."""
    kind: str | None
    status: Status
    summary: str = ""
    """One line about the file: 'buyer harbor-mutual', 'new campaign home-auction', …"""
    changes: tuple[Change, ...] = ()
    payloads: tuple[PayloadDiff, ...] = ()
    problems: tuple[Issue, ...] = ()
    """Errors that keep the file from compiling (status broken)."""
    broken_side: str = ""

    @property
    def behavioural(self) -> bool:
        """True when the file changes what leadpost does (or can no longer be checked)."""
        return self.status in ("added", "removed", "changed", "broken", "plain")


@dataclass(frozen=True, slots=True)
class DiffReport:
    base: str
    head: str
    files: tuple[FileDiff, ...]

    @property
    def exit_code(self) -> int:
        """0 when nothing behavioural changed, else 1."""
        return EXIT_CHANGED if any(f.behavioural for f in self.files) else EXIT_SAME


def line_of(source: SourceMap | None, path: YamlPath) -> int | None:
    """The line where ``path`` (else its nearest written ancestor) is in the file, if anywhere."""
    if source is None:
        return None
    for end in range(len(path), 0, -1):
        part = tuple(path[:end])
        span = source.keys.get(part) or source.values.get(part)
        if span is not None:
            return span.line
    return None


class Collector:
    """Gathers changes, placing each at the HEAD line of the setting it is about."""

    def __init__(self, source: SourceMap | None) -> None:
        self.source = source
        self.changes: list[Change] = []

    def add(self, area: str, text: str, path: YamlPath = (), *, behavioural: bool = True) -> None:
        self.changes.append(Change(area, text, line_of(self.source, path), behavioural))

    def at_line(self, area: str, text: str, line: int | None, *, behavioural: bool = True) -> None:
        self.changes.append(Change(area, text, line, behavioural))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def listing(items: Sequence[object]) -> str:
    return ", ".join(str(i) for i in items) if items else "none"

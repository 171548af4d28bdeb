"""Source positions: ``file:line:col`` spans and the line-with-a-caret excerpt under an error."""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based line and column in a named file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def excerpt(self, source: str) -> str:
        """The source line this span points at, with a caret under the column."""
        lines = _lines(source)
        if not 1 <= self.line <= len(lines):
            return ""
        text = lines[self.line - 1].replace("\t", " ")
        gutter = f"{self.line:>4} | "
        return f"{gutter}{text}\n{' ' * len(gutter)}{' ' * (self.col - 1)}^"


@functools.lru_cache(maxsize=4)
def _lines(source: str) -> tuple[str, ...]:
    """The lines of a file's text, split once for all of its problems (a file with thousands of
    problems would otherwise be split thousands of times)."""
    return tuple(source.splitlines())

"""The preflight report: a header, one line per checklist item, a summary; as text or Markdown."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from engine.preflight.checks import Item, Status

MARKS: dict[Status, str] = {"pass": "✓", "fail": "✗", "skip": "–", "info": "•"}
#: Names longer than this push their detail to the right instead of widening every line.
NAME_WIDTH = 20
_WORDS: dict[Status, str] = {
    "pass": "passed",
    "fail": "failed",
    "skip": "not applicable",
    "info": "for information",
}


@dataclass(frozen=True, slots=True)
class Report:
    """What ``leadpost preflight`` found for one buyer file in one environment."""

    buyer: str
    name: str
    file: str
    env: str
    url: str
    date: datetime
    version: str
    items: tuple[Item, ...]

    @property
    def failed(self) -> bool:
        return any(i.status == "fail" for i in self.items)

    def summary(self) -> str:
        """``9 passed, 1 failed, 2 not applicable, 5 for information: …``."""
        counts = Counter(i.status for i in self.items)
        parts = [f"{counts[s]} {_WORDS[s]}" for s in MARKS if counts[s] or s in ("pass", "fail")]
        verdict = "fix the failures before going live" if self.failed else "ready to go live"
        return f"{', '.join(parts)}: {verdict}"

    def header(self) -> list[tuple[str, str]]:
        return [
            ("buyer", f"{self.buyer} ({self.name})"),
            ("file", self.file),
            ("environment", f"{self.env} at {self.url}"),
            ("date", self.date.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
            ("leadpost", self.version),
        ]


def format_text(report: Report) -> str:
    """For the terminal: the header, then ``✓ name  detail`` lines, notes indented."""
    lines = [f"leadpost preflight: {report.buyer}, environment {report.env}"]
    lines += [f"  {label + ':':<13}{value}" for label, value in report.header()]
    lines.append("")
    width = min(max((len(i.name) for i in report.items), default=0), NAME_WIDTH)
    for item in report.items:
        lines.append(f"{MARKS[item.status]} {item.name:<{width}}  {item.detail}".rstrip())
        lines += [f"      {note}".rstrip() for note in item.notes]
    lines += ["", report.summary()]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def format_markdown(report: Report) -> str:
    """For the pull request: a header table, one list line per item (notes in a code block
    under it), and the summary."""
    lines = [
        f"# Preflight: {_cell(report.name)} (`{report.buyer}`), environment `{report.env}`",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {label} | {_cell(value)} |" for label, value in report.header()]
    lines += ["", "## Checklist", ""]
    for item in report.items:
        lines.append(f"- {MARKS[item.status]} **{item.name}** — {item.detail}")
        if item.notes:
            lines += ["", "  ```text", *(f"  {note}".rstrip() for note in item.notes), "  ```", ""]
    lines += ["", f"**Summary:** {report.summary()}"]
    return "\n".join(lines) + "\n"

"""``leadpost diff`` output: text for a terminal, markdown for a PR comment, GitHub annotations,
JSON for scripts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from engine.authoring.jsonout import dumps, envelope, problem
from engine.authoring.lint import github_line
from engine.diff.changes import EXIT_SAME, Change, DiffReport, FileDiff, PayloadDiff, plural
from engine.errors import Issue

Style = Literal["text", "markdown", "github", "json"]
FORMATTING_ONLY = "no behavioural change (comments, formatting or key order only)"
#: Payload diffs longer than this many lines fold into <details> in markdown.
FOLD_LINES = 12


def summary(report: DiffReport) -> str:
    """``3 integration files changed: 2 behavioural changes, 1 formatting only``."""
    files = report.files
    if not files:
        return "no integration files changed"
    counts = [
        (sum(f.status in ("changed", "added", "removed") for f in files), "behavioural change"),
        (sum(f.status == "other" for f in files), "tests or descriptions only"),
        (sum(f.status == "formatting" for f in files), "formatting only"),
        (sum(f.status == "broken" for f in files), "does not compile"),
        (sum(f.status == "plain" for f in files), "not a buyer or campaign file"),
    ]
    parts = []
    for n, label in counts:
        if n:
            if label == "behavioural change":
                parts.append(plural(n, label))
            elif label == "does not compile":
                parts.append(f"{n} {'does' if n == 1 else 'do'} not compile")
            else:
                parts.append(f"{n} {label}")
    head = plural(len(files), "integration file") + " changed"
    return f"{head}: {', '.join(parts)}"


def _headline(f: FileDiff) -> str:
    if f.status == "formatting":
        return f"{f.summary}: {FORMATTING_ONLY}" if f.summary else FORMATTING_ONLY
    if f.status == "other":
        return f"{f.summary}: no behavioural change; other changes:"
    return f.summary


def _areas(changes: tuple[Change, ...]) -> dict[str, list[Change]]:
    grouped: dict[str, list[Change]] = {}
    for c in changes:
        grouped.setdefault(c.area, []).append(c)
    return {
        area: sorted(found, key=lambda c: c.line if c.line is not None else 1 << 30)
        for area, found in grouped.items()
    }


def _brief(issue: Issue) -> str:
    where = f"{issue.span.file}:{issue.span.line}:{issue.span.col}: " if issue.span else ""
    return f"{where}{issue.code} {issue.message.splitlines()[0]}"


def _payload_title(p: PayloadDiff) -> str:
    return f"{p.stage} {'request' if p.lead == 'request line and headers' else 'payload'}, {p.lead}"


# -- text --------------------------------------------------------------------------------------


def _text_file(f: FileDiff) -> Iterator[str]:
    yield f"{f.file} — {_headline(f)}"
    for issue in f.problems:
        yield f"    {_brief(issue)}"
    for area, changes in _areas(f.changes).items():
        yield f"  {area}"
        for c in changes:
            yield f"    {c.text}" + (f"  ({f.file}:{c.line})" if c.line else "")
    for p in f.payloads:
        if p.is_diff:
            yield f"  {_payload_title(p)}"
            yield from (f"    {line}" for line in p.text.splitlines())
        else:
            yield f"  {_payload_title(p)}: {p.text}"


def format_text(report: DiffReport) -> str:
    lines = [f"leadpost diff {report.base} → {report.head}", summary(report)]
    for f in report.files:
        lines += ["", *_text_file(f)]
    return "\n".join(lines)


# -- markdown ----------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _fence(text: str) -> list[str]:
    ticks = "````" if "```" in text else "```"
    return [f"{ticks}diff", text, ticks]


def _md_file(f: FileDiff) -> Iterator[str]:
    name = f.file.rsplit("/", 1)[-1]
    if f.status == "changed" and f.summary:
        yield f"### `{f.file}` ({_md(f.summary)})"
        yield ""
    else:
        yield f"### `{f.file}`"
        yield ""
        yield _md(_headline(f))
        yield ""
    if f.problems:
        yield from (f"- `{_brief(i)}`" for i in f.problems)
        yield ""
    for area, changes in _areas(f.changes).items():
        yield f"**{_md(area)}**"
        yield ""
        for c in changes:
            yield f"- {_md(c.text)}" + (f" (`{name}:{c.line}`)" if c.line else "")
        yield ""
    for p in f.payloads:
        title = _md(_payload_title(p))
        if not p.is_diff:
            yield f"- **{title}**: {_md(p.text)}"
            yield ""
        elif len(p.text.splitlines()) > FOLD_LINES:
            lines = len(p.text.splitlines())
            yield f"<details><summary>{title} ({lines} lines of diff)</summary>"
            yield ""
            yield from _fence(p.text)
            yield ""
            yield "</details>"
            yield ""
        else:
            yield f"**{title}**"
            yield ""
            yield from _fence(p.text)
            yield ""


def format_markdown(report: DiffReport) -> str:
    lines = [f"## leadpost diff: `{report.base}` → `{report.head}`", "", summary(report), ""]
    for f in report.files:
        lines += list(_md_file(f))
    return "\n".join(lines).rstrip("\n")


# -- GitHub annotations ------------------------------------------------------------------------


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _notice(file: str, line: int | None, title: str, message: str) -> str:
    where = f"file={_escape(file, prop=True)}," + (f"line={line}," if line else "")
    return f"::notice {where}title={_escape(title, prop=True)}::{_escape(message)}"


def _github_file(f: FileDiff) -> Iterator[str]:
    if f.problems:
        yield from (github_line(i) for i in f.problems)
        return
    if not f.changes and not f.payloads:
        yield _notice(f.file, None, "leadpost diff", _headline(f))
    for c in f.changes:
        yield _notice(f.file, c.line, f"leadpost diff: {c.area}", c.text)
    for p in f.payloads:
        yield _notice(f.file, p.line, f"leadpost diff: {_payload_title(p)}", p.text)


def format_github(report: DiffReport) -> str:
    lines = [line for f in report.files for line in _github_file(f)]
    return "\n".join([*lines, summary(report)])


# -- JSON --------------------------------------------------------------------------------------


def diff_json(report: DiffReport) -> dict[str, Any]:
    """``leadpost diff --format json``: every file with its changes, payload diffs and problems;
    ``ok`` is true when nothing behavioural changed (exit 0)."""
    files = [
        {
            "file": f.file,
            "kind": f.kind,
            "status": f.status,
            "behavioural": f.behavioural,
            "summary": f.summary,
            "changes": [
                {"area": c.area, "text": c.text, "line": c.line, "behavioural": c.behavioural}
                for c in f.changes
            ],
            "payloads": [
                {
                    "stage": p.stage,
                    "lead": p.lead,
                    "text": p.text,
                    "line": p.line,
                    "diff": p.is_diff,
                }
                for p in f.payloads
            ],
            "problems": [problem(i) for i in f.problems],
        }
        for f in report.files
    ]
    ok = report.exit_code == EXIT_SAME
    return envelope(
        "diff", ok, base=report.base, head=report.head, summary=summary(report), files=files
    )


def _payload_json(p: PayloadDiff) -> dict[str, Any]:
    return {"stage": p.stage, "lead": p.lead, "text": p.text, "line": p.line, "diff": p.is_diff}


def format_report(report: DiffReport, style: Style = "text") -> str:
    """The report in the chosen style."""
    if style == "json":
        return dumps(diff_json(report))
    if style == "markdown":
        return format_markdown(report)
    if style == "github":
        return format_github(report)
    return format_text(report)

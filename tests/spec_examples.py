"""Find the executable examples in dsl-spec.md: fields, whole integrations, invalid files."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.paths import REPO

ROOT = REPO
SPEC = ROOT / "dsl-spec.md"

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
KINDS = (
    "yaml fields",
    "yaml integration",
    "yaml invalid",
    "yaml campaign",
    "yaml part",
    "yaml lead-schema",
    "json lead",
)


@dataclass(frozen=True)
class Example:
    kind: str
    """fields, integration, invalid, campaign, part (a few keys of a file), lead-schema,
    invalid-lead-schema, or lead (a lead and, as ``output``, its normalized form)."""
    line: int
    text: str
    output: str | None = None
    lead_patch: str | None = None
    code: str | None = None
    """For invalid examples: the problem code that must be reported."""

    @property
    def id(self) -> str:
        return f"{self.kind}@dsl-spec.md:{self.line}"


def examples(text: str | None = None) -> list[Example]:
    """Every example block, with a fields block's lead patch and expected output attached."""
    source = SPEC.read_text(encoding="utf-8") if text is None else text
    found: list[Example] = []
    patch: str | None = None
    pending: Example | None = None
    for m in _FENCE.finditer(source):
        info, body = m.group(1).strip(), m.group(2)
        line = source.count("\n", 0, m.start()) + 2
        if info == "json lead-patch":
            patch = body
            continue
        if info == "json normalized":
            if pending is None or pending.kind != "lead":
                raise ValueError(f"dsl-spec.md:{line}: a json normalized block needs a json lead")
            found.append(Example("lead", pending.line, pending.text, body))
            pending = None
            continue
        if pending is not None and pending.kind == "lead":
            raise ValueError(f"dsl-spec.md:{pending.line}: json lead block without json normalized")
        if info == "json output":
            if pending is None:
                raise ValueError(
                    f"dsl-spec.md:{line}: a json output block needs a yaml fields block"
                )
            found.append(Example("fields", pending.line, pending.text, body, pending.lead_patch))
            pending = None
            continue
        if pending is not None:
            raise ValueError(f"dsl-spec.md:{pending.line}: yaml fields block without json output")
        if info == "yaml fields":
            pending = Example("fields", line, body, lead_patch=patch)
        elif info == "yaml integration":
            found.append(Example("integration", line, body))
        elif info == "json lead":
            pending = Example("lead", line, body)
        elif info == "yaml lead-schema":
            found.append(Example("lead-schema", line, body))
        elif info.startswith("yaml invalid-lead-schema"):
            code = info.removeprefix("yaml invalid-lead-schema").strip()
            found.append(Example("invalid-lead-schema", line, body, code=code))
        elif info.startswith("yaml invalid"):
            code = info.removeprefix("yaml invalid").strip()
            found.append(Example("invalid", line, body, code=code))
        elif info == "yaml campaign":
            found.append(Example("campaign", line, body))
        elif info == "yaml part":
            found.append(Example("part", line, body))
        patch = None
    if pending is not None:
        raise ValueError(f"dsl-spec.md:{pending.line}: yaml fields block without json output")
    return found


def wrap_fields(snippet: str) -> str:
    """A minimal buyer file whose post stage has the snippet as its fields (JSON format)."""
    body = "\n".join("      " + line if line.strip() else "" for line in snippet.splitlines())
    return (
        "buyer: spec-example\nname: Spec example\nversion: '1'\n"
        "environments:\n  test:\n    url: http://127.0.0.1:9/spec\n"
        "stages:\n  post:\n    fields:\n" + body + "\n"
        "    response:\n      rules:\n        - outcome: accepted\n"
    )

"""What every key of every file means, in one line: read from dsl-spec.md's cheat sheet.

dsl-spec.md marks each table of keys with the models it describes (``<!-- keys: RetrySpec -->``
before the table). :func:`parse` reads those tables; the result is kept in
``engine/schemas/key-docs.json`` (package data, so an installed leadpost has it) and the editor
schemas take every description from it. Refresh it after editing a table::

    scripts/key-docs

A test fails when the file and dsl-spec.md disagree, or when a key has no line.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path

#: model name -> key -> its one line (markdown, as written in dsl-spec.md).
KeyDocs = dict[str, dict[str, str]]

_TAG = re.compile(r"^<!-- keys: ([A-Za-z0-9_ ]+) -->[ \t]*$", re.MULTILINE)
_KEY = re.compile(r"^`([^`]+)`$")
FILE = "key-docs.json"


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text: str) -> KeyDocs:
    """Every tagged table of ``text``: for each model named in a tag, its keys' lines."""
    docs: KeyDocs = {}
    for tag in _TAG.finditer(text):
        models = tag.group(1).split()
        rows = text[tag.end() :].lstrip("\n").splitlines()
        for line in rows[2:]:  # the header and the |---| line
            if not line.startswith("|"):
                break
            cells = _cells(line)
            m = _KEY.match(cells[0])
            if m is None or len(cells) < 2:
                continue
            for model in models:
                docs.setdefault(model, {})[m.group(1)] = cells[-1]
    return docs


@cache
def key_docs() -> KeyDocs:
    """The descriptions shipped with leadpost (``engine/schemas/key-docs.json``)."""
    text = (resources.files("engine") / "schemas" / FILE).read_text(encoding="utf-8")
    loaded: KeyDocs = json.loads(text)
    return loaded


def plain(markdown: str) -> str:
    """A line without markdown: backquotes and link targets dropped."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown)
    return text.replace("`", "")


def render(docs: KeyDocs) -> str:
    """The JSON file's text."""
    return json.dumps(docs, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_key_docs(spec: Path) -> Path:
    """Write ``engine/schemas/key-docs.json`` of this checkout from the dsl-spec.md given."""
    target = Path(__file__).resolve().parents[1] / "schemas" / FILE
    target.write_text(render(parse(spec.read_text(encoding="utf-8"))), encoding="utf-8")
    return target

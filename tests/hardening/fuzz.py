"""The fuzzer's parts, shared by the short run in the suite and ``scripts/fuzz`` (the long run).

Structure-aware: an example buyer or campaign file is loaded, changed in one to four places
(a key or item deleted, duplicated, given a value of another type, nested deeper, or a text given
hostile characters), written back as YAML, sometimes with raw bytes spliced into the text, and
linted in-process. Leads are mutated the same way and rendered for an example buyer. A
*finding* is an exception other than leadpost's own errors, or a problem reported without a
position.
"""

from __future__ import annotations

import io
import json
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

from engine.authoring.explain import render_preview
from engine.authoring.lint import LintOptions, lint_file
from engine.errors import LeadpostError
from engine.lead import LeadSchema
from engine.loading import load_integration
from engine.plan import IntegrationPlan
from tests.paths import INTEGRATIONS

BUYERS = sorted((INTEGRATIONS / "buyers").glob("*.yaml"))
CAMPAIGNS = sorted((INTEGRATIONS / "campaigns").glob("*.yaml"))
SEED_FILES = [*BUYERS, *CAMPAIGNS]
SEED_LEADS = sorted((INTEGRATIONS / "leads").glob("sample*.json"))

#: Text values that have broken parsers, encoders and messages elsewhere.
HOSTILE = [
    "",
    " ",
    "a\r\nX-Injected: 1",
    "\u202e\u200b\ufeff",
    "😀" * 3,
    "'\"<>&{}[]$",
    "${env:",
    "${env:NOPE}",
    "{{ 7*7 }}",
    "(a+)+$",
    "a(?=b)",
    "\\1",
    "[",
    "(" * 60,
    "https://[::1",
    "https://0x7f000001/",
    "https://user:pass@host/",
    "lead.",
    "lead..x",
    "@",
    "-1",
    "1e309",
    "NaN",
    "x" * 5000,
    "../../../../etc/passwd",
    "/dev/zero",
]
SCALARS: list[Any] = [None, True, False, 0, -1, 10**30, 1.5, float("inf"), *HOSTILE]
RAW_BYTES = [
    b"\x00",
    b"\t",
    b"\xff",
    b"\xef\xbb\xbf",
    b"&a",
    b"*a",
    b"!!python/object:os.system",
    b"<<: ",
    b"---\n",
    b"{",
    b"[",
    b"'",
    b'"',
    b": ",
    b"\n  - ",
    b"%YAML 1.1\n",
    b"\r",
]


def _yaml() -> YAML:
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.allow_unicode = True
    return y


def load_seed(path: Path) -> Any:
    return _yaml().load(path.read_text(encoding="utf-8"))


def dump(data: Any) -> str:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    return buffer.getvalue()


Path_ = tuple[str | int, ...]


def paths(node: Any, at: Path_ = ()) -> list[Path_]:
    """Every place in a loaded document (the root included)."""
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*at, i))
    return found


def _get(node: Any, at: Path_) -> Any:
    for part in at:
        node = node[part]
    return node


def _set(root: Any, at: Path_, value: Any) -> Any:
    if not at:
        return value
    _get(root, at[:-1])[at[-1]] = value
    return root


Draw = Callable[[st.SearchStrategy[Any]], Any]
OPERATIONS = ("delete", "duplicate", "retype", "deepen", "inject", "rename")


def mutate(draw: Draw, data: Any) -> Any:
    """One structural change at a place drawn from the document."""
    places = paths(data)
    at = draw(st.sampled_from(places))
    op = draw(st.sampled_from(OPERATIONS))
    node = _get(data, at)
    parent = _get(data, at[:-1]) if at else None
    if op == "delete" and at:
        del parent[at[-1]]  # type: ignore[union-attr]
        return data
    if op == "duplicate" and at:
        if isinstance(parent, list):
            parent.insert(int(at[-1]), json.loads(json.dumps(node, default=str)))
        elif isinstance(parent, dict):
            parent[f"{at[-1]}_copy"] = node
        return data
    if op == "rename" and at and isinstance(parent, dict):
        parent[draw(st.sampled_from(HOSTILE[:14]))] = parent.pop(at[-1])
        return data
    if op == "deepen":
        levels = draw(st.sampled_from([1, 1, 2, 3, 5, 10, 60]))
        for _ in range(levels):
            node = draw(st.sampled_from([[node], {"x": node}]))
        return _set(data, at, node)
    if op == "inject" and isinstance(node, str):
        extra = draw(st.sampled_from(HOSTILE))
        cut = draw(st.integers(0, len(node)))
        return _set(data, at, node[:cut] + extra + node[cut:])
    choice = draw(st.sampled_from([*SCALARS, [], {}, ["a", 1], {"a": {"b": None}}]))
    return _set(data, at, choice)


@st.composite
def mutated_files(draw: Draw) -> tuple[str, bytes]:
    """(seed file name, the bytes of a mutated copy)."""
    seed = draw(st.sampled_from(SEED_FILES))
    data = load_seed(seed)
    for _ in range(draw(st.integers(1, 4))):
        data = mutate(draw, data)
    raw = dump(data).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:  # sometimes bytes spliced into the text
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.sampled_from(RAW_BYTES)) + raw[cut:]
    return seed.name, raw


@st.composite
def mutated_leads(draw: Draw) -> bytes:
    seed = draw(st.sampled_from(SEED_LEADS))
    data = json.loads(seed.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        data = mutate(draw, data)
    text = json.dumps(data, default=str, ensure_ascii=draw(st.booleans()))
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.sampled_from(RAW_BYTES)) + raw[cut:]
    return raw


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the fuzzer found: what, on which input."""

    kind: str
    detail: str
    seed: str


def project(folder: Path) -> Path:
    """A project folder like integrations/ (lead schema, leads, specs, buyers, campaigns) to
    write mutated files into, so references between files resolve as in the examples."""
    for name in ("lead-schema.yaml", "suppression.txt"):
        shutil.copy(INTEGRATIONS / name, folder / name)
    for sub in ("leads", "specs", "buyers"):
        shutil.copytree(INTEGRATIONS / sub, folder / sub, dirs_exist_ok=True)
    (folder / "campaigns").mkdir(exist_ok=True)
    return folder


def lint_one(folder: Path, seed: str, raw: bytes) -> list[Finding]:
    """Lint one mutated file written next to its seed's neighbours; the findings."""
    where = "campaigns" if (INTEGRATIONS / "campaigns" / seed).exists() else "buyers"
    path = folder / where / f"fuzzed-{seed}"
    path.write_bytes(raw)
    try:
        report = lint_file(path, LintOptions(examples=0))
    except Exception:
        keep = Path("fuzz-findings")
        keep.mkdir(exist_ok=True)
        (keep / f"traceback-{seed}").write_bytes(raw)
        return [Finding("traceback", traceback.format_exc(limit=6), seed)]
    finally:
        path.unlink()
    found = [
        Finding("unpositioned", f"{i.code} {i.message}", seed) for i in report.issues if not i.span
    ]
    return found + [
        Finding("bug reported", f"{i.code} {i.message}", seed)
        for i in report.issues
        if "bug in leadpost" in (i.hint or "")
    ]


def render_one(plan: IntegrationPlan, schema: LeadSchema | None, raw: bytes) -> list[Finding]:
    """Render one mutated lead for a buyer; the findings (refusals are not findings)."""
    try:
        request = render_preview(plan, raw, schema)
    except LeadpostError as exc:
        message = str(exc)
        if any(c in message for c in "\r\n\x00"):
            return [Finding("raw control character", message[:300], plan.buyer)]
        return []
    except Exception:
        return [Finding("traceback", traceback.format_exc(limit=6), plan.buyer)]
    del request
    return []


def example_plans() -> list[IntegrationPlan]:
    return [load_integration(p) for p in BUYERS]

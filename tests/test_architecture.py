"""The compile side stays pure and the run side sees only compiled plans (checked on imports)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.paths import ENGINE

#: Modules that turn files into plans: no network, no event loop, no database.
COMPILE_SIDE = (
    "engine.dsl",
    "engine.transforms",
    "engine.compiler",
    "engine.plan",
    "engine.lead",
    "engine.campaigns.models",
    "engine.campaigns.plan",
    "engine.campaigns.compile",
    "engine.campaigns.checks",
)
#: Modules that run plans: they never see YAML, pydantic models or the compiler.
RUN_SIDE = (
    "engine.runtime",
    "engine.runtime.retry",
    "engine.runtime.breaker",
    "engine.clock",
    "engine.runtime.render",
    "engine.auction",
    "engine.runtime.eligibility",
    "engine.store",
)

IO_LIBRARIES = (
    "httpx",
    "anyio",
    "aiohttp",
    "httpcore",
    "yarl",
    "sqlite3",
    "psycopg",
    "socket",
    "asyncio",
    "engine.runtime",
    "engine.store",
    "engine.auction",
    "engine.sandbox",
)
AUTHORING = (
    "engine.dsl",
    "engine.compiler",
    "engine.loading",
    "engine.campaigns.compile",
    "engine.campaigns.models",
    "ruamel",
    "pydantic",
)


def module_name(path: Path) -> str:
    rel = path.relative_to(ENGINE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every module imported by a file, including imports inside functions (not TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = sorted((module_name(p), p) for p in ENGINE.rglob("*.py"))


@pytest.mark.parametrize(
    "name,path", [m for m in MODULES if _within(m[0], COMPILE_SIDE)], ids=lambda v: str(v)
)
def test_compile_side_does_no_io(name: str, path: Path) -> None:
    """Compiling is pure: no HTTP client, event loop, database or run-side module."""
    bad = sorted(i for i in imports(path) if _within(i, IO_LIBRARIES))
    assert bad == [], f"{name} imports {bad}"


@pytest.mark.parametrize(
    "name,path", [m for m in MODULES if _within(m[0], RUN_SIDE)], ids=lambda v: str(v)
)
def test_run_side_sees_only_plans(name: str, path: Path) -> None:
    """The runtime never imports the DSL, the compiler or YAML/pydantic models."""
    bad = sorted(i for i in imports(path) if _within(i, AUTHORING))
    assert bad == [], f"{name} imports {bad}"


def test_every_module_opens_with_a_docstring() -> None:
    """Each module says its role in its first line."""
    missing = [name for name, p in MODULES if ast.get_docstring(ast.parse(p.read_text())) is None]
    assert missing == []


def _prints_or_exits(path: Path) -> list[str]:
    """Calls of print(), sys.exit() and uses of sys.stdout / sys.stderr in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        match node:
            case ast.Call(func=ast.Name(id="print" | "exit" | "quit" as name)):
                found.append(f"{name}() at line {node.lineno}")
            case ast.Attribute(value=ast.Name(id="sys"), attr="exit" | "stdout" | "stderr"):
                found.append(f"sys.{node.attr} at line {node.lineno}")
    return found


COMMAND_SIDE = ("engine.commands", "engine.cli")


@pytest.mark.parametrize(
    "name,path", [m for m in MODULES if not _within(m[0], COMMAND_SIDE)], ids=lambda v: str(v)
)
def test_only_commands_print(name: str, path: Path) -> None:
    """Everything below the commands returns data or text; only engine.commands prints or
    exits (so the same code serves the CLI, the service and tests)."""
    assert _prints_or_exits(path) == []


@pytest.mark.parametrize(
    "name,path", [m for m in MODULES if not _within(m[0], COMMAND_SIDE)], ids=lambda v: str(v)
)
def test_nothing_imports_the_commands(name: str, path: Path) -> None:
    """The commands sit on top: no other module imports them."""
    bad = sorted(i for i in imports(path) if _within(i, COMMAND_SIDE))
    assert bad == [], f"{name} imports {bad}"


def _module_edges() -> dict[str, set[str]]:
    """Module -> the engine modules it imports at import time (``from pkg import submodule``
    counts as importing the submodule, not the package)."""
    names = {name for name, _ in MODULES}
    edges: dict[str, set[str]] = {}
    for name, path in MODULES:
        found = set()
        for target in imports(path):
            if target in names and target != name:
                found.add(target)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in names and node.level == 0:
                subs = {f"{node.module}.{a.name}" for a in node.names} & names
                if subs and len(subs) == len(node.names):
                    found.discard(node.module)
                found |= subs
        edges[name] = found
    return edges


def test_no_import_circles() -> None:
    """No two engine modules import each other, directly or around a circle."""
    edges = _module_edges()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert circles == []

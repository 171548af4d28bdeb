"""The starter project ``leadpost init`` writes: templates shipped inside the package.

The templates live in ``engine/templates/starter`` (package data, so an installed wheel has them).
Names starting with ``dot-`` are written with a leading dot (``dot-github`` -> ``.github``):
packaging tools skip dotfiles. ``@LEADPOST_VERSION@`` becomes the running version, so the CI
workflow installs the leadpost that made the project.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from engine.version import leadpost_version

VERSION_MARK = "@LEADPOST_VERSION@"


@dataclass(frozen=True, slots=True)
class Template:
    """One file of the starter project: where it goes (relative) and its text."""

    path: PurePosixPath
    text: str


def _walk(node: Traversable, at: PurePosixPath) -> Iterator[Template]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        name = child.name
        if name.startswith("dot-"):
            name = "." + name.removeprefix("dot-")
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _walk(child, at / name)
        else:
            text = child.read_text(encoding="utf-8").replace(VERSION_MARK, leadpost_version())
            yield Template(at / name, text)


def starter_files() -> list[Template]:
    """Every file of the starter project, in a stable order."""
    root = resources.files("engine") / "templates" / "starter"
    return list(_walk(root, PurePosixPath()))


def conflicts(folder: Path, files: list[Template]) -> list[Path]:
    """The files that already exist in ``folder``."""
    return [folder / t.path for t in files if (folder / t.path).exists()]


def write_starter(folder: Path, files: list[Template]) -> list[Path]:
    """Write ``files`` under ``folder`` (made if needed); the paths written."""
    written = []
    for t in files:
        target = folder / t.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(t.text, encoding="utf-8")
        written.append(target)
    return written

"""Reading the files users name: bounded, regular files only, inside the project folder.

Every file leadpost reads because a user named it (a buyer or campaign file, a test lead, a
buyer's spec, a suppression list, a lead given on the command line) goes through
:func:`read_limited`: a path with a NUL character, a device (``/dev/zero``), a pipe or a folder
is refused before it is opened, and at most ``limit`` bytes are read. Failures are ``OSError``
with a plain ``strerror``, the way callers already report unreadable files.

Files a buyer or campaign file refers to must lie inside its project folder (the folder of the
nearest ``lead-schema.yaml``, else the file's own folder), the working folder (unless it is the
root of the disk), or a folder allowed with ``leadpost --allow-files-from FOLDER``:
:func:`outside_project` says why one does not.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Final

#: The largest buyer, campaign or lead schema file (bytes): real buyer files are a few KB; lint
#: of a file this size stays well under 2 seconds.
MAX_YAML_BYTES: Final = 256_000
#: The most entries in one YAML list or mapping (fields of a stage, headers, rules, tests).
MAX_ENTRIES: Final = 1_000
#: The longest expression (``if``, ``when``, ``extract``), in characters.
MAX_EXPRESSION: Final = 2_000
#: The deepest nesting of brackets in an expression.
MAX_EXPRESSION_DEPTH: Final = 50
#: The largest lead file, test lead or lead body (bytes); a real lead is a few KB.
MAX_LEAD_BYTES: Final = 256_000
#: The longest text value in a lead, in characters (a name, a comment, a consent text).
MAX_VALUE_CHARS: Final = 10_000
#: The largest buyer spec (JSON Schema, OpenAPI, XSD) (bytes).
MAX_SPEC_BYTES: Final = 5_000_000
#: The largest suppression list (bytes): about two million phone numbers.
MAX_SUPPRESSION_BYTES: Final = 32_000_000

_allowed: list[Path] = []


def set_allowed_folders(folders: list[str]) -> None:
    """Let buyer and campaign files refer to files under these folders too (command line)."""
    _allowed[:] = [Path(f).resolve() for f in folders if "\x00" not in f]


def _refuse(path: str | os.PathLike[str], why: str) -> OSError:
    return OSError(errno.EINVAL, why, os.fspath(path))


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; ``OSError`` (with a
    plain ``strerror``) for a path with a NUL character, a device, a pipe, a folder, or a file
    larger than ``limit``."""
    text = os.fspath(path)
    info = regular_file(text)
    if info.st_size > limit:
        raise _refuse(path, f"it is larger than {_size(limit)}")
    with Path(text).open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew since stat
        raise _refuse(path, f"it is larger than {_size(limit)}")
    return data


def regular_file(path: str | os.PathLike[str]) -> os.stat_result:
    """``path``'s status when it names a regular file; ``OSError`` otherwise (a NUL in the path,
    a folder, a device such as /dev/zero, a pipe — which would block the reader — a socket)."""
    text = os.fspath(path)
    if "\x00" in text:
        raise _refuse(path, "the path contains a NUL character")
    info = Path(text).stat()  # FileNotFoundError and permission errors pass through
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), text)
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(path, "it is not a regular file (a device, a pipe or a socket)")
    return info


def _size(limit: int) -> str:
    if limit >= 1_000_000:
        return f"{limit / 1_000_000:g} MB"
    return f"{limit / 1_000:g} KB"


def size_text(limit: int) -> str:
    """``256 KB``, ``5 MB``: a limit in bytes as messages show it."""
    return _size(limit)


def project_folder(folder: str | os.PathLike[str]) -> Path:
    """The folder of the nearest ``lead-schema.yaml`` at or above ``folder`` (the folder of a
    buyer or campaign file), else ``folder`` itself."""
    here = Path(folder).resolve()
    for folder in (here, *here.parents):
        if (folder / "lead-schema.yaml").is_file():
            return folder
    return here


def outside_project(target: str | os.PathLike[str], project: Path) -> str | None:
    """Why ``target`` may not be read for a file of ``project`` (None when it may): it lies
    outside the project folder and every folder allowed on the command line."""
    text = os.fspath(target)
    if "\x00" in text:
        return "the path contains a NUL character"
    resolved = Path(text).resolve()
    cwd = Path.cwd().resolve()
    working = (cwd,) if cwd != Path(cwd.anchor) else ()  # never the whole disk
    for folder in (project, *working, *_allowed):
        if resolved == folder or folder in resolved.parents:
            return None
    return (
        f"it is outside the project folder {project} and the working folder; to read it"
        f" anyway, run leadpost with --allow-files-from {resolved.parent}"
    )

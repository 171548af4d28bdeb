"""Where BASE and HEAD come from: two files, two folders, or two git revisions (read into temp).

Revisions are read with ``git ls-tree`` and one ``git cat-file --batch``; nothing in the working
tree or the repository is changed. Problems (no such revision, not a repository) are
:class:`SourceError`: a usage mistake, shown as one sentence.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.errors import LeadpostError

DEFAULT_PATHS = ("integrations",)
GIT_TIMEOUT = 60.0


class SourceError(LeadpostError):
    """BASE or HEAD cannot be read: not a file, folder or revision; git failed."""


@dataclass(frozen=True, slots=True)
class Side:
    """One version of the files: each file's real location by its relative path (the key)."""

    label: str
    root: Path
    files: dict[str, Path]
    shown_root: str
    """How the root is written for people: a folder as given, or the repository's place."""

    def shown(self, key: str) -> str:
        """The name a file is reported under."""
        if not key:
            return self.shown_root
        return posixpath.normpath(posixpath.join(self.shown_root, key))


@dataclass(frozen=True, slots=True)
class Sources:
    base: Side
    head: Side

    def paths(self) -> list[str]:
        """Every relative path present on either side, sorted."""
        return sorted({*self.base.files, *self.head.files})


def _under(key: str, paths: Sequence[str]) -> bool:
    return any(not p or key == p or key.startswith(p.rstrip("/") + "/") for p in paths)


def _folder_files(folder: Path, paths: Sequence[str] | None) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        hidden = any(part.startswith(".") for part in rel.split("/"))
        if p.is_file() and not hidden and (paths is None or _under(rel, paths)):
            found[rel] = p
    return found


def _each_path_names_files(
    paths: Sequence[str], given: Sequence[str], sides: Sequence[Side]
) -> None:
    """A PATH matching no file on either side is a mistake (a typo), not "nothing changed"."""
    for path, written in zip(paths, given, strict=True):
        if not any(_under(key, [path]) for side in sides for key in side.files):
            labels = " or ".join(side.label for side in sides)
            raise SourceError(f"{written} names no file in {labels}")


@contextmanager
def open_sources(
    base: str, head: str, paths: Sequence[str] | None = None, cwd: str | Path | None = None
) -> Iterator[Sources]:
    """The two versions to compare; temp dirs (for revisions) are removed on exit."""
    here = Path(cwd) if cwd is not None else Path.cwd()
    a, b = here / base, here / head
    if a.exists() and b.exists():
        if a.is_dir() != b.is_dir():
            raise SourceError(
                f"compare a file with a file, or a folder with a folder: {base} {head}"
            )
        if a.is_dir():
            pair = (
                Side(base, a, _folder_files(a, paths), base),
                Side(head, b, _folder_files(b, paths), head),
            )
            if paths is not None:
                _each_path_names_files(paths, paths, pair)
            yield Sources(*pair)
        else:
            yield Sources(Side(base, a.parent, {"": a}, base), Side(head, b.parent, {"": b}, head))
        return
    with ExitStack() as stack:
        top = _toplevel(here, base, head)
        given = list(paths) if paths is not None else list(DEFAULT_PATHS)
        wanted = _repo_paths(here, top, given)
        shown_root = os.path.relpath(top, here.resolve()).replace(os.sep, "/")
        sides = []
        for rev in (base, head):
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="leadpost-diff-")))
            files = _read_revision(top, rev, wanted, folder)
            sides.append(Side(rev, folder, files, shown_root))
        _each_path_names_files(wanted, given, sides)
        yield Sources(sides[0], sides[1])


def _git(
    top: Path, args: Sequence[str], data: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(
            ["git", *args],
            cwd=top,
            input=data,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise SourceError("git is not installed, so revisions cannot be read") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"git {args[0]} took longer than {GIT_TIMEOUT:g} s") from None


def _toplevel(here: Path, base: str, head: str) -> Path:
    done = _git(here, ["rev-parse", "--show-toplevel"])
    if done.returncode != 0:
        raise SourceError(
            f"'{base}' and '{head}' are not both files or folders, and {here} is not inside a "
            "git repository whose revisions they could name"
        )
    return Path(done.stdout.decode().strip()).resolve()


def _repo_paths(here: Path, top: Path, paths: Sequence[str]) -> list[str]:
    """PATHS (relative to the working folder) as paths inside the repository."""
    out = []
    for p in paths:
        full = Path(os.path.normpath(here.resolve() / p))
        try:
            rel = full.relative_to(top).as_posix()
        except ValueError:
            raise SourceError(f"{p} is outside the git repository at {top}") from None
        out.append("" if rel == "." else rel)
    return out


def _read_revision(top: Path, rev: str, paths: Sequence[str], into: Path) -> dict[str, Path]:
    """Write the revision's files under the top folders of ``paths`` into ``into``: each folder
    comes whole, so lead schemas and buyer files beside the compared ones are there too; only
    files under ``paths`` are returned."""
    if (
        rev.startswith("-")
        or _git(top, ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"]).returncode
    ):
        raise SourceError(
            f"'{rev}' is not a file, a folder or a revision of the git repository at {top}"
        )
    tops = sorted({PurePosixPath(p).parts[0] if p else "." for p in paths})
    listed = _git(top, ["ls-tree", "-r", "-z", rev, "--", *tops])
    if listed.returncode != 0:
        raise SourceError(
            f"git could not list {rev}: {listed.stderr.decode(errors='replace').strip()}"
        )
    blobs: list[tuple[str, str]] = []
    for entry in listed.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.decode("utf-8", "surrogateescape").partition("\t")
        mode, kind, oid = meta.split()
        if kind == "blob" and mode in ("100644", "100755"):
            blobs.append((oid, name))
    contents = _cat(top, [oid for oid, _ in blobs])
    files: dict[str, Path] = {}
    for (_, name), data in zip(blobs, contents, strict=True):
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if _under(name, paths):
            files[name] = target
    return files


def _cat(top: Path, oids: Sequence[str]) -> list[bytes]:
    if not oids:
        return []
    done = _git(top, ["cat-file", "--batch"], ("\n".join(oids) + "\n").encode())
    if done.returncode != 0:
        raise SourceError(
            f"git could not read files: {done.stderr.decode(errors='replace').strip()}"
        )
    out, pos, raw = [], 0, done.stdout
    for _ in oids:
        end = raw.index(b"\n", pos)
        size = int(raw[pos:end].split()[2])
        out.append(raw[end + 1 : end + 1 + size])
        pos = end + 1 + size + 1
    return out

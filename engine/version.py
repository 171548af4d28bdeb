"""The installed leadpost's version, for ``--version``, reports and machine-readable output."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from pathlib import Path


def leadpost_version() -> str:
    """The version of the installed ``leadpost`` distribution ("unknown" when not installed)."""
    try:
        return importlib.metadata.version("leadpost")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def code_digest() -> str:
    """A digest of leadpost's own source files: what a cache of leadpost's verdicts must be
    keyed on besides the version, since an editable install (a developer, CI on a branch)
    changes rules without changing the version. Reading ~400 small files costs a few ms, once
    per process."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]

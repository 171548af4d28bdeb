"""The installed leadpost's version, for ``--version``, reports and machine-readable output."""

from __future__ import annotations

import importlib.metadata


def leadpost_version() -> str:
    """The version of the installed ``leadpost`` distribution ("unknown" when not installed)."""
    try:
        return importlib.metadata.version("leadpost")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"

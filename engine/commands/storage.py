"""What the store commands share: opening the configured store, durations, campaign folders."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from engine.campaigns.compile import load_campaign
from engine.campaigns.plan import CampaignPlan
from engine.commands.output import out
from engine.errors import LeadpostError
from engine.store.journal import DurableStore
from engine.store.settings import open_store

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(text: str) -> float:
    """``90s``, ``30m``, ``1h``, ``7d`` in seconds; a LeadpostError that says how otherwise."""
    m = _DURATION.match(text.strip().lower())
    if m is None:
        raise LeadpostError(f"'{text}' is not a duration: write it like 30m, 1h, 24h or 7d")
    return float(m.group(1)) * _UNITS[m.group(2)]


def the_store() -> DurableStore:
    """The store the environment names (see engine.store.settings); a notice goes to stderr."""
    store, notice = open_store(os.environ)
    if notice:
        out(notice, sys.stderr)
    return store


def load_campaigns(folder: str | Path) -> dict[str, CampaignPlan]:
    """Every campaign file in ``folder`` (or the one file named), by campaign id."""
    path = Path(folder)
    files = [path] if path.is_file() else sorted(path.glob("*.yaml"))
    if not files:
        raise LeadpostError(f"no campaign files in {path}; name the folder with --campaigns")
    plans = [load_campaign(f) for f in files]
    return {p.campaign: p for p in plans}

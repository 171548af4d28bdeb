"""What the service sells: the campaigns it loaded and the lead schema governing each.

Loaded from a folder of campaign files (or one file); :func:`load_catalog` either returns a
whole new catalog or raises with every problem, so a reload that fails keeps the old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.campaigns.compile import load_campaign
from engine.campaigns.plan import CampaignPlan
from engine.errors import LeadpostError
from engine.lead import LeadSchema
from engine.loading import schema_for
from engine.sandbox.targets import point_campaign


@dataclass(frozen=True, slots=True)
class Entry:
    plan: CampaignPlan
    schema: LeadSchema | None
    """The lead schema leads of this campaign are checked against (None: taken as sent)."""

    @property
    def tightest(self) -> float:
        """The shortest deadline a sale of this campaign must meet (seconds): the ping deadline
        when any buyer is pinged, else the total deadline. Admission control keeps the event
        loop's lag well under it."""
        c = self.plan
        pinged = c.mode == "auction" or any(
            b.integration.is_ping_post for b in (*c.buyers, *c.fallback)
        )
        return c.ping_deadline if pinged else c.total_deadline


@dataclass(frozen=True, slots=True)
class Catalog:
    campaigns: Mapping[str, Entry]

    def plans(self) -> dict[str, CampaignPlan]:
        return {name: e.plan for name, e in self.campaigns.items()}


def load_catalog(
    folder: str | Path, origins: tuple[str, str] | None = None, env: str = "test"
) -> Catalog:
    """Every campaign file in ``folder`` (or the one file named) with its lead schema; with
    ``origins`` = (written, actual), buyer addresses of ``env`` moved (a sandbox on another
    port). Raises AuthoringError for a file with problems, LeadpostError when there is none."""
    path = Path(folder)
    files = [path] if path.is_file() else sorted(path.glob("*.yaml"))
    if not files:
        raise LeadpostError(f"no campaign files in {path}; name the folder with --campaigns")
    entries: dict[str, Entry] = {}
    for f in files:
        plan = load_campaign(f)
        if origins is not None:
            plan = point_campaign(plan, origins[0], origins[1], env)
        entries[plan.campaign] = Entry(plan, schema_for(f))
    return Catalog(entries)

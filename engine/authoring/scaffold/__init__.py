"""Drafting buyer files: ``leadpost new buyer ID --from-spec SPEC`` and the minimal files.

The pipeline, one module each: :mod:`.source` reads the spec into neutral fields (reusing the
contract readers), :mod:`.names` finds the lead field a property's name means, :mod:`.shape`
picks the transforms its constraints call for, :mod:`.fields` decides each field,
:mod:`.response` drafts the response section, :mod:`.write` writes the commented YAML.
"""

from __future__ import annotations

from pathlib import Path

from engine.authoring.scaffold.minimal import minimal_buyer, minimal_campaign, sample_leads
from engine.authoring.scaffold.source import read_draft
from engine.authoring.scaffold.write import Drafted, DraftRequest, draft_text
from engine.lead import LeadSchema


def draft_buyer(
    buyer: str,
    spec_file: Path,
    out: Path,
    schema: LeadSchema,
    *,
    operation: str | None = None,
    element: str | None = None,
    stage: str = "post",
    ping_spec: Path | None = None,
) -> Drafted:
    """The drafted buyer file for ``spec_file``, to be written at ``out``; SpecProblem when the
    spec cannot be read. ``ping_spec``: the ping's spec, drafted as the ping stage."""
    spec = read_draft(spec_file, operation=operation, element=element, stage=stage)
    ping = read_draft(ping_spec, stage="ping") if ping_spec is not None else None
    request = DraftRequest(buyer, spec, out, stage, sample_leads(out), ping)
    return draft_text(request, schema)


__all__ = ["Drafted", "draft_buyer", "minimal_buyer", "minimal_campaign"]

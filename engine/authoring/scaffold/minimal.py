"""The annotated minimal files of ``leadpost new buyer ID`` and ``leadpost new campaign ID``.

The templates live in ``engine/templates/new`` (package data); ``@ID@``, ``@NAME@``, ``@ENV@``,
``@LEAD@`` and ``@BUYERS@`` are filled in from the id and the project around the new file.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from engine.dsl.loader import load_yaml
from engine.errors import AuthoringError


def _template(name: str) -> str:
    return (resources.files("engine") / "templates" / "new" / name).read_text(encoding="utf-8")


def title(ident: str) -> str:
    """``acme-direct`` -> ``Acme Direct``."""
    return " ".join(part.capitalize() for part in re.split(r"[-_]+", ident) if part)


def sample_leads(out: Path, limit: int = 3) -> tuple[Path, ...]:
    """The project's sample leads (``leads/sample*.json`` beside the new file's folder)."""
    for folder in (out.parent.parent / "leads", out.parent / "leads"):
        found = sorted(folder.glob("sample*.json"), key=lambda p: (p.name != "sample.json", p.name))
        if found:
            return tuple(found[:limit])
    return ()


def minimal_buyer(ident: str, out: Path) -> str:
    """The annotated minimal buyer file."""
    leads = sample_leads(out)
    lead = (
        os.path.relpath(leads[0].resolve(), out.resolve().parent).replace(os.sep, "/")
        if leads
        else "../leads/sample.json"
    )
    env = re.sub(r"[^A-Z0-9]+", "_", ident.upper()).strip("_")
    text = _template("buyer.yaml")
    for mark, value in (
        ("@ID@", ident),
        ("@NAME@", title(ident)),
        ("@ENV@", env),
        ("@LEAD@", lead),
    ):
        text = text.replace(mark, value)
    return text


def buyer_ids(folder: Path) -> list[str]:
    """The ``buyer:`` ids of the buyer files in ``folder`` (files that do not load are skipped)."""
    ids = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = load_yaml(path).data
        except AuthoringError:
            continue
        if isinstance(data, dict) and isinstance(data.get("buyer"), str):
            ids.append(data["buyer"])
    return ids


def minimal_campaign(ident: str, out: Path) -> str:
    """The annotated minimal campaign file, offering leads to the project's buyers."""
    ids = buyer_ids(out.parent.parent / "buyers")
    listed = "\n".join(f"  - {b}" for b in ids) or "  - example-buyer  # TODO: your buyer's id"
    text = _template("campaign.yaml")
    for mark, value in (("@ID@", ident), ("@NAME@", title(ident)), ("@BUYERS@", listed)):
        text = text.replace(mark, value)
    return text

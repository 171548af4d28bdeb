"""Shared by the ``leadpost diff`` tests: a git repository holding two revisions of integrations/.

BASE is a copy of the real integrations/ tree (lead schema, leads, buyers, campaigns); HEAD
makes realistic edits to copies of real files (see :data:`EDITS`). git runs with a config of
its own (``GIT_CONFIG_NOSYSTEM``, ``HOME`` in the temp folder), never the machine's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.paths import INTEGRATIONS

HARBOR = "integrations/buyers/harbor-mutual.yaml"
BEACON = "integrations/buyers/beacon-ping.yaml"
OPEN_AUCTION = "integrations/campaigns/open-auction.yaml"

#: (file, text before, text after): each applied once to the HEAD revision.
EDITS: tuple[tuple[str, str, str], ...] = (
    # retry attempts 4 -> 3
    (HARBOR, "  max_attempts: 4\n", "  max_attempts: 3\n"),
    # the phone sent as E.164 instead of dashes
    (HARBOR, "transform: [{phone: dashes}]", "transform: [{phone: e164}]"),
    # a new field, and a field removed
    (
        HARBOR,
        "      contact.age:\n",
        "      contact.marital_status:\n"
        "        from: attributes.marital_status\n"
        "        transform: [upper]\n"
        "      contact.age:\n",
    ),
    (HARBOR, "      vehicle.model: attributes.vehicle_model\n", ""),
    # Arizona no longer served, fewer leads a day
    (HARBOR, "  states: [TX, CA, FL, AZ]\n", "  states: [TX, CA, FL]\n"),
    (HARBOR, "  per_day: 500\n", "  per_day: 300\n"),
    # the open auction gives bidders longer to answer
    (OPEN_AUCTION, "ping_deadline: 150ms\n", "ping_deadline: 200ms\n"),
    # comments and key order only
    (
        BEACON,
        "concurrency: 50\n",
        "# Beacon asked us to keep at most 50 requests open.\nconcurrency: 50 # per contract\n",
    ),
    (
        BEACON,
        "auth:\n  type: bearer\n  token: ${env:BEACON_TOKEN}\n",
        "auth:\n  token: ${env:BEACON_TOKEN}\n  type: bearer\n",
    ),
)


def git_env(home: Path) -> dict[str, str]:
    """An environment where git reads no system or user config and never prompts."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**keep, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def git(repo: Path, *args: str, env: Mapping[str, str]) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def copy_integrations(into: Path) -> None:
    """The real integrations/ tree (lead schema, leads, buyers, campaigns) into ``into``."""
    shutil.copytree(INTEGRATIONS, into / "integrations")


def apply_edits(root: Path, edits: tuple[tuple[str, str, str], ...] = EDITS) -> None:
    for file, old, new in edits:
        path = root / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{file}: {old!r}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")


def make_repo(root: Path) -> dict[str, str]:
    """A repository in ``root`` with commits BASE (the real files) and HEAD (the edits); the
    environment to run git in (HOME in the temp folder). Tags base and head name them."""
    home = root.parent / (root.name + "-home")
    home.mkdir()
    env = git_env(home)
    root.mkdir(exist_ok=True)
    git(root, "init", "-q", "-b", "main", env=env)
    copy_integrations(root)
    git(root, "add", "-A", env=env)
    git(root, "commit", "-q", "-m", "base", env=env)
    git(root, "tag", "base", env=env)
    apply_edits(root)
    git(root, "commit", "-q", "-am", "head", env=env)
    git(root, "tag", "head", env=env)
    return env

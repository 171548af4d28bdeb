"""Pointing plans at a sandbox: serve its buyers for a command and move buyer addresses to it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.campaigns.plan import CampaignBuyer, CampaignPlan
from engine.plan import IntegrationPlan, OAuth2Auth
from engine.sandbox.config import load_config, sandbox_environ
from engine.sandbox.server import start_in_thread


@contextmanager
def sandbox_targets(path: str | None) -> Iterator[dict[str, Any]]:
    """For ``--sandbox FILE``: serve its buyers while the block runs and give the ``environ``
    (their credentials) and ``origins`` (the file's port, and where they really listen) that a
    sending command takes; without a file, nothing to add."""
    if not path:
        yield {}
        return
    config = load_config(path)
    sandbox = start_in_thread(config, port=0)
    try:
        yield {
            "environ": {**os.environ, **sandbox_environ(config)},
            "origins": (f"http://127.0.0.1:{config.port}", sandbox.url),
        }
    finally:
        sandbox.stop()


def _moved(url: str | None, old: str, new: str) -> str | None:
    return new + url[len(old) :] if url is not None and url.startswith(old) else url


def point_plan(plan: IntegrationPlan, old: str, new: str, env: str) -> IntegrationPlan:
    """``plan`` with its ``env`` addresses under origin ``old`` moved to origin ``new``."""
    environment = plan.environments.get(env)
    if environment is None:
        return plan
    moved = dataclasses.replace(
        environment,
        url=_moved(environment.url, old, new) or environment.url,
        token_url=_moved(environment.token_url, old, new),
    )
    auth = plan.auth
    if isinstance(auth, OAuth2Auth):
        auth = dataclasses.replace(auth, token_url=_moved(auth.token_url, old, new) or "")
    return dataclasses.replace(plan, environments={**plan.environments, env: moved}, auth=auth)


def point_campaign(campaign: CampaignPlan, old: str, new: str, env: str) -> CampaignPlan:
    """Every buyer and service of ``campaign`` pointed from origin ``old`` to ``new`` (a
    sandbox started on another port than the one written in the buyer files)."""

    def buyer(b: CampaignBuyer) -> CampaignBuyer:
        return dataclasses.replace(b, integration=point_plan(b.integration, old, new, env))

    checks = tuple(
        c
        if c.service is None
        else dataclasses.replace(c, service=point_plan(c.service, old, new, env))
        for c in campaign.checks
    )
    return dataclasses.replace(
        campaign,
        buyers=tuple(buyer(b) for b in campaign.buyers),
        fallback=tuple(buyer(b) for b in campaign.fallback),
        checks=checks,
    )

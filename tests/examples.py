"""The repository's example integrations, compiled once per test session (plans are frozen, so
tests share them safely), and its sandbox served once for the tests that only send to it."""

from __future__ import annotations

import functools

from engine.loading import load_integration
from engine.plan import IntegrationPlan
from engine.sandbox import SandboxConfig, load_config
from tests.paths import INTEGRATIONS

BUYERS = INTEGRATIONS / "buyers"


@functools.cache
def example_plan(name: str) -> IntegrationPlan:
    """integrations/buyers/<name>.yaml, compiled (with the lead schema found beside it)."""
    return load_integration(BUYERS / f"{name}.yaml")


@functools.cache
def steady_sandbox_config() -> SandboxConfig:
    """integrations/sandbox.yaml with every buyer answering at once and never failing."""
    return load_config(INTEGRATIONS / "sandbox.yaml").steady()

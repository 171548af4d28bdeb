"""Shared pytest fixtures. Keep each one small and documented; add yours below the others."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.clock import FakeClock
from engine.lead import LeadSchema, validate_lead
from engine.lead.schema import load_lead_schema
from engine.loading import load_integration
from engine.plan import IntegrationPlan
from engine.sandbox import SandboxThread, start_in_thread
from tests import props
from tests.buyer_server import BuyerServer
from tests.examples import steady_sandbox_config
from tests.paths import FIXTURES, REPO

props.load()  # the Hypothesis profile (LEADPOST_HYPOTHESIS=dev|ci|long), before any test module

pytest_plugins = ("tests.cli_kit",)  # the `ws` fixture of the command-line tests


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio only."""
    return "asyncio"


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that moves only when advanced or slept on (starts at 0 s, 2024-01-01 UTC)."""
    return FakeClock()


@pytest.fixture(scope="session")
def steady_sandbox() -> Iterator[SandboxThread]:
    """The repository's simulated buyers (integrations/sandbox.yaml), answering at once and
    never failing, started once for the session on a free port. For tests that only send to it;
    a test that changes the sandbox's behaviour starts its own."""
    with start_in_thread(steady_sandbox_config(), port=0) as running:
        yield running


@pytest.fixture
def buyer_server() -> Iterator[BuyerServer]:
    """A fresh scriptable buyer on 127.0.0.1 (see tests/buyer_server.py), stopped afterwards."""
    with BuyerServer() as server:
        yield server


# -- executor tests (tests/runtime/executor/) ------------------------------------------------

RUNTIME_FIXTURES = FIXTURES / "runtime"


@pytest.fixture(scope="session")
def runtime_schema() -> LeadSchema:
    """The repository's lead schema (integrations/lead-schema.yaml)."""
    return load_lead_schema(REPO / "integrations" / "lead-schema.yaml")


@pytest.fixture
def runtime_lead(runtime_schema: LeadSchema) -> dict[str, Any]:
    """integrations/leads/sample.json, validated and normalized."""
    raw = json.loads((REPO / "integrations" / "leads" / "sample.json").read_text())
    return validate_lead(runtime_schema, raw)


@pytest.fixture
def runtime_plan(
    tmp_path: Path, runtime_schema: LeadSchema, buyer_server: BuyerServer
) -> Callable[..., IntegrationPlan]:
    """Compile tests/fixtures/runtime/<name>.yaml pointed at the test buyer:
    ``runtime_plan("direct", retry=RetryPlan(...))`` (keywords replace plan fields)."""

    def load(name: str, **changes: Any) -> IntegrationPlan:
        text = (RUNTIME_FIXTURES / f"{name}.yaml").read_text().replace("__URL__", buyer_server.url)
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        plan = load_integration(path, runtime_schema)
        return dataclasses.replace(plan, **changes) if changes else plan

    return load


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_CACHE_HOME in a temporary folder: lint's verdict cache and Hypothesis's files never
    land in the user's real cache, and no test sees another test's cached verdicts."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder

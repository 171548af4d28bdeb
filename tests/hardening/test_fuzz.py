"""A short fuzz run in the suite (``scripts/fuzz`` runs the long one): mutated example buyer and
campaign files lint without a traceback and with every problem positioned; mutated leads render
or are refused in words, without raw control characters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given

from engine.lead import LeadSchema
from engine.lead.schema import load_lead_schema
from engine.plan import IntegrationPlan
from tests.hardening.fuzz import (
    example_plans,
    lint_one,
    mutated_files,
    mutated_leads,
    project,
    render_one,
)
from tests.paths import INTEGRATIONS
from tests.props import fewer


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield project(tmp_path_factory.mktemp("fuzz"))


@fewer(8)
@given(case=mutated_files())
def test_mutated_files_lint_without_a_traceback(folder: Path, case: tuple[str, bytes]) -> None:
    seed, raw = case
    assert lint_one(folder, seed, raw) == []


@pytest.fixture(scope="module")
def plans() -> list[IntegrationPlan]:
    return example_plans()


@pytest.fixture(scope="module")
def schema() -> LeadSchema:
    return load_lead_schema(INTEGRATIONS / "lead-schema.yaml")


@fewer(4)
@given(raw=mutated_leads())
def test_mutated_leads_render_or_are_refused_in_words(
    plans: list[IntegrationPlan], schema: LeadSchema, raw: bytes
) -> None:
    for plan in plans[:4]:
        assert render_one(plan, schema, raw) == []

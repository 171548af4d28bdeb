"""Where things are, for tests in any folder: the repository, the example integrations, fixtures."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
ENGINE = REPO / "engine"
INTEGRATIONS = REPO / "integrations"
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"

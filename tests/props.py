"""Hypothesis settings for the whole suite: one profile, chosen by an environment variable.

``LEADPOST_HYPOTHESIS=dev`` (few examples, for the quick tier), ``ci`` (the default, what
scripts/test and CI run) or ``long`` (thousands of examples, before a release). Tests do not
write example counts; a property whose every example is costly asks for :func:`fewer`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings

#: Examples per property in each profile.
PROFILES = {"dev": 40, "ci": 200, "long": 5000}
VARIABLE = "LEADPOST_HYPOTHESIS"


def load() -> str:
    """Register the profiles and load the one the environment names (``ci`` by default)."""
    for name, examples in PROFILES.items():
        settings.register_profile(
            name,
            max_examples=examples,
            deadline=None,  # the loaded CI machine must not turn a slow example into a failure
            suppress_health_check=[HealthCheck.too_slow],
            print_blob=True,
        )
    chosen = os.environ.get(VARIABLE, "ci")
    if chosen not in PROFILES:
        raise ValueError(f"{VARIABLE}={chosen!r}: choose one of {', '.join(PROFILES)}")
    settings.load_profile(chosen)
    return chosen


def fewer(divisor: int) -> settings:
    """The loaded profile with ``divisor`` times fewer examples (at least 5), for properties
    whose every example runs something expensive (a whole file through lint, a diff)."""
    loaded = settings.default
    assert loaded is not None, "load() runs first (tests/conftest.py)"
    return settings(max_examples=max(loaded.max_examples // divisor, 5))


Test = TypeVar("Test", bound=Callable[..., Any])


def SLOW(test: Test) -> Test:
    """Marks an end-to-end run of whole commands over every example file: run by scripts/test
    and CI, left out of the quick tier (scripts/test-fast), allowed minutes on a loaded machine."""
    marked: Test = pytest.mark.slow(pytest.mark.timeout(900)(test))
    return marked

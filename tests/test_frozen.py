"""``@frozen`` value classes: read-only for the type checker, cheap slots classes at run time."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from engine.frozen import frozen
from engine.runtime.outcome import Outcome, Timings
from tests.paths import REPO


@frozen
class Point:
    x: int
    y: str = "a"


def test_a_frozen_class_is_a_slots_dataclass_equal_and_hashed_by_its_fields() -> None:
    p = Point(1)
    assert dataclasses.is_dataclass(p) and not hasattr(p, "__dict__")
    assert p == Point(1, "a") and hash(p) == hash(Point(1, "a"))
    assert {Point(1), Point(1)} == {p}
    assert dataclasses.replace(p, y="b") == Point(1, "b")
    assert repr(p) == "Point(x=1, y='a')"


def test_the_hot_path_records_are_frozen_classes() -> None:
    outcome = Outcome("b", "ping", "accepted", False, None, 1, Timings(0.1))
    assert not hasattr(outcome, "__dict__")
    assert dataclasses.replace(outcome, kind="rejected").kind == "rejected"


def test_the_type_checker_refuses_an_assignment_to_a_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)  # where mypy finds the engine package
    source = tmp_path / "assign.py"
    source.write_text(
        textwrap.dedent(
            """\
            from engine.frozen import frozen

            @frozen
            class Point:
                x: int

            p = Point(1)
            p.x = 2
            Point("not an int")
            """
        )
    )
    out, _, status = mypy_api.run(
        ["--no-incremental", "--follow-imports=silent", "--strict", str(source)]
    )
    assert status == 1, out
    assert 'Property "x" defined in "Point" is read-only' in out
    assert 'Argument 1 to "Point" has incompatible type "str"' in out

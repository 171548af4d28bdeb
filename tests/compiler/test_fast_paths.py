"""Speed-ups never change results: fast paths equal the careful paths they skip."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import MappingError
from engine.loading import load_integration
from engine.plan import RenderContext
from engine.transforms import TRANSFORMS
from tests.paths import REPO
from tests.props import fewer

ROOT = REPO
CTX = RenderContext(lead={}, now=datetime(2024, 12, 15, 14, 30, tzinfo=UTC))


class Text(str):
    """Same text, but not exactly ``str``: takes the careful path."""


class Whole(int):
    """Same number, but not exactly ``int``."""


class Real(float):
    """Same number, but not exactly ``float``."""


def careful(value: Any) -> Any:
    kind = type(value)
    return Text(value) if kind is str else Whole(value) if kind is int else Real(value)


def build(name: str, args: Any) -> Any:
    d = TRANSFORMS[name]
    return d.build(d.args.model_validate(args) if d.args is not None else None)


def outcome(fn: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(value, CTX)
    except MappingError as exc:
        return "error", exc.reason


dates = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)
stamps = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)).map(
    lambda d: d.replace(microsecond=0).isoformat() + "Z"
)
CASES = [
    ("phone", {"style": "dashes"}, st.from_regex(r"\A[0-9]{10}\Z") | st.text(max_size=12)),
    ("date", {"format": "%m/%d/%Y"}, dates | st.text(max_size=12)),
    ("datetime", {"format": "%Y-%m-%d %H:%M", "timezone": "America/Chicago"}, stamps),
    ("datetime", {}, stamps | st.text(min_size=20, max_size=20)),
    ("currency", {"cents": False}, st.integers(-(10**31), 10**31)),
    ("currency", {"cents": True}, st.integers(-(10**12), 10**12)),
    ("number", {"decimals": 2}, st.floats(allow_nan=False, allow_infinity=False)),
    ("number", {"decimals": 0, "thousands": True}, st.floats(-1e16, 1e16)),
]


@pytest.mark.parametrize("name,args,values", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
@given(data=st.data())
def test_fast_path_equals_careful_path(name: str, args: Any, values: Any, data: Any) -> None:
    fn = build(name, args)
    value = data.draw(values)
    assert outcome(fn, value) == outcome(fn, careful(value))


SAMPLE = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text("utf-8"))
BUYERS = sorted((ROOT / "integrations" / "buyers").glob("*.yaml"))
leaf = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=8),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.booleans(),
)


def _mutated(draw: Any) -> dict[str, Any]:
    lead: dict[str, Any] = json.loads(json.dumps(SAMPLE))
    for section in ("lead", "attributes", "consent"):
        for key in list(lead[section]):
            if draw(st.integers(0, 4)) == 0:
                lead[section][key] = draw(leaf)
    return lead


@pytest.mark.parametrize("path", BUYERS, ids=lambda p: p.stem)
@fewer(4)
@given(data=st.data())
def test_fused_render_equals_field_by_field(path: Path, data: Any) -> None:
    """The generated stage renderer gives each field's own value, or the same refusal."""
    plan = load_integration(path)
    lead = _mutated(data.draw)
    when = datetime(2024, 12, 15, 14, 30, tzinfo=UTC) + timedelta(days=data.draw(st.integers(0, 9)))
    prior = {"ping": {"ping_id": 98765, "token": "LH-1"}}
    for stage in plan.stages.values():
        request = stage.request
        assert request.render is not None
        ctx = RenderContext(lead=lead, now=when, prior=prior, environ={"BLUEWATER_KEY": "k"})
        expected: Any
        try:
            expected = [f.compute(ctx) for f in request.fields]
        except MappingError as exc:
            expected = ("refused", str(exc))
        try:
            got: Any = request.render(ctx)
        except MappingError as exc:
            got = ("refused", str(exc))
        assert got == expected


def test_number_fast_path_rounds_the_written_value_not_the_binary_one() -> None:
    """562949953421312.8 is stored as ...312.75: two decimals give .80, as the lead wrote it."""
    fn = build("number", {"decimals": 2})
    assert outcome(fn, 562949953421312.8) == ("ok", "562949953421312.80")

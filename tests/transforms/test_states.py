"""state_name and state_code: every state, DC and territory, both ways, any spelling."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import MappingError
from engine.lead import US_STATES
from engine.lead.normalize import US_STATE_NAMES
from engine.transforms.states import state_code, state_name

codes = st.sampled_from(sorted(US_STATES))


def _spelled(text: str, draw: st.DrawFn) -> str:
    """``text`` in random capitals, with spaces around and doubled between words."""
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in text)
    inner = draw(st.sampled_from([" ", "  "]))
    return draw(st.sampled_from(["", " ", "\t"])) + inner.join(cased.split()) + " "


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(code, that state written as its code or its name, in any capitals and spacing)."""
    code = draw(codes)
    written = draw(st.sampled_from([code, US_STATE_NAMES[code]]))
    return code, _spelled(written, draw)


def test_the_table_has_the_states_dc_and_the_territories() -> None:
    """50 states + DC + PR, GU, VI, AS, MP."""
    assert len(US_STATES) == 56
    assert {"DC", "PR", "GU", "VI", "AS", "MP"} <= US_STATES


@given(codes)
def test_round_trip(code: str) -> None:
    """code -> name -> code, and name -> code -> name."""
    assert state_code(state_name(code)) == code
    assert state_name(state_code(state_name(code))) == state_name(code)


@given(spellings())
def test_any_spelling_is_read(pair: tuple[str, str]) -> None:
    """A code or a name in any capitals and spacing gives the same code and name."""
    code, written = pair
    assert state_code(written) == code
    assert state_name(written) == US_STATE_NAMES[code]


@given(st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.text())))
def test_anything_else_is_our_refusal(value: Any) -> None:
    """Any value gives a state or a MappingError that says how to write one."""
    try:
        code = state_code(value)
    except MappingError as exc:
        assert "not a US state" in exc.reason or "single value" in exc.reason
    else:
        assert code in US_STATES


@pytest.mark.parametrize(
    ("value", "code", "name"),
    [
        ("TX", "TX", "Texas"),
        ("texas", "TX", "Texas"),
        ("District of Columbia", "DC", "District of Columbia"),
        ("pr", "PR", "Puerto Rico"),
        ("New  York", "NY", "New York"),
    ],
)
def test_examples(value: str, code: str, name: str) -> None:
    assert (state_code(value), state_name(value)) == (code, name)


def test_refusal_message() -> None:
    with pytest.raises(MappingError, match="'Texass' is not a US state; write a code like TX"):
        state_code("Texass")

"""The store's JSON records: orjson writes them, json writes what orjson refuses, and either way
a record reads back as json itself would have written it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.store.base import _ENCODER, to_json

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),  # beyond 64 bits: json's turn
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.binary(max_size=8),
)
keys = st.one_of(st.text(max_size=8), st.integers(-5, 5), st.booleans(), st.none())
records = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=20,
)


@given(records)
def test_a_record_reads_back_as_json_would_have_written_it(value: Any) -> None:
    assert json.loads(to_json(value)) == json.loads(_ENCODER.encode(value))


@dataclasses.dataclass
class _Thing:
    name: str


def test_values_json_cannot_write_are_written_as_before() -> None:
    record = {"price": Decimal("1.10"), "day": date(2026, 1, 2), "ids": {3}, "thing": _Thing("x")}
    assert json.loads(to_json(record)) == {
        "price": "1.10",
        "day": "2026-01-02",
        "ids": [3],
        "thing": "_Thing(name='x')",
    }
    assert to_json({"at": datetime(2026, 1, 1, tzinfo=UTC)}) == '{"at":"2026-01-01T00:00:00+00:00"}'
    assert to_json({"big": 2**70, "é": "ü"}) == '{"big":1180591620717411303424,"é":"ü"}'


def test_numbers_that_are_not_json_are_written_as_null() -> None:
    """A buyer's answer read by json may hold NaN or Infinity (json.loads accepts them); JSON has
    no such numbers, so the record says null."""
    assert to_json({"bid": float("nan"), "cap": float("inf")}) == '{"bid":null,"cap":null}'

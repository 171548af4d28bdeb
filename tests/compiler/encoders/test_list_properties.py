"""Properties of list fields in every encoder: any items read back, in order, nested too."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from engine.compiler.encoders import FormEncoder, JsonEncoder, XmlEncoder
from engine.compiler.encoders.form import FormItems, fill
from engine.compiler.encoders.json_ import JsonItems, item_shape
from engine.compiler.encoders.paths import build_tree
from engine.compiler.encoders.xml_ import XmlItems
from engine.compiler.encoders.xmlnames import setup
from engine.dsl.models import XmlOptions
from engine.plan import OMIT, OutputPath, Rows
from tests.compiler.encoders.test_properties import FAST, SURROGATES, as_text, cleaned, scalars

#: A driver item: a name, and a list of accident dates inside it.
ITEM: list[OutputPath] = [("name",), ("accidents",)]
values = st.one_of(scalars, st.just(OMIT))
accidents = st.lists(scalars.filter(lambda v: v is not None), max_size=3)
drivers = st.lists(st.tuples(values, accidents), min_size=1, max_size=4)


def rows(items: list[tuple[Any, list[Any]]]) -> Rows:
    return Rows((name, Rows(acc) if acc else OMIT) for name, acc in items)


def json_encoder() -> JsonEncoder:
    inner = JsonItems(None, ("accidents",))
    items = JsonItems(
        item_shape(build_tree(ITEM, [], xml=False)), ("name", "accidents"), (None, inner)
    )
    paths: list[OutputPath] = [("zip",), ("drivers",)]
    return JsonEncoder(build_tree(paths, [], xml=False), paths, (None, items))


def plain(value: Any) -> Any:
    """A value as json.loads gives it back (surrogates removed; numbers compared as numbers)."""
    if isinstance(value, str):
        return SURROGATES.sub("", value)
    if isinstance(value, bool) or value is None:
        return value
    return float(value)


@FAST
@given(drivers, scalars)
def test_json_items_read_back_in_order(items: list[tuple[Any, list[Any]]], zip_: Any) -> None:
    """Each item is one object of the array, in order; omitted values vanish, empty items too."""
    doc = json.loads(json_encoder().encode([zip_, rows(items)]), parse_float=float, parse_int=float)
    want = []
    for name, acc in items:
        obj: dict[str, Any] = {}
        if name is not OMIT:
            obj["name"] = plain(name)
        if acc:
            obj["accidents"] = [plain(a) for a in acc]
        if obj:
            want.append(obj)
    got = doc.get("drivers", [])
    norm = json.loads(json.dumps(want), parse_float=float, parse_int=float)
    assert got == norm


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1"])
@FAST
@given(items=drivers)
def test_xml_items_are_repeated_elements(encoding: str, items: list[tuple[Any, list[Any]]]) -> None:
    """One Driver element per item with its name attribute and one Accident per date; any text
    reads back after the documented clean-up."""
    options = XmlOptions.model_validate({"root": "r", "encoding": encoding})
    found = setup(options, [])
    assert found is not None
    item_paths: list[OutputPath] = [("@name",), ("Accidents", "Accident")]
    inner = XmlItems("Accident", None, (), (), ())
    driver = XmlItems(
        "Driver", build_tree(item_paths, [], xml=True), item_paths, (None, None), (None, inner)
    )
    paths: list[OutputPath] = [("Drivers", "Driver")]
    encoder = XmlEncoder(found, build_tree(paths, [], xml=True), paths, (None,), (driver,))
    codec = "utf-8" if encoding == "UTF-8" else "latin-1"
    root = etree.fromstring(encoder.encode([rows(items)]))
    got = [
        (d.get("name"), [a.text or "" for a in d.iterfind("Accidents/Accident")])
        for d in root.iterfind("Drivers/Driver")
    ]
    want = [
        (
            None if name is OMIT else cleaned(as_text(name), codec, "transliterate"),
            [cleaned(as_text(a), codec, "transliterate") for a in acc],
        )
        for name, acc in items
        if name is not OMIT or acc
    ]
    assert got == want


@FAST
@given(items=drivers, one_based=st.booleans())
def test_form_items_read_back_under_their_pattern(
    items: list[tuple[Any, list[Any]]], one_based: bool
) -> None:
    """Every value arrives under the name the pattern gives its item; a nested list's own
    pattern names it inside its item (``d[0][accidents][1]``, ``d1_a2``)."""
    outer, inner = ("d{n}_{name}", "a{n}") if one_based else ("d[{i}][{name}]", "accidents[{i}]")
    form_items = FormItems(outer, ("name", "accidents"), (None, FormItems(inner, ())))
    encoder = FormEncoder([("drivers",)], items=(form_items,))
    body = encoder.encode([rows(items)]).decode("ascii")
    want = []
    for k, (name, acc) in enumerate(items):
        if name is not OMIT:
            want.append((fill(outer, k, "name"), SURROGATES.sub("", as_text(name))))
        for j, a in enumerate(acc):
            want.append((fill(outer, k, fill(inner, j, None)), SURROGATES.sub("", as_text(a))))
    assert parse_qsl(body, keep_blank_values=True) == want


@given(st.integers(0, 10**6), st.text(max_size=10))
def test_fill_counts_from_zero_and_one(index: int, name: str) -> None:
    assert fill("x{i}_{n}", index, None) == f"x{index}_{index + 1}"
    assert fill("{name}", index, name) == name

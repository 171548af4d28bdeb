"""Contract checks understand lists: items against the spec's items, maxItems and maxOccurs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.authoring.lint import LintOptions, lint_file
from engine.contract.infer import facts
from engine.dsl.models import FieldSpec
from engine.lead.schema import load_lead_schema
from tests.paths import FIXTURES, INTEGRATIONS


def issues(path: Path) -> list[str]:
    found = lint_file(path, LintOptions(examples=30)).issues
    return [f"{i.code} {i.message}" for i in found if i.severity == "error"]


def copy_lists(tmp_path: Path, old: str = "", new: str = "") -> Path:
    shutil.copytree(FIXTURES / "lists", tmp_path / "lists")
    path = tmp_path / "lists" / "drivers-xml.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_repeated_xml_elements_meet_the_xsd(tmp_path: Path) -> None:
    """Items, their attribute and their child, within maxOccurs: no finding (generated leads
    with 1 to 3 drivers included)."""
    assert issues(copy_lists(tmp_path)) == []


def test_more_items_than_max_occurs_is_lp330(tmp_path: Path) -> None:
    path = copy_lists(tmp_path, "        max_items: 2\n", "")
    found = [i for i in issues(path) if i.startswith("LP330")]
    assert len(found) == 1 and found[0].startswith(
        "LP330 list field 'Drivers.Driver' sends every item of its lead list, but the spec "
        "allows at most 2 (maxOccurs at "
    )
    assert found[0].endswith("drivers.xsd:10)")


def test_if_missing_empty_in_xml_still_sends_no_required_element(tmp_path: Path) -> None:
    """XML has no empty list: with ``if_missing: empty`` the Driver elements the XSD requires
    (minOccurs 1) may still be absent, so the finding stays (in JSON ``[]`` is sent)."""
    path = copy_lists(tmp_path, "        if_missing: reject\n", "        if_missing: empty\n")
    assert issues(path) == [
        "LP709 field 'Drivers.Driver' may be left out (the list may be empty), but the buyer's "
        "spec requires 'Drivers.Driver'"
    ]


def test_an_item_field_the_xsd_lacks_is_found(tmp_path: Path) -> None:
    path = copy_lists(
        tmp_path,
        '          "@name": item.first_name\n',
        '          "@name": item.first_name\n          Age: {from: item.dob, transform: [age]}\n',
    )
    assert any(i.startswith("LP703") and "Age" in i for i in issues(path)), issues(path)


def roadway(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "integrations"
    shutil.copytree(INTEGRATIONS, folder)
    path = folder / "buyers" / "roadway-auto.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_json_arrays_max_items_and_item_types(tmp_path: Path) -> None:
    """Without max_items the post may send more drivers than maxItems; an item field of the
    wrong type is found at its own line."""
    path = roadway(tmp_path, "        max_items: 4\n", "")
    found = issues(path)
    assert any(i.startswith("LP330 list field 'drivers' sends every item") for i in found), found
    path = roadway(
        tmp_path / "b",
        "at_fault: {from: item.at_fault, type: boolean}",
        "at_fault: {from: item.at_fault, type: string}",
    )
    found = issues(path)
    assert any(i.startswith("LP704") and "drivers[0].incidents[0].at_fault" in i for i in found), (
        found
    )


@pytest.mark.parametrize(
    ("of", "sent"),
    [
        ({"count": "item.accidents"}, "integer"),
        ("item.value", "number"),
        ({"from": "item.value", "type": "integer"}, "integer"),
    ],
    ids=["counts", "numbers", "typed-whole"],
)
def test_a_sum_always_sends_a_number(of: object, sent: str) -> None:
    """The checks see a sum as a whole number when ``of`` gives whole numbers, any number
    otherwise, and never left out (no items total 0)."""
    schema = load_lead_schema(FIXTURES / "lists" / "lead-schema.yaml")
    listed = "lead.drivers" if isinstance(of, dict) and "count" in of else "lead.vehicles"
    found = facts(FieldSpec.model_validate({"sum": listed, "of": of}), schema)
    assert found.types == {sent} and found.optional is None


@pytest.mark.parametrize(("mode", "optional"), [("empty", False), ("omit", True)])
def test_a_json_list_with_if_missing_empty_is_always_sent(mode: str, optional: bool) -> None:
    """``if_missing: empty`` sends ``[]`` without items: the array is never left out."""
    schema = load_lead_schema(FIXTURES / "lists" / "lead-schema.yaml")
    spec = FieldSpec.model_validate({"each": "lead.phones", "if_missing": mode})
    found = facts(spec, schema)
    assert found.types == {"array"} and (found.optional is not None) is optional

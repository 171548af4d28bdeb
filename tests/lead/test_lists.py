"""Lists in the lead schema: declared, validated per item, counted, with positions in messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from engine.contract.leads import leads
from engine.errors import AuthoringError, LeadError
from engine.lead import validate_lead
from engine.lead.schema import lead_schema_text, load_lead_schema
from tests.paths import FIXTURES

SCHEMA = load_lead_schema(FIXTURES / "lists" / "lead-schema.yaml")


def lead(**fields: Any) -> dict[str, Any]:
    return {"timestamp": "2024-01-01T00:00:00Z", "lead": fields}


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(LeadError) as caught:
        validate_lead(SCHEMA, doc)
    return [f"{i.code} {i.message}" for i in caught.value.issues]


def test_items_are_normalised_one_by_one() -> None:
    """Each item of a list of objects is checked like an object; a list of values per value."""
    out = validate_lead(
        SCHEMA,
        lead(
            phones=["(512) 555-0142"],
            drivers=[
                {"first_name": "Ann", "dob": "1990-02-03", "accidents": [{"at_fault": "yes"}]}
            ],
        ),
    )
    assert out["lead"]["phones"] == ["5125550142"]
    assert out["lead"]["drivers"][0]["accidents"] == [{"at_fault": True}]


def test_every_problem_names_the_item_position() -> None:
    """Messages carry list positions (from 0) so the sender finds the item."""
    found = problems(
        lead(phones="x", drivers=[{"dob": "x"}, 3, {"first_name": "b", "accidents": {}}])
    )
    assert found == [
        "LP502 lead.phones: must be a list [...] of values, not 'x'",
        "LP501 lead.drivers[0].first_name: this required field is missing",
        "LP507 lead.drivers[0].dob: 'x***' is not a date; write it as YYYY-MM-DD, like 1985-04-12",
        "LP502 lead.drivers[1]: must be an object holding first_name, dob, accidents, not 3",
        "LP502 lead.drivers[2].accidents: must be a list [...] of objects, not an object {...}",
    ]


@pytest.mark.parametrize(
    ("drivers", "message"),
    [
        ([], "LP501 lead.drivers: this required field is an empty list (Drivers)"),
        (
            [{"first_name": str(i)} for i in range(5)],
            "LP514 lead.drivers: has 5 items, more than the 4 allowed",
        ),
    ],
    ids=["empty-required", "too-many"],
)
def test_item_counts(drivers: list[Any], message: str) -> None:
    assert problems(lead(drivers=drivers)) == [message]


def test_a_required_list_that_is_missing() -> None:
    assert problems(lead()) == ["LP501 lead.drivers: this required field is missing (Drivers)"]


def test_lists_and_pii() -> None:
    """A list is PII when a field inside it is; its paths are known to the compiler."""
    assert SCHEMA.is_pii("lead.drivers") and not SCHEMA.is_pii("lead.drivers.accidents")
    assert SCHEMA.list_of("lead.drivers.accidents.date") == "lead.drivers.accidents"
    assert SCHEMA.list_of("lead.zip") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  lead.x: {type: list}\n", "'lead.x' is a list but says neither what its items are"),
        ("  lead.x: {type: string, of: phone}\n", "'of' only applies to list fields"),
        ("  lead.x: {type: list, of: phone, min_items: 3, max_items: 2}\n", "min_items (3) above"),
        (
            "  lead.x: {type: list, pii: true}\n  lead.x.a: {type: string}\n",
            "'pii' goes on the fields inside",
        ),
        ("  lead.x: {type: list, of: enum}\n", "is a list of enum values but lists no 'values'"),
    ],
    ids=["no-items", "of-on-string", "bounds", "pii-on-objects", "enum-choices"],
)
def test_schema_mistakes(text: str, message: str) -> None:
    with pytest.raises(AuthoringError) as caught:
        lead_schema_text("fields:\n" + text, "lead-schema.yaml")
    assert any(message in i.message for i in caught.value.issues), caught.value.issues


@given(leads(SCHEMA))
def test_generated_leads_carry_lists_within_their_bounds(doc: dict[str, Any]) -> None:
    """Generated leads (contract checks, test leads) hold 0..n items the schema accepts."""
    out = validate_lead(SCHEMA, doc)
    assert 1 <= len(out["lead"]["drivers"]) <= 3
    assert len(out["lead"].get("phones", [])) <= 3

"""Shrinking a breaking lead on the lead itself: plainer, shorter, still breaking, still valid."""

from __future__ import annotations

from random import Random
from typing import Any

from hypothesis import Phase, Verbosity, find, given, settings
from hypothesis import strategies as st

from engine.campaigns.checks import check_consent
from engine.contract.leads import leads
from engine.contract.shrink import shrink_lead
from engine.errors import LeadError
from engine.lead import validate_lead
from engine.lead.schema import load_lead_schema
from tests.paths import REPO
from tests.props import fewer

SCHEMA = load_lead_schema(REPO / "integrations" / "lead-schema.yaml")
OPTIONAL = [path for path, spec in SCHEMA.fields.items() if not spec.required]
ONE = settings(max_examples=1, database=None, phases=(Phase.generate,), verbosity=Verbosity.quiet)
#: The simplest lead with every field present: what shrinking moves each field toward.
SIMPLE = find(leads(SCHEMA, present=OPTIONAL), lambda _: True, settings=ONE, random=Random(0))

RICH: dict[str, Any] = {
    "source_id": "  pub-1042-homequote ",
    "timestamp": "2024-12-15 09:30:00-05:00",
    "lead": {
        "first_name": "Siobhán",
        "last_name": "O'Brien-山田",
        "email": "Siobhan.OBrien@Yahoo.com",
        "phone": "+1 (512) 555-0142",
        "dob": "1985-04-12",
        "address": {
            "street": "1234 Long Avenue Northwest, Building 7, Apartment 42B",
            "city": "Austin",
            "state": "texas",
            "zip": "787011234",
        },
    },
    "attributes": {"home_value": "350000", "credit_tier": "GOOD", "homeowner": "own"},
    "consent": {"tcpa_consent": "yes", "consent_timestamp": "2024-12-15T14:29:58Z"},
}


def valid(doc: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return validate_lead(SCHEMA, doc)
    except LeadError:
        return None


def street_longer_than(limit: int) -> Any:
    def breaks(doc: dict[str, Any]) -> bool:
        lead = valid(doc)
        return lead is not None and len(lead["lead"]["address"]["street"]) > limit

    return breaks


def test_optional_fields_not_needed_are_left_out_and_values_become_the_simplest() -> None:
    """Only what the break needs stays: the long street; everything else is the simplest lead's."""
    out = shrink_lead(RICH, street_longer_than(40), SCHEMA, SIMPLE)
    assert "attributes" not in out and "dob" not in out["lead"]
    assert out["lead"]["phone"] == SIMPLE["lead"]["phone"]
    assert out["lead"]["first_name"] == SIMPLE["lead"]["first_name"]


def test_text_is_cut_to_the_shortest_breaking_length_in_plain_ascii() -> None:
    """A limit of 40 leaves a street of exactly 41 plain letters."""
    out = shrink_lead(RICH, street_longer_than(40), SCHEMA, SIMPLE)
    assert out["lead"]["address"]["street"] == "A" + "a" * 40


def test_whole_numbers_move_to_the_smallest_that_still_breaks() -> None:
    """A home value above 100000 shrinks to 100001, written as a plain number."""

    def breaks(doc: dict[str, Any]) -> bool:
        lead = valid(doc)
        return lead is not None and lead.get("attributes", {}).get("home_value", 0) > 100000

    out = shrink_lead(RICH, breaks, SCHEMA, SIMPLE)
    assert out["attributes"] == {"home_value": 100001}


def test_a_needed_value_keeps_its_choice_in_canonical_spelling() -> None:
    """An enum value that matters is kept, spelled as the schema declares it."""

    def breaks(doc: dict[str, Any]) -> bool:
        lead = valid(doc)
        return lead is not None and lead.get("attributes", {}).get("credit_tier") == "good"

    out = shrink_lead(RICH, breaks, SCHEMA, SIMPLE)
    assert out["attributes"] == {"credit_tier": "good"}


def test_the_lead_time_and_consent_time_move_together() -> None:
    """Consent never ends up after the lead's time: the shrunk lead passes the consent check."""
    out = shrink_lead(RICH, street_longer_than(40), SCHEMA, SIMPLE)
    lead = valid(out)
    assert lead is not None and check_consent(lead) is None
    assert out["timestamp"] == SIMPLE["timestamp"]


def test_the_budget_caps_the_number_of_tries() -> None:
    """With a budget of 5, ``breaks`` is called at most 5 times, and the lead still breaks."""
    calls: list[int] = []
    breaks = street_longer_than(40)

    def counted(doc: dict[str, Any]) -> bool:
        calls.append(1)
        return bool(breaks(doc))

    out = shrink_lead(RICH, counted, SCHEMA, SIMPLE, budget=5)
    assert len(calls) <= 5 and breaks(out)


@fewer(4)
@given(leads(SCHEMA), st.integers(0, 30))
def test_a_shrunk_lead_is_valid_still_breaks_and_is_no_bigger(doc: Any, slack: int) -> None:
    """Whatever the lead and limit: the result is valid, breaks, and has no field more."""
    before = validate_lead(SCHEMA, doc)
    breaks = street_longer_than(max(0, len(before["lead"]["address"]["street"]) - 1 - slack))
    out = shrink_lead(doc, breaks, SCHEMA, SIMPLE)
    assert breaks(out)
    after = validate_lead(SCHEMA, out)
    assert check_consent(after) is None
    assert _paths(after) <= _paths(before)


def _paths(doc: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in doc.items():
        path = f"{prefix}{key}"
        found |= _paths(value, path + ".") if isinstance(value, dict) else {path}
    return found

"""The generated-leads strategy: every lead is valid, and the awkward cases are all reached."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from functools import cache
from random import Random
from typing import Any

import phonenumbers
import pytest
from email_validator import validate_email
from hypothesis import Phase, Verbosity, find, given, settings
from hypothesis.errors import NoSuchExample

from engine.campaigns.checks import check_consent, check_email, check_phone
from engine.contract.leads import leads
from engine.lead import KINDS, FieldSpec, LeadSchema, lead_timestamp, validate_lead
from engine.lead.schema import load_lead_schema
from tests.paths import REPO

SCHEMA = load_lead_schema(REPO / "integrations" / "lead-schema.yaml")
#: Optional fields outside lists (a list's item fields are drawn by the same code, per item).
OPTIONAL = [
    path
    for path, spec in SCHEMA.fields.items()
    if not spec.required and SCHEMA.list_of(path.rpartition(".")[0]) is None
]
FAST = settings()
#: Searches for one kind of lead: deterministic, silent, and bounded.
SEARCH = settings(
    max_examples=400, database=None, deadline=None, verbosity=Verbosity.quiet,
    phases=(Phase.generate,),
)  # fmt: skip

#: Every kind of field at once, required and optional, outside the real schema's layout.
EVERY_KIND = LeadSchema(
    {
        f"{'deep.' if i % 2 else ''}f_{kind}": FieldSpec(
            kind, required=i % 3 == 0, values=("a", "B-b", "c c") if kind == "enum" else ()
        )
        for i, kind in enumerate(KINDS)
    }
)


def _get(doc: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


@cache
def pool(size: int = 600) -> tuple[dict[str, Any], ...]:
    """The first ``size`` raw leads Hypothesis generates with seed 0 (computed once)."""
    drawn: list[dict[str, Any]] = []

    def keep(doc: dict[str, Any]) -> bool:
        drawn.append(doc)
        return False

    with pytest.raises(NoSuchExample):
        find(leads(SCHEMA), keep, settings=settings(SEARCH, max_examples=size), random=Random(0))
    return tuple(drawn)


def reached(condition: Callable[[dict[str, Any]], bool]) -> None:
    """Some lead of the pool meets ``condition``."""
    assert any(condition(doc) for doc in pool())


def normalized(doc: dict[str, Any], path: str) -> Any:
    return _get(validate_lead(SCHEMA, doc), path)


def values_at(doc: Any, dotted: str) -> list[Any]:
    """Every value at ``dotted``, through lists: one per item of ``lead.drivers``."""
    nodes = [doc]
    for key in dotted.split("."):
        nodes = [n for node in nodes for n in (node if isinstance(node, list) else [node])]
        nodes = [n[key] for n in nodes if isinstance(n, dict) and key in n]
    return nodes


# -- validity ------------------------------------------------------------------------------------


@FAST
@given(leads(SCHEMA))
def test_every_generated_lead_passes_the_lead_schema_and_the_presale_checks(doc: Any) -> None:
    """validate_lead accepts every lead; phone, email and consent checks pass; it is JSON."""
    assert json.loads(json.dumps(doc)) == doc
    lead = validate_lead(SCHEMA, doc)
    assert lead_timestamp(lead).tzinfo is not None
    assert check_phone(lead) is None
    assert check_email(lead) is None
    assert check_consent(lead) is None


@FAST
@given(leads(EVERY_KIND))
def test_leads_of_a_schema_with_every_kind_are_valid(doc: Any) -> None:
    """Every field type, required or not, nested or not, gives valid values."""
    lead = validate_lead(EVERY_KIND, doc)
    assert lead_timestamp(lead).tzinfo is not None


@FAST
@given(leads(SCHEMA))
def test_phone_numbers_are_valid_us_numbers_for_phonenumbers(doc: Any) -> None:
    """The raw phone, in whatever spelling, parses to a valid number in a US region."""
    number = phonenumbers.parse(str(doc["lead"]["phone"]), "US")
    assert phonenumbers.is_valid_number(number)
    assert phonenumbers.region_code_for_number(number) in {"US", "PR"}


@FAST
@given(leads(SCHEMA))
def test_emails_are_accepted_by_email_validator(doc: Any) -> None:
    """email-validator, as the normalizer calls it, accepts the raw address (trimmed)."""
    validate_email(doc["lead"]["email"].strip(), check_deliverability=False)


@FAST
@given(leads(SCHEMA, choices={"lead.address.state": ["TX", "CA"]}, present=["lead.dob"]))
def test_choices_narrow_a_field_and_present_keeps_an_optional_field(doc: Any) -> None:
    """``choices`` keeps the state among those given; ``present`` always sends lead.dob."""
    assert normalized(doc, "lead.address.state") in {"TX", "CA"}
    assert normalized(doc, "lead.dob") is not None


ONLY_EMAIL = LeadSchema({"lead.email": FieldSpec("email", required=True)})


@FAST
@given(leads(ONLY_EMAIL))
def test_a_timestamp_is_generated_even_when_the_schema_lacks_one(doc: Any) -> None:
    """Rendering needs the lead's time, so every lead carries a valid ``timestamp``."""
    assert lead_timestamp(validate_lead(ONLY_EMAIL, doc)).tzinfo is not None


# -- shrinking -----------------------------------------------------------------------------------

#: Hypothesis shrinks a lead's whole choice sequence: a few fields keep these tests quick.
SMALL = LeadSchema(
    {
        "lead.first_name": FieldSpec("string", required=True),
        "lead.address.street": FieldSpec("string", required=True),
        "lead.phone": FieldSpec("phone"),
        "lead.dob": FieldSpec("date"),
        "attributes.homeowner": FieldSpec("enum", values=("own", "rent")),
        "attributes.home_value": FieldSpec("integer"),
    }
)
SHRINK = settings(SEARCH, phases=list(Phase))


def test_the_simplest_lead_has_only_required_fields_and_short_ascii_names() -> None:
    """Shrinking moves toward a plain lead: optional fields absent, one-letter ASCII names."""
    doc = find(leads(SMALL), lambda d: len(json.dumps(d)) > 0, settings=SHRINK)
    assert set(validate_lead(SMALL, doc)["lead"]) == {"first_name", "address"}
    assert "attributes" not in doc
    for value in (doc["lead"]["first_name"], doc["lead"]["address"]["street"]):
        assert len(value) == 1 and value in string.ascii_letters


def test_a_long_text_shrinks_to_the_shortest_length_that_matters() -> None:
    """A street longer than 40 characters shrinks to exactly 41, the rest to the simplest."""
    doc = find(
        leads(SMALL),
        lambda d: len(validate_lead(SMALL, d)["lead"]["address"]["street"]) > 40,
        settings=SHRINK,
    )
    assert len(doc["lead"]["address"]["street"]) == 41
    assert "attributes" not in doc and len(doc["lead"]["first_name"]) == 1


# -- coverage of the awkward cases ---------------------------------------------------------------

ENUM_VALUES = [
    (path, value) for path, spec in SCHEMA.fields.items() if spec.kind == "enum"
    for value in spec.values
]  # fmt: skip


@pytest.mark.parametrize(("path", "value"), ENUM_VALUES, ids=[f"{p}={v}" for p, v in ENUM_VALUES])
def test_every_enum_value_is_generated(path: str, value: str) -> None:
    """Each choice of each enum field appears in some lead."""
    reached(lambda d: value in values_at(validate_lead(SCHEMA, d), path))


@pytest.mark.parametrize("path", OPTIONAL)
@pytest.mark.parametrize("missing", ["absent", None, ""], ids=["absent", "null", "blank"])
def test_optional_fields_are_sometimes_missing(path: str, missing: Any) -> None:
    """An optional field is left out, sent as null, or sent blank (validation drops it)."""
    marker = object()

    def shows(doc: dict[str, Any]) -> bool:
        *parents, key = path.split(".")
        node = _get(doc, ".".join(parents)) if parents else doc
        if not isinstance(node, dict):
            return bool(missing == "absent")
        found = node.get(key, marker)
        if missing == "absent":
            return found is marker
        return found == missing or (missing == "" and isinstance(found, str) and not found.strip())

    reached(shows)


AWKWARD: dict[str, Callable[[dict[str, Any]], bool]] = {
    "accented name": lambda d: any(c in d["lead"]["first_name"] for c in "éëñüøß"),
    "CJK name": lambda d: any("\u4e00" <= c <= "\u9fff" for c in d["lead"]["last_name"]),
    "emoji": lambda d: any(ord(c) > 0x1F000 for c in d["lead"]["first_name"]),
    "long name": lambda d: len(d["lead"]["last_name"]) > 60,
    "spaces around": lambda d: d["lead"]["first_name"] != d["lead"]["first_name"].strip(),
    "ZIP+4": lambda d: len(normalized(d, "lead.address.zip")) == 10,
    "ZIP as a number": lambda d: isinstance(d["lead"]["address"]["zip"], int),
    "state by name": lambda d: len(d["lead"]["address"]["state"].strip()) > 2,
    "phone with +1": lambda d: str(d["lead"]["phone"]).startswith("+1"),
    "phone in parentheses": lambda d: "(" in str(d["lead"]["phone"]),
    "phone as a number": lambda d: isinstance(d["lead"]["phone"], int),
    "leap-day birth date": lambda d: str(normalized(d, "lead.dob")).endswith("-02-29"),
    "timestamp with an offset": lambda d: d["timestamp"][-6] in "+-",
    "timestamp near a leap day": lambda d: "-02-29" in normalized(d, "timestamp"),
    "integer at its bound": lambda d: normalized(d, "attributes.year_built") in (1700, 2100),
    "integer as text": lambda d: isinstance(_get(d, "attributes.year_built"), str),
    "number as text": lambda d: isinstance(_get(d, "attributes.current_premium"), str),
    "yes/no as a word": lambda d: _get(d, "attributes.currently_insured") in ("yes", "no"),
    "upper-case choice": lambda d: _get(d, "attributes.homeowner") in ("OWN", "RENT"),
    "international email": lambda d: not d["lead"]["email"].isascii(),
    "consent 80+ days old": lambda d: (
        (lead_timestamp(validate_lead(SCHEMA, d)) - _consent_time(d)).days > 80
    ),
}


def _consent_time(doc: dict[str, Any]) -> Any:
    return lead_timestamp({"timestamp": normalized(doc, "consent.consent_timestamp")})


@pytest.mark.parametrize("case", list(AWKWARD))
def test_awkward_leads_are_generated(case: str) -> None:
    """Unicode and long names, ZIP+4, phone spellings, leap days, boundaries all appear."""
    reached(AWKWARD[case])


def test_an_exchange_the_area_code_lacks_is_not_generated() -> None:
    """983-600-xxxx is no valid number (Hypothesis found it): the exchange falls back to 200."""
    import phonenumbers

    from engine.contract.lead_values import _spell_phone

    for npa, exchange in ((983, 600), (512, 555), (212, 600)):
        text = _spell_phone(npa, exchange, 42, 0)
        assert phonenumbers.is_valid_number(phonenumbers.parse(text, "US")), text
    assert _spell_phone(983, 600, 42, 1) == "983-200-0042"

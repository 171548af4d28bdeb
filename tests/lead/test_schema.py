"""Tests of lead-schema.yaml loading and of the sample leads in integrations/leads/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import AuthoringError, LeadError
from engine.lead import LeadSchema, parse_lead_json, validate_lead
from engine.lead.schema import load_lead_schema
from tests.paths import REPO

ROOT = REPO
SCHEMA_FILE = ROOT / "integrations" / "lead-schema.yaml"
LEADS = ROOT / "integrations" / "leads"
VALID = sorted(p.name for p in LEADS.glob("sample*.json"))


@pytest.fixture(scope="module")
def schema() -> LeadSchema:
    return load_lead_schema(SCHEMA_FILE)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lead-schema.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def failure(path: Path) -> list[tuple[str, int, int]]:
    with pytest.raises(AuthoringError) as caught:
        load_lead_schema(path, "lead-schema.yaml")
    return [(i.code, i.span.line, i.span.col) for i in caught.value.issues if i.span]


def messages(path: Path) -> list[str]:
    with pytest.raises(AuthoringError) as caught:
        load_lead_schema(path, "lead-schema.yaml")
    return [i.render() for i in caught.value.issues]


def test_the_shipped_schema_compiles(schema: LeadSchema) -> None:
    """integrations/lead-schema.yaml declares the insurance/home lead with PII and choices."""
    assert schema.pii_fields == {
        "lead.first_name",
        "lead.last_name",
        "lead.email",
        "lead.phone",
        "lead.dob",
        "lead.address.street",
        "lead.other_phones",
        "lead.drivers.first_name",
        "lead.drivers.last_name",
        "lead.drivers.dob",
        "lead.vehicles.vin",
    }
    assert schema.list_paths == {
        "lead.other_phones",
        "lead.drivers",
        "lead.drivers.incidents",
        "lead.vehicles",
    }
    assert {"lead", "lead.address", "attributes", "consent"} <= schema.paths
    assert schema.enum_values("attributes.credit_tier") == ("excellent", "good", "fair", "poor")
    assert schema.enum_values("attributes.homeowner") == ("own", "rent")
    assert schema.fields["lead.phone"].kind == "phone"
    assert schema.fields["lead.phone"].required
    assert schema.fields["lead.phone"].description == "Consumer's phone number"
    assert schema.fields["attributes.home_value"].kind == "integer"
    assert not schema.fields["lead.dob"].required


@pytest.mark.parametrize("name", VALID)
def test_sample_leads_are_valid(schema: LeadSchema, name: str) -> None:
    """Every sample*.json lead passes and its normalized form is stable."""
    out = validate_lead(schema, parse_lead_json((LEADS / name).read_bytes()))
    assert len(out["lead"]["phone"]) == 10
    assert out["timestamp"].endswith("Z")
    assert validate_lead(schema, out) == out


def test_sample_lead_normalized_values(schema: LeadSchema) -> None:
    """The CA and FL samples show what transforms see: codes, digits, UTC, declared spellings."""
    ca = validate_lead(schema, json.loads((LEADS / "sample-ca-renter.json").read_text("utf-8")))
    assert ca["timestamp"] == "2024-12-16T17:05:12.250Z"
    assert ca["lead"]["first_name"] == "José"
    assert ca["lead"]["last_name"] == "Ñúñez"
    assert ca["lead"]["email"] == "Jose.Nunez@outlook.com"
    assert ca["lead"]["phone"] == "2135550199"
    assert ca["lead"]["address"]["state"] == "CA"
    assert ca["attributes"] == {
        "credit_tier": "good",
        "homeowner": "rent",
        "coverage_type": "renters",
        "currently_insured": False,
    }
    fl = validate_lead(schema, json.loads((LEADS / "sample-fl-obrien.json").read_text("utf-8")))
    assert fl["lead"]["last_name"] == "O'Brien"
    assert fl["lead"]["address"]["zip"] == "33139-1234"
    assert fl["attributes"]["home_value"] == 425000
    assert fl["attributes"]["current_premium"] == 310.75
    assert fl["consent"]["jornaya_leadid"] == "97DD3C67-E594-412B-A8B3-F960763654F9"
    assert fl["consent"]["tcpa_consent"] is True


def test_undeclared_fields_pass_through(schema: LeadSchema) -> None:
    """Fields the schema does not declare are kept exactly as sent."""
    ny = validate_lead(schema, json.loads((LEADS / "sample-ny-minimal.json").read_text("utf-8")))
    assert ny["sub_id"] == "campaign-7"
    assert ny["attributes"]["referrer_note"] == "kept as sent: not declared in the schema"


INVALID = {
    "invalid-many.json": [
        "LP507 timestamp: '2024-12-15T14:30:00' has no time zone; add \"Z\" for UTC or an "
        'offset like "+00:00"',
        "LP501 lead.last_name: this required field is missing (Consumer's last name)",
        "LP504 lead.email: 'j***@gmail' is not a valid email address: the part after "
        "the @-sign is not valid. It should have a period.",
        "LP507 lead.dob: '***1985' is not a date; write it as YYYY-MM-DD, like 1985-04-12",
        "LP505 lead.address.state: 'XX' is not a US state; write its 2-letter code like TX",
        "LP506 lead.address.zip: '7870' is not a ZIP code; write 5 digits like 78701 or ZIP+4 "
        "like 78701-1234",
        "LP510 attributes.credit_tier: 'excelent' is not one of the choices excellent, good, "
        "fair, poor (did you mean excellent?)",
        "LP502 attributes.home_value: '350k' is not a whole number; write digits only, like 350000",
        "LP502 attributes.currently_insured: 'maybe' is not yes or no; write true or false",
        "LP508 consent.trustedform_url: 'http://cert.trustedform.com/8151325dcdbae9e0ff95f9f9"
        "65843...' must start with https://, not http://; it looks like "
        "https://cert.trustedform.com/ followed by 40 characters 0-9 and a-f",
        "LP509 consent.jornaya_leadid: 'not-a-token' is not a Jornaya LeadiD token; it looks "
        "like 8D3A7F4E-1B2C-4D5E-9F60-718293A4B5C6 (36 characters, groups of 8-4-4-4-12)",
    ],
    "invalid-missing.json": [
        "LP501 lead.first_name: this required field is empty (Consumer's first name)",
        "LP501 lead.address.street: this required field is missing (Street address)",
        "LP501 lead.address.city: this required field is missing (City)",
        "LP501 lead.address.state: this required field is missing (Two-letter US state code)",
        "LP501 lead.address.zip: this required field is missing (ZIP or ZIP+4 code)",
        "LP501 consent.tcpa_consent: this required field is missing (Consumer agreed to be "
        "contacted)",
        "LP501 consent.consent_timestamp: this required field is missing (When consent was given)",
    ],
    "invalid-syntax.json": [
        "LP512 the lead is not valid JSON: expecting property name enclosed in double quotes "
        "at line 7, column 3",
    ],
}


def test_a_bad_phone_number_is_kept_and_recorded_not_refused(schema: LeadSchema) -> None:
    """The example schema keeps a phone number that is not valid (buyers decide), records why
    without repeating it, and leaves the valid email recorded as valid."""
    lead = validate_lead(schema, parse_lead_json((LEADS / "bad-phone.json").read_bytes()))
    assert lead["lead"]["phone"] == "555-12"
    assert lead["validity"] == {
        "lead.phone": {"valid": False, "reason": "not a valid US phone number"},
        "lead.email": {"valid": True},
    }


def test_every_invalid_sample_has_pinned_expectations() -> None:
    """Each invalid-*.json file in integrations/leads/ is covered below."""
    assert sorted(p.name for p in LEADS.glob("invalid-*.json")) == sorted(INVALID)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_sample_leads(schema: LeadSchema, name: str) -> None:
    """Every problem of an invalid lead is reported, one message per field."""
    with pytest.raises(LeadError) as caught:
        validate_lead(schema, parse_lead_json((LEADS / name).read_bytes()))
    assert [f"{i.code} {i.message}" for i in caught.value.issues] == INVALID[name]


def test_schema_problems_are_all_reported_with_positions(tmp_path: Path) -> None:
    """Model errors and meaning errors come together, each at its line and column."""
    path = write(
        tmp_path,
        "fields:\n"
        "  lead.phone: {type: phon, pii: true}\n"
        "  lead..email: {type: email}\n"
        "  lead.address: {type: string}\n"
        "  lead.address.zip: {type: zip, colour: red}\n"
        "  attributes.homeowner: {type: enum}\n"
        '  attributes.credit_tier: {type: enum, values: [good, Good, " fair"]}\n'
        "  attributes.home_value: {type: integer, values: [1, 2]}\n"
        "  attributes.tier: {type: enum, values: []}\n",
    )
    found = failure(path)
    assert [(code, line) for code, line, _ in found] == [
        ("LP205", 2),
        ("LP204", 3),
        ("LP312", 5),
        ("LP201", 5),
        ("LP202", 6),
        ("LP204", 7),
        ("LP204", 7),
        ("LP312", 8),
        ("LP204", 9),
    ]


def test_meaning_messages(tmp_path: Path) -> None:
    """The checks the model cannot express explain themselves and how to fix the file."""
    path = write(
        tmp_path,
        "fields:\n"
        "  lead..email: {type: email}\n"
        "  lead.address: {type: string}\n"
        "  lead.address.zip: {type: zip}\n"
        "  attributes.homeowner: {type: enum}\n"
        "  attributes.tier: {type: enum, values: [good, Good, ' fair']}\n"
        "  attributes.home_value: {type: integer, values: [1]}\n"
        "  attributes.none: {type: enum, values: []}\n",
    )
    assert messages(path) == [
        "lead-schema.yaml:2:3: LP204 'lead..email' is not a valid field path\n"
        "  hint: join names made of letters, digits and _ with dots: lead.address.zip",
        "lead-schema.yaml:4:3: LP312 'lead.address' is declared as a single value, but "
        "'lead.address.zip' is declared inside it\n"
        "  hint: remove 'lead.address' (objects are implied by the fields inside them)",
        "lead-schema.yaml:5:25: LP202 'attributes.homeowner' is an enum field but lists no "
        "'values'\n  hint: add the allowed choices, e.g. values: [own, rent]",
        "lead-schema.yaml:6:48: LP204 choice 'Good' of 'attributes.tier' repeats 'good' "
        "(case is ignored)\n  hint: keep only one of them",
        "lead-schema.yaml:6:54: LP204 choice ' fair' of 'attributes.tier' is empty or has "
        "spaces around it\n  hint: write each choice as plain text without surrounding spaces",
        "lead-schema.yaml:7:42: LP312 'values' only applies to enum fields, and "
        "'attributes.home_value' has type integer\n  hint: use 'type: enum', or remove 'values'",
        "lead-schema.yaml:8:41: LP204 'attributes.none' lists no choices\n"
        "  hint: write at least one choice, e.g. values: [own, rent]",
    ]


def test_empty_field_list_is_refused(tmp_path: Path) -> None:
    """A schema with no fields at all is an authoring error."""
    assert failure(write(tmp_path, "fields: {}\n")) == [("LP204", 1, 9)]


def test_unknown_top_level_key_and_missing_fields(tmp_path: Path) -> None:
    """Only 'fields' may appear at the top, and it must be there."""
    found = failure(write(tmp_path, "feilds:\n  lead.phone: {type: phone}\n"))
    assert sorted(code for code, _, _ in found) == ["LP201", "LP202"]


def test_missing_file_is_an_authoring_error(tmp_path: Path) -> None:
    """A schema path that does not exist is reported as LP100."""
    with pytest.raises(AuthoringError) as caught:
        load_lead_schema(tmp_path / "nope.yaml")
    assert [i.code for i in caught.value.issues] == ["LP100"]


def test_bounds_apply_to_numbers_only_and_in_order(tmp_path: Path) -> None:
    """minimum/maximum on text is refused, and so is a minimum above the maximum."""
    path = write(
        tmp_path,
        "fields:\n"
        "  lead.name: {type: string, minimum: 1}\n"
        "  attributes.year: {type: integer, minimum: 2100, maximum: 1900}\n"
        "  attributes.value: {type: number, minimum: 0, maximum: 1.5e3}\n",
    )
    assert messages(path) == [
        "lead-schema.yaml:2:29: LP312 'minimum' only applies to integer and number fields, and "
        "'lead.name' has type string\n  hint: remove 'minimum'",
        "lead-schema.yaml:3:45: LP312 'attributes.year' has a minimum (2100) above its maximum "
        "(1900)\n  hint: swap them, or correct one",
    ]


def test_a_number_outside_its_bounds_is_refused_at_intake(schema: LeadSchema) -> None:
    """The shipped schema bounds home values and model years: LP513 names the limit."""
    sample = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text())
    sample["attributes"] |= {"home_value": -5, "vehicle_year": "2150"}
    with pytest.raises(LeadError) as err:
        validate_lead(schema, sample)
    assert [(i.code, i.message) for i in err.value.issues] == [
        ("LP513", "attributes.home_value: -5 is below 0, the least allowed"),
        ("LP513", "attributes.vehicle_year: '2150' is above 2099, the most allowed"),
    ]
    sample["attributes"] |= {"home_value": 0, "vehicle_year": "2099"}
    assert validate_lead(schema, sample)["attributes"]["vehicle_year"] == 2099


def test_required_valid_applies_to_phone_and_email_and_validity_is_reserved(
    tmp_path: Path,
) -> None:
    """``required_valid`` on another type is LP312; no field may live under ``validity``."""
    path = write(
        tmp_path,
        "fields:\n"
        "  lead.phone: {type: phone, required_valid: true}\n"
        "  lead.zip: {type: zip, required_valid: true}\n"
        "  validity.note: {type: string}\n",
    )
    assert messages(path) == [
        "lead-schema.yaml:3:25: LP312 'required_valid' only applies to phone and email fields, "
        "and 'lead.zip' has type zip\n"
        "  hint: remove it: an invalid zip value always refuses the lead",
        "lead-schema.yaml:4:3: LP204 'validity.note' is inside 'validity', which leadpost keeps "
        "for the validity it records of phone and email fields\n"
        "  hint: give the field another name (leads cannot carry 'validity')",
    ]

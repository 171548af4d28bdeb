"""Unit tests of the compiled LeadSchema plan, validate_lead and parse_lead_json."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine.errors import LeadError
from engine.lead import FieldSpec, LeadSchema, parse_lead_json, validate_lead

SCHEMA = LeadSchema(
    {
        "source_id": FieldSpec("string", required=True, description="Where the lead came from"),
        "timestamp": FieldSpec("datetime", required=True),
        "lead.first_name": FieldSpec("string", pii=True, required=True, description="First name"),
        "lead.phone": FieldSpec("phone", pii=True, required=True, required_valid=True),
        "lead.email": FieldSpec("email", pii=True, required_valid=True),
        "lead.address.street": FieldSpec("string", pii=True, required=True),
        "lead.address.state": FieldSpec("state", required=True),
        "lead.address.zip": FieldSpec("zip"),
        "attributes.homeowner": FieldSpec("enum", values=("own", "rent")),
        "attributes.home_value": FieldSpec("integer"),
        "consent.tcpa_consent": FieldSpec("boolean", required=True),
    }
)


def good_lead() -> dict[str, Any]:
    return {
        "source_id": "pub-1",
        "timestamp": "2024-12-15T09:30:00-05:00",
        "lead": {
            "first_name": " José ",
            "phone": "(512) 555-0142",
            "email": "Jo@Example.COM",
            "address": {"street": "123 Main St", "state": "tx", "zip": "787011234"},
        },
        "attributes": {"homeowner": "OWN", "home_value": "350000", "pets": ["dog"]},
        "consent": {"tcpa_consent": "yes"},
        "sub_id": {"nested": [1, 2]},
    }


def messages(doc: Any) -> list[str]:
    with pytest.raises(LeadError) as caught:
        validate_lead(SCHEMA, doc)
    assert all(i.span is None for i in caught.value.issues)
    return [f"{i.code} {i.message}" for i in caught.value.issues]


def test_plan_lists_paths_parents_and_pii() -> None:
    """The plan knows every declared path, each object above one, and the PII fields."""
    assert SCHEMA.paths == set(SCHEMA.fields) | {"lead", "lead.address", "attributes", "consent"}
    assert SCHEMA.pii_fields == {
        "lead.first_name",
        "lead.phone",
        "lead.email",
        "lead.address.street",
    }
    assert list(SCHEMA.fields)[:3] == ["source_id", "timestamp", "lead.first_name"]


def test_enum_values_and_is_pii() -> None:
    """enum_values gives the declared choices or None; is_pii also flags objects holding PII."""
    assert SCHEMA.enum_values("attributes.homeowner") == ("own", "rent")
    assert SCHEMA.enum_values("attributes.home_value") is None
    assert SCHEMA.enum_values("nope") is None
    assert SCHEMA.is_pii("lead.phone")
    assert SCHEMA.is_pii("lead.address")
    assert SCHEMA.is_pii("lead")
    assert not SCHEMA.is_pii("lead.address.state")
    assert not SCHEMA.is_pii("lead.add")


def test_plan_is_immutable() -> None:
    """Neither the plan nor its fields mapping can be changed after building."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCHEMA.paths = frozenset()  # type: ignore[misc]
    with pytest.raises(TypeError):
        SCHEMA.fields["x"] = FieldSpec("string")  # type: ignore[index]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"a": FieldSpec("colour")}, "unknown type"),
        ({"a": FieldSpec("enum")}, "choices are required"),
        ({"a": FieldSpec("string", values=("x",))}, "choices are required"),
        ({"a..b": FieldSpec("string")}, "empty part"),
        ({"a": FieldSpec("string"), "a.b": FieldSpec("string")}, "is inside it"),
    ],
    ids=["unknown-kind", "enum-without-values", "values-on-string", "empty-part", "value-parent"],
)
def test_impossible_declarations_are_programming_errors(
    fields: dict[str, FieldSpec], fragment: str
) -> None:
    """Building a plan from inconsistent specs fails at once (the YAML loader reports these)."""
    with pytest.raises(ValueError, match=fragment):
        LeadSchema(fields)


def test_valid_lead_is_normalized_into_a_new_dict() -> None:
    """Declared fields come back normalized; undeclared ones are kept as sent; input untouched."""
    doc = good_lead()
    out = validate_lead(SCHEMA, doc)
    assert out == {
        "source_id": "pub-1",
        "timestamp": "2024-12-15T14:30:00Z",
        "lead": {
            "first_name": "José",
            "phone": "5125550142",
            "email": "Jo@example.com",
            "address": {"street": "123 Main St", "state": "TX", "zip": "78701-1234"},
        },
        "attributes": {"homeowner": "own", "home_value": 350000, "pets": ["dog"]},
        "consent": {"tcpa_consent": True},
        "sub_id": {"nested": [1, 2]},
        "validity": {"lead.phone": {"valid": True}, "lead.email": {"valid": True}},
    }
    assert doc == good_lead()
    assert out["lead"] is not doc["lead"]
    assert out["sub_id"] is doc["sub_id"]


def test_optional_fields_that_are_null_or_blank_are_left_out() -> None:
    """A declared optional field sent as null or blank text is absent from the normalized lead."""
    doc = good_lead()
    doc["lead"]["email"] = None
    doc["lead"]["address"]["zip"] = "  "
    del doc["attributes"]
    out = validate_lead(SCHEMA, doc)
    assert "email" not in out["lead"]
    assert "zip" not in out["lead"]["address"]
    assert "attributes" not in out


def test_every_problem_is_listed_one_per_field() -> None:
    """All bad fields are reported together, each message starting with its dotted path."""
    doc = good_lead()
    doc["timestamp"] = "2024-12-15T14:30:00"
    doc["lead"]["phone"] = "555-12"
    doc["lead"]["first_name"] = ""
    doc["lead"]["address"]["state"] = "XX"
    doc["attributes"]["homeowner"] = "lease"
    doc["consent"]["tcpa_consent"] = "maybe"
    assert messages(doc) == [
        "LP507 timestamp: '2024-12-15T14:30:00' has no time zone; add \"Z\" for UTC or an "
        'offset like "+00:00"',
        "LP501 lead.first_name: this required field is empty (First name)",
        "LP503 lead.phone: '***5512' is not a valid US phone number; write 10 digits like "
        "512-555-0142",
        "LP505 lead.address.state: 'XX' is not a US state; write its 2-letter code like TX",
        "LP510 attributes.homeowner: 'lease' is not one of the choices own, rent",
        "LP502 consent.tcpa_consent: 'maybe' is not yes or no; write true or false",
    ]


def test_missing_object_reports_each_required_field_inside() -> None:
    """When an object is absent or null, every required field in it is reported missing."""
    doc = good_lead()
    del doc["lead"]["address"]
    doc["consent"] = None
    del doc["source_id"]
    assert messages(doc) == [
        "LP501 source_id: this required field is missing (Where the lead came from)",
        "LP501 lead.address.street: this required field is missing",
        "LP501 lead.address.state: this required field is missing",
        "LP501 consent.tcpa_consent: this required field is missing",
    ]


def test_object_of_the_wrong_shape_is_one_problem() -> None:
    """An object sent as text or a list is reported once, naming the fields it should hold."""
    doc = good_lead()
    doc["lead"]["address"] = "123 Main St, Austin TX"
    doc["attributes"] = ["own"]
    assert messages(doc) == [
        "LP502 lead.address: must be an object holding street, state, zip, not "
        "'123 Main St, Austin TX'",
        "LP502 attributes: must be an object holding homeowner, home_value, not a list [...]",
    ]


@pytest.mark.parametrize(
    ("doc", "shown"),
    [([], "a list [...]"), ("lead", "'lead'"), (None, "null"), (3, "3")],
    ids=["list", "text", "null", "number"],
)
def test_a_lead_that_is_not_an_object_is_refused(doc: Any, shown: str) -> None:
    """Only a JSON object can be a lead."""
    assert messages(doc) == [f"LP502 the lead must be a JSON object {{...}}, not {shown}"]


def test_parse_lead_json_accepts_text_and_bytes() -> None:
    """A lead arrives as JSON text or UTF-8 bytes (a byte-order mark is tolerated)."""
    assert parse_lead_json('{"a": 1}') == {"a": 1}
    assert parse_lead_json(b'{"name": "Jos\xc3\xa9"}') == {"name": "José"}
    assert parse_lead_json("\ufeff{}") == {}
    assert parse_lead_json(b"\xef\xbb\xbf{}") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n  "a": 1,\n}', "the lead is not valid JSON: expecting property name enclosed in "
         "double quotes at line 3, column 1"),
        ("", "the lead is not valid JSON: expecting value at line 1, column 1"),
        ('{"a": NaN}', "the lead is not valid JSON: NaN is not allowed; send a number or null"),
        ('{"a": 1, "a": 2}', "the lead is not valid JSON: the key 'a' appears twice in one "
         "object; keep only one"),
        (b'{"a": "\xff"}', "the lead is not valid JSON: it is not UTF-8 text"),
        ("[" * 100_000, "the lead is not valid JSON: it is nested too deeply"),
        ('{"a": ' + "9" * 5000 + "}", "the lead is not valid JSON: a number in it is too long"),
        ("[1, 2]", "the lead must be a JSON object {...}, not a list [...]"),
    ],
    ids=["trailing-comma", "empty", "nan", "duplicate-key", "not-utf8", "too-deep", "huge-number",
         "not-object"],
)  # fmt: skip
def test_parse_lead_json_errors(text: str | bytes, message: str) -> None:
    """Broken JSON raises LeadError LP512 saying what is wrong and where."""
    with pytest.raises(LeadError) as caught:
        parse_lead_json(text)
    [issue] = caught.value.issues
    assert (issue.code, issue.message) == ("LP512", message)


# -- validity of phone and email fields --------------------------------------------------------

KEEPING = LeadSchema(
    {
        "lead.phone": FieldSpec("phone", pii=True, required=True),
        "lead.email": FieldSpec("email", pii=True),
        "lead.alt_phone": FieldSpec("phone", pii=True, required_valid=True),
    }
)


@pytest.mark.parametrize(
    ("phone", "kept", "reason"),
    [
        ("555-12", "555-12", "not a valid US phone number"),
        ("(123) 555-0142", "1235550142", "not a valid US phone number"),
        ("+44 20 7946 0958", "+44 20 7946 0958", "not a US phone number (it is outside the US)"),
        ("+1 416 555 0199", "4165550199", "not a US phone number (it is outside the US)"),
        ("call me" * 10, "call me" * 10, "too long to be a phone number"),
    ],
    ids=["short", "bad-area-code", "abroad", "canada", "too-long"],
)
def test_an_invalid_phone_is_kept_and_recorded_without_repeating_it(
    phone: str, kept: str, reason: str
) -> None:
    """Without ``required_valid`` the lead is not refused: the value is kept (10 digits when it
    has them) and its validity recorded with a reason that does not repeat the number."""
    out = validate_lead(KEEPING, {"lead": {"phone": phone, "email": "jo@example.com"}})
    assert out["lead"]["phone"] == kept
    assert out["validity"] == {
        "lead.phone": {"valid": False, "reason": reason},
        "lead.email": {"valid": True},
    }
    assert kept[:6] not in reason


def test_an_invalid_email_is_kept_with_a_reason_that_does_not_repeat_it() -> None:
    """email-validator's explanation is kept only when it quotes nothing of the address."""
    out = validate_lead(KEEPING, {"lead": {"phone": "5125550142", "email": " jo@example "}})
    assert out["lead"]["email"] == "jo@example"
    entry = out["validity"]["lead.email"]
    assert entry["valid"] is False
    assert entry["reason"].startswith("not a valid email address")
    assert "example" not in entry["reason"]


def test_required_valid_still_refuses_the_lead() -> None:
    """A field marked ``required_valid`` refuses an invalid value at intake, as before."""
    with pytest.raises(LeadError) as caught:
        validate_lead(KEEPING, {"lead": {"phone": "5125550142", "alt_phone": "555-12"}})
    assert [i.code for i in caught.value.issues] == ["LP503"]


def test_a_validity_sent_with_the_lead_is_replaced() -> None:
    """Only leadpost writes ``validity``: a lead cannot claim its own phone is valid, a lead
    without contact fields has none, and validating a normalized lead again changes nothing."""
    forged = {"lead": {"phone": "555-12"}, "validity": {"lead.phone": {"valid": True}}}
    out = validate_lead(KEEPING, forged)
    assert out["validity"] == {
        "lead.phone": {"valid": False, "reason": "not a valid US phone number"}
    }
    assert validate_lead(KEEPING, out) == out
    none = LeadSchema({"source_id": FieldSpec("string")})
    assert validate_lead(none, {"source_id": "x", "validity": {"a": 1}}) == {"source_id": "x"}


def test_a_wrong_kind_of_value_is_still_refused() -> None:
    """Only readable text can be kept: an object or a true/false is LP502 as before."""
    with pytest.raises(LeadError) as caught:
        validate_lead(KEEPING, {"lead": {"phone": {"n": 1}}})
    assert [i.code for i in caught.value.issues] == ["LP502"]

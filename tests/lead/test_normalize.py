"""Unit tests of the lead normalizers: accepted spellings, normalized forms, pinned messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import LeadError
from engine.lead.normalize import (
    KINDS,
    NORMALIZERS,
    US_STATES,
    InvalidValue,
    enum_normalizer,
    normalize_boolean,
    normalize_value,
)
from engine.transforms.formats import truth
from engine.words import NO, YES, show

TF_ID = "8151325dcdbae9e0ff95f9f9658432dbedfdb209"
PHONE_FIX = "is not a valid US phone number; write 10 digits like 512-555-0142"
ABROAD = "is not a US phone number (it is outside the US)"
STATE_FIX = "is not a US state; write its 2-letter code like TX"
ZIP_FIX = "is not a ZIP code; write 5 digits like 78701 or ZIP+4 like 78701-1234"
DATE_FIX = "is not a date; write it as YYYY-MM-DD, like 1985-04-12"
STAMP_FIX = "is not a timestamp; write it like 2024-12-15T14:30:00Z"
TF_LOOKS = "it looks like https://cert.trustedform.com/ followed by 40 characters 0-9 and a-f"
TF_URL = f"https://cert.trustedform.com/{TF_ID}"
JORNAYA = "331052b0-bf7e-4a58-a358-43aaaa3653d0"
WEB_FIX = "is not a web address; write it like https://example.com/page"

ACCEPTED: list[tuple[str, Any, Any]] = [
    ("phone", "(512) 555-0142", "5125550142"),
    ("phone", "512.555.0142", "5125550142"),
    ("phone", "+1 512 555 0142", "5125550142"),
    ("phone", "15125550142", "5125550142"),
    ("phone", "512-555-0142", "5125550142"),
    ("phone", 5125550142, "5125550142"),
    ("phone", "(787) 555-0123", "7875550123"),
    ("email", "Jane.Doe@Example.COM", "Jane.Doe@example.com"),
    ("email", "  jose@gmail.com ", "jose@gmail.com"),
    ("state", "tx", "TX"),
    ("state", " Ca ", "CA"),
    ("state", "dc", "DC"),
    ("state", "PR", "PR"),
    ("state", "new  york", "NY"),
    ("zip", "78701", "78701"),
    ("zip", "78701-1234", "78701-1234"),
    ("zip", "787011234", "78701-1234"),
    ("zip", 78701, "78701"),
    ("date", "1985-04-12", "1985-04-12"),
    ("date", " 2000-02-29 ", "2000-02-29"),
    ("datetime", "2024-12-15T14:30:00Z", "2024-12-15T14:30:00Z"),
    ("datetime", "2024-12-15T09:30:00-05:00", "2024-12-15T14:30:00Z"),
    ("datetime", "2024-12-15T14:30:00.5+00:00", "2024-12-15T14:30:00.5Z"),
    ("datetime", "2024-12-15T14:30:00.123456789Z", "2024-12-15T14:30:00.123456Z"),
    ("datetime", "2024-12-15 14:30Z", "2024-12-15T14:30:00Z"),
    ("datetime", "2024-12-16T01:00:00+0530", "2024-12-15T19:30:00Z"),
    ("datetime", "2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"),
    ("trustedform_url", TF_URL, TF_URL),
    ("trustedform_url", f"HTTPS://Cert.TrustedForm.com/{TF_ID.upper()}/", TF_URL),
    ("trustedform_url", TF_URL.replace("cert", "ping"), TF_URL.replace("cert", "ping")),
    ("jornaya_leadid", JORNAYA, JORNAYA.upper()),
    ("integer", 350000, 350000),
    ("integer", "350000", 350000),
    ("integer", " -12 ", -12),
    ("integer", 350000.0, 350000),
    ("integer", "350000.00", 350000),
    ("number", "12.50", 12.5),
    ("number", 12, 12.0),
    ("number", ".5", 0.5),
    ("number", "1e3", 1000.0),
    ("boolean", True, True),
    ("boolean", "Yes", True),
    ("boolean", "n", False),
    ("boolean", "1", True),
    ("boolean", "FALSE", False),
    ("boolean", 0, False),
    ("string", "  José  ", "José"),
    ("string", "Jose\u0301", "José"),
    ("string", 1042, "1042"),
    ("url", "https://quotes.example.com/home?a=1", "https://quotes.example.com/home?a=1"),
]


@pytest.mark.parametrize(
    ("kind", "given", "expected"), ACCEPTED, ids=[f"{k}-{g!r}" for k, g, _ in ACCEPTED]
)
def test_accepted_values_normalize(kind: str, given: Any, expected: Any) -> None:
    """Every common spelling of a valid value turns into the one normalized form."""
    result = NORMALIZERS[kind](given)
    assert result == expected
    assert type(result) is type(expected)


REJECTED: list[tuple[str, Any, str, str]] = [
    ("phone", "555-12", "LP503", f"'555-12' {PHONE_FIX}"),
    ("phone", "5551234567", "LP503", f"'5551234567' {PHONE_FIX}"),
    ("phone", "+44 20 7946 0958", "LP503", f"'+44 20 7946 0958' {ABROAD}"),
    ("phone", "+1 416 555 0199", "LP503", f"'+1 416 555 0199' {ABROAD}"),
    ("phone", 12.5, "LP502", "must be a phone number written as text, not a number (12.5)"),
    (
        "email",
        "john.smith@gmail",
        "LP504",
        "'john.smith@gmail' is not a valid email address: the part after the @-sign is not valid. "
        "It should have a period.",
    ),
    (
        "email",
        "john.smith",
        "LP504",
        "'john.smith' is not a valid email address: an email address must have an @-sign.",
    ),
    ("email", 42, "LP502", "must be an email address, not a number (42)"),
    ("state", "XX", "LP505", f"'XX' {STATE_FIX}"),
    ("state", "Ontario", "LP505", f"'Ontario' {STATE_FIX}"),
    ("zip", "7870", "LP506", f"'7870' {ZIP_FIX}"),
    ("zip", 2134, "LP506", f"2134 {ZIP_FIX}"),
    ("zip", "٧٨٧٠١", "LP506", f"'٧٨٧٠١' {ZIP_FIX}"),
    ("date", "04/12/1985", "LP507", f"'04/12/1985' {DATE_FIX}"),
    ("date", "2023-02-29", "LP507", f"'2023-02-29' {DATE_FIX}"),
    (
        "datetime",
        "2024-12-15T14:30:00",
        "LP507",
        '\'2024-12-15T14:30:00\' has no time zone; add "Z" for UTC or an offset like "+00:00"',
    ),
    ("datetime", "2024-12-15", "LP507", f"'2024-12-15' {STAMP_FIX}"),
    ("datetime", "2024-12-15T25:00:00Z", "LP507", f"'2024-12-15T25:00:00Z' {STAMP_FIX}"),
    ("datetime", "2024-12-15T10:00:00+05:99", "LP507", f"'2024-12-15T10:00:00+05:99' {STAMP_FIX}"),
    ("datetime", "0001-01-01T00:00:00+01:00", "LP507", f"'0001-01-01T00:00:00+01:00' {STAMP_FIX}"),
    (
        "datetime",
        1734273000,
        "LP502",
        "must be a timestamp like 2024-12-15T14:30:00Z, not a number (1734273000)",
    ),
    (
        "trustedform_url",
        f"http://cert.trustedform.com/{TF_ID}",
        "LP508",
        "'http://cert.trustedform.com/8151325dcdbae9e0ff95f9f965843...' must start with "
        f"https://, not http://; {TF_LOOKS}",
    ),
    (
        "trustedform_url",
        "https://cert.trustedform.com/xxxxx",
        "LP508",
        f"'https://cert.trustedform.com/xxxxx' is not a TrustedForm certificate URL; {TF_LOOKS}",
    ),
    (
        "trustedform_url",
        f"https://evil.example.com/{TF_ID}",
        "LP508",
        "'https://evil.example.com/8151325dcdbae9e0ff95f9f9658432db...' is not a TrustedForm "
        f"certificate URL; {TF_LOOKS}",
    ),
    (
        "jornaya_leadid",
        "not-a-token",
        "LP509",
        "'not-a-token' is not a Jornaya LeadiD token; it looks like "
        "8D3A7F4E-1B2C-4D5E-9F60-718293A4B5C6 (36 characters, groups of 8-4-4-4-12)",
    ),
    ("integer", "350k", "LP502", "'350k' is not a whole number; write digits only, like 350000"),
    ("integer", 12.5, "LP502", "12.5 is not a whole number; write digits only, like 350000"),
    ("integer", True, "LP502", "must be a whole number, not true/false (true)"),
    ("integer", [1], "LP502", "must be a whole number, not a list [...]"),
    ("number", "12,50", "LP502", "'12,50' is not a number; write it like 12.50"),
    ("number", "1e999", "LP502", "'1e999' is not a number; write it like 12.50"),
    ("number", 10**400, "LP502", f"{10**400} is not a number; write it like 12.50"),
    ("number", False, "LP502", "must be a number, not true/false (false)"),
    ("boolean", "maybe", "LP502", "'maybe' is not yes or no; write true or false"),
    ("boolean", 2, "LP502", "must be true or false, not a number (2)"),
    ("string", {"a": 1}, "LP502", "must be text, not an object {...}"),
    ("string", 1.5, "LP502", "must be text, not a number (1.5)"),
    ("url", "quotes.example.com", "LP502", f"'quotes.example.com' {WEB_FIX}"),
    (
        "url",
        "https://exa mple.com/",
        "LP502",
        "'https://exa mple.com/' is not a web address: it contains spaces",
    ),
    ("url", "http://[::1", "LP502", f"'http://[::1' {WEB_FIX}"),
]


@pytest.mark.parametrize(
    ("kind", "given", "code", "reason"),
    REJECTED,
    ids=[f"{k}-{str(g)[:30]!r}" for k, g, _, _ in REJECTED],
)
def test_rejected_values_explain_the_fix(kind: str, given: Any, code: str, reason: str) -> None:
    """A bad value raises InvalidValue with its LP5xx code and a plain-English reason."""
    with pytest.raises(InvalidValue) as caught:
        NORMALIZERS[kind](given)
    assert caught.value.code == code
    assert caught.value.reason == reason


def test_enum_matches_ignoring_case_and_returns_declared_spelling() -> None:
    """Choices compare as text, case-insensitively; the declared spelling comes back."""
    normalize = enum_normalizer(["excellent", "Good", "2020"])
    assert normalize(" EXCELLENT ") == "excellent"
    assert normalize("good") == "Good"
    assert normalize(2020) == "2020"


@pytest.mark.parametrize(
    ("given", "code", "reason"),
    [
        (
            "excelent",
            "LP510",
            "'excelent' is not one of the choices excellent, good, fair, poor "
            "(did you mean excellent?)",
        ),
        ("superb", "LP510", "'superb' is not one of the choices excellent, good, fair, poor"),
        (True, "LP502", "must be one of: excellent, good, fair, poor, not true/false (true)"),
        (["good"], "LP502", "must be one of: excellent, good, fair, poor, not a list [...]"),
    ],
    ids=["typo-suggests", "unknown", "bool", "list"],
)
def test_enum_rejections(given: Any, code: str, reason: str) -> None:
    """A value outside the choices lists them, and suggests the nearest one when it is close."""
    normalize = enum_normalizer(["excellent", "good", "fair", "poor"])
    with pytest.raises(InvalidValue) as caught:
        normalize(given)
    assert (caught.value.code, caught.value.reason) == (code, reason)


def test_normalize_value_names_the_field_in_a_lead_error() -> None:
    """normalize_value (for pre-sale checks) raises LeadError whose message starts with the path."""
    assert normalize_value("state", "tx", "lead.address.state") == "TX"
    assert normalize_value("enum", "OWN", "attributes.homeowner", ["own", "rent"]) == "own"
    with pytest.raises(LeadError) as caught:
        normalize_value("phone", "555-12", "lead.phone")
    [issue] = caught.value.issues
    assert issue.code == "LP503"
    assert issue.span is None
    assert issue.message == (
        "lead.phone: '555-12' is not a valid US phone number; write 10 digits like 512-555-0142"
    )
    assert str(caught.value) == f"LP503 {issue.message}"


def test_registry_covers_every_kind_and_states_include_dc_and_territories() -> None:
    """Every schema type has a normalizer (enum through its factory); DC and PR count as states."""
    assert set(KINDS) == {*NORMALIZERS, "enum"}
    assert len(KINDS) == 14
    assert {"DC", "PR", "GU", "VI", "AS", "MP"} <= US_STATES
    assert len(US_STATES) == 56


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", "'abc'"),
        ("x" * 80, "'" + "x" * 57 + "...'"),
        (None, "null"),
        (True, "true"),
        (3, "3"),
        ({}, "an object {...}"),
        ([], "a list [...]"),
        (float("nan"), "a number that is not finite"),
    ],
    ids=["text", "long-text", "null", "bool", "int", "object", "list", "nan"],
)
def test_show_writes_values_as_a_person_would(value: Any, shown: str) -> None:
    """Messages quote text, write JSON literals as JSON and never show Python reprs."""
    assert show(value) == shown


@given(st.sampled_from(sorted(YES | NO)), st.sampled_from([str.lower, str.upper, str.title]))
def test_intake_and_the_boolean_transform_read_the_same_words(word: str, case: Any) -> None:
    """One yes/no vocabulary: a word intake accepts is the same answer in `boolean`."""
    assert normalize_boolean(f" {case(word)} ") is truth(case(word)) is (word in YES)

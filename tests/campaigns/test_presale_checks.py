"""Pre-sale checks: each one's pass and fail cases with the exact reason; never an exception."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.campaigns.checks import (
    CHECKS,
    check_consent,
    check_disposable_email,
    check_email,
    check_phone,
    first_failure,
    parse_suppression,
    phone_digits,
    suppression_check,
)
from engine.lead import validate_lead
from engine.lead.schema import load_lead_schema
from tests.paths import REPO

ROOT = REPO
FAST = settings()


def sample_lead() -> dict[str, Any]:
    """The sample lead, normalized against the real lead schema."""
    schema = load_lead_schema(ROOT / "integrations" / "lead-schema.yaml")
    raw = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text())
    return validate_lead(schema, raw)


def patch(lead: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set one dotted field of ``lead`` in place (remove it when value is ...); return the lead."""
    *parents, key = path.split(".")
    node = lead
    for part in parents:
        node = node.setdefault(part, {})
    if value is ...:
        node.pop(key, None)
    else:
        node[key] = value
    return lead


def with_(path: str, value: Any) -> dict[str, Any]:
    """A copy of the sample lead with one dotted field set (or removed when value is ...)."""
    return patch(copy.deepcopy(sample_lead()), path, value)


def test_the_sample_lead_passes_every_builtin_check() -> None:
    """A normal lead passes phone, email, disposable email and consent."""
    lead = sample_lead()
    assert {name: check(lead) for name, check in CHECKS.items()} == dict.fromkeys(CHECKS)


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("5125550142", None),
        ("+1 (213) 555-0199", None),
        (..., "the lead has no phone number"),
        ("", "the lead has no phone number"),
        ("555-12", "the phone number is not a valid US phone number"),
        ("1234567890", "the phone number is not a valid US phone number"),
        ("+44 20 7946 0958", "the phone number is not a US number"),
        ("+1 416 555 0123", "the phone number is not a US number"),
        (True, "the phone number is not a valid US phone number"),
    ],
    ids=["digits", "formatted", "missing", "blank", "short", "bad-area", "uk", "canada", "bool"],
)
def test_phone_check(phone: Any, reason: str | None) -> None:
    """The phone must be a valid number of a US region; the reason never repeats the number."""
    assert check_phone(with_("lead.phone", phone)) == reason


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("john.smith@gmail.com", None),
        (..., "the lead has no email address"),
        (42, "the email address is not valid"),
        (
            "john.smith@gmail",
            "the email address is not valid: the part after the @-sign is not valid. "
            "It should have a period.",
        ),
        (
            "john smith@gmail.com",
            "the email address is not valid: the email address contains invalid characters "
            "before the @-sign: SPACE.",
        ),
    ],
    ids=["ok", "missing", "number", "no-dot", "space"],
)
def test_email_check(email: Any, reason: str | None) -> None:
    """The email address must be valid syntax (no DNS look-up is made)."""
    assert check_email(with_("lead.email", email)) == reason


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("john.smith@gmail.com", None),
        (
            "burner@mailinator.com",
            "the email address uses 'mailinator.com', a throwaway (disposable) email service",
        ),
        (
            "burner@Inbox.Mailinator.COM",
            "the email address uses 'mailinator.com', a throwaway (disposable) email service",
        ),
        (..., "the lead has no email address"),
    ],
    ids=["gmail", "mailinator", "subdomain-any-case", "missing"],
)
def test_disposable_email_check(email: Any, reason: str | None) -> None:
    """Addresses at a throwaway provider (or a subdomain of one) fail."""
    assert check_disposable_email(with_("lead.email", email)) == reason


LEAD_AT = "2024-12-15T14:30:00Z"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"consent.trustedform_url": ...}, None),
        (
            {"consent.tcpa_consent": False},
            "the consumer did not agree to be contacted (consent.tcpa_consent is false)",
        ),
        (
            {"consent.tcpa_consent": ...},
            "the lead has no TCPA consent answer (consent.tcpa_consent is missing)",
        ),
        (
            {"consent.tcpa_consent": "maybe"},
            "the TCPA consent answer (consent.tcpa_consent) is not true or false",
        ),
        (
            {"consent.consent_timestamp": ...},
            "the lead does not say when consent was given (consent.consent_timestamp is missing)",
        ),
        (
            {"consent.consent_timestamp": "yesterday"},
            "the consent time (consent.consent_timestamp) is not a valid timestamp",
        ),
        (
            {"timestamp": ...},
            "the lead's timestamp is missing or not valid, so its consent cannot be dated",
        ),
        ({"consent.consent_timestamp": "2024-12-15T14:34:59Z"}, None),
        (
            {"consent.consent_timestamp": "2024-12-15T14:36:00Z"},
            "consent was given at 2024-12-15 14:36 UTC, more than 5 minutes after the lead was "
            "submitted at 2024-12-15 14:30 UTC",
        ),
        (
            {"consent.trustedform_url": "http://cert.trustedform.com/" + "a" * 40},
            "the TrustedForm certificate URL is not well formed: expected "
            "https://cert.trustedform.com/ followed by 40 hexadecimal characters",
        ),
        ({"consent.consent_timestamp": "2024-09-16T14:30:00Z"}, None),
        (
            {"consent.consent_timestamp": "2024-09-15T14:29:00Z"},
            "the TrustedForm certificate is 91 days old at the lead's time (consent given "
            "2024-09-15 14:29 UTC); certificates expire after 90 days",
        ),
        (
            {"consent.consent_timestamp": "2024-09-15T14:29:00Z", "consent.trustedform_url": ...},
            None,
        ),
    ],
    ids=[
        "ok",
        "no-certificate",
        "tcpa-false",
        "tcpa-missing",
        "tcpa-garbled",
        "consent-time-missing",
        "consent-time-garbled",
        "lead-time-missing",
        "consent-within-5-minutes-after",
        "consent-6-minutes-after",
        "certificate-malformed",
        "certificate-90-days",
        "certificate-91-days",
        "old-consent-without-certificate",
    ],
)
def test_consent_check(changes: dict[str, Any], reason: str | None) -> None:
    """TCPA yes, a consent time not after the lead (+5 min), a certificate at most 90 days old."""
    lead = sample_lead()
    assert lead["timestamp"] == LEAD_AT
    for path, value in changes.items():
        patch(lead, path, value)
    assert check_consent(lead) == reason


SUPPRESSION = """\
# numbers we must never call
(512) 555-0142
+1 213 555 0187   # trailing notes are fine
Do-Not-Contact@Example.com
not a number
"""


def test_suppression_file_is_read_line_by_line() -> None:
    """Phones become 10 digits, emails lower case; notes and blanks skip; bad lines are named."""
    listed, bad = parse_suppression("suppression.txt", SUPPRESSION)
    assert listed.phones == {"5125550142", "2135550187"}
    assert listed.emails == {"do-not-contact@example.com"}
    assert [(b.line, b.text) for b in bad] == [(5, "not a number")]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("lead.phone", "5125550142", "the phone number is on the suppression list (dnc.txt)"),
        ("lead.phone", "+1 512-555-0142", "the phone number is on the suppression list (dnc.txt)"),
        ("lead.phone", "5125550143", None),
        (
            "lead.email",
            "DO-NOT-CONTACT@example.COM",
            "the email address is on the suppression list (dnc.txt)",
        ),
        ("lead.email", "someone@example.com", None),
    ],
    ids=["phone", "phone-formatted", "other-phone", "email-any-case", "other-email"],
)
def test_suppression_check(field: str, value: str, reason: str | None) -> None:
    """A lead whose phone or email is on the list fails; others pass."""
    listed, _ = parse_suppression("dnc.txt", SUPPRESSION)
    lead = with_(field, value)
    if field == "lead.email":
        lead["lead"]["phone"] = "2025550111"
    assert suppression_check(listed)(lead) == reason


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("(512) 555-0142", "5125550142"),
        ("15125550142", "5125550142"),
        (5125550142, "5125550142"),
        ("555-0142", None),
        (None, None),
        (True, None),
    ],
)
def test_phone_digits(value: Any, digits: str | None) -> None:
    """Ten national digits, a leading 1 dropped; anything else is None."""
    assert phone_digits(value) == digits


def test_first_failure_names_the_check() -> None:
    """The first failing check's reason comes back prefixed by its name."""
    lead = with_("lead.email", "burner@mailinator.com")
    assert first_failure(CHECKS.items(), lead) == (
        "disposable_email: the email address uses 'mailinator.com', a throwaway (disposable) "
        "email service"
    )
    assert first_failure(CHECKS.items(), sample_lead()) is None


# -- property: any lead JSON gives None or a reason ----------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            "5125550142",
            "a@b.co",
            "2024-12-15T14:30:00Z",
            "true",
            "x@mailinator.com",
            "https://cert.trustedform.com/" + "0" * 40,
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
leads = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": json_values,
        "lead": json_values
        | st.fixed_dictionaries({}, optional={"phone": json_values, "email": json_values}),
        "consent": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "tcpa_consent": json_values,
                "consent_timestamp": json_values,
                "trustedform_url": json_values,
            },
        ),
    },
)

ALL_CHECKS: list[Callable[[dict[str, Any]], str | None]] = [
    *CHECKS.values(),
    suppression_check(parse_suppression("dnc.txt", SUPPRESSION)[0]),
]


@FAST
@given(lead=leads | json_values)
def test_checks_never_raise(lead: Any) -> None:
    """Any lead JSON given to any check gives None or a reason (text), never an exception."""
    for check in ALL_CHECKS:
        result = check(lead if isinstance(lead, dict) else {"lead": lead})
        assert result is None or (isinstance(result, str) and result)

"""Pre-sale checks: pure functions over a lead that return None to pass or the reason it fails.

Every check takes the normalized lead (any mapping, in fact: a check never raises, whatever the
lead holds) and returns ``None`` when the lead passes or a plain-English reason when it fails.
Reasons never repeat the consumer's phone number or email address: they end up in logs.

TrustedForm certificate ids do not encode when the certificate was made, and checking one online
is a service call (describe it as a ``services:`` integration). The consent check therefore takes
``consent.consent_timestamp`` as the certificate's time: the certificate must be at most 90 days
old at the lead's ``timestamp``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import phonenumbers
from disposable_email_domains import blocklist
from email_validator import EmailNotValidError, validate_email

from engine.lead.normalize import InvalidValue, normalize_boolean, normalize_datetime

#: A pre-sale check: the lead in, None (passes) or the reason it fails out.
Check = Callable[[Mapping[str, Any]], str | None]

#: Regions whose numbers count as US: the states plus the territories with their own region code.
US_REGIONS: Final = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})
#: Oldest TrustedForm certificate accepted, measured at the lead's timestamp.
CERTIFICATE_MAX_AGE: Final = timedelta(days=90)
#: How long after the lead's timestamp a consent time may be (clock differences between systems).
CONSENT_CLOCK_SKEW: Final = timedelta(minutes=5)

_TRUSTEDFORM = re.compile(r"https://(cert|ping)\.trustedform\.com/[0-9a-f]{40}/?", re.IGNORECASE)
_DISPOSABLE: Final = frozenset(d.lower() for d in blocklist)


def _get(lead: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of the lead, or None when any step is missing."""
    cur: Any = lead
    for key in dotted.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _moment(value: Any) -> datetime | None:
    """A timestamp as an aware datetime, or None when it is missing or not a timestamp."""
    try:
        return datetime.fromisoformat(normalize_datetime(value))
    except (InvalidValue, ValueError):
        return None


def phone_digits(value: Any) -> str | None:
    """A phone number as its 10 national digits (a leading country code 1 dropped), or None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    digits = "".join(ch for ch in str(value) if ch.isascii() and ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def check_phone(lead: Mapping[str, Any]) -> str | None:
    """``lead.phone`` is a valid US number (phonenumbers' is_valid_number, US regions)."""
    value = _get(lead, "lead.phone")
    if _blank(value):
        return "the lead has no phone number"
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 40:
        return "the phone number is not a valid US phone number"
    try:
        number = phonenumbers.parse(str(value), "US")
    except phonenumbers.NumberParseException:
        return "the phone number is not a valid US phone number"
    if not phonenumbers.is_valid_number(number):
        return "the phone number is not a valid US phone number"
    if phonenumbers.region_code_for_number(number) not in US_REGIONS:
        return "the phone number is not a US number"
    return None


def _email(lead: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(the address, None) or (None, the reason there is no usable address)."""
    value = _get(lead, "lead.email")
    if _blank(value):
        return None, "the lead has no email address"
    if not isinstance(value, str) or len(value) > 320:
        return None, "the email address is not valid"
    return value.strip(), None


def check_email(lead: Mapping[str, Any]) -> str | None:
    """``lead.email`` is a syntactically valid address (email-validator, no DNS look-up)."""
    address, problem = _email(lead)
    if address is None:
        return problem
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        why = str(exc)
        return f"the email address is not valid: {why[:1].lower()}{why[1:]}"
    return None


def email_domain(address: str) -> str:
    """The lower-cased part after the last ``@`` (the whole text when there is none)."""
    return address.rpartition("@")[2].strip().lower().rstrip(".")


def check_disposable_email(lead: Mapping[str, Any]) -> str | None:
    """``lead.email`` is not at a throwaway-address provider (or a subdomain of one)."""
    address, problem = _email(lead)
    if address is None:
        return problem
    domain = email_domain(address)
    labels = domain.split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in _DISPOSABLE:
            return f"the email address uses '{candidate}', a throwaway (disposable) email service"
    return None


def check_consent(lead: Mapping[str, Any]) -> str | None:
    """TCPA consent is yes, its time is known and not after the lead, TrustedForm is usable."""
    tcpa = _get(lead, "consent.tcpa_consent")
    if _blank(tcpa):
        return "the lead has no TCPA consent answer (consent.tcpa_consent is missing)"
    try:
        agreed = normalize_boolean(tcpa)
    except InvalidValue:
        return "the TCPA consent answer (consent.tcpa_consent) is not true or false"
    if not agreed:
        return "the consumer did not agree to be contacted (consent.tcpa_consent is false)"
    raw_consent = _get(lead, "consent.consent_timestamp")
    if _blank(raw_consent):
        return "the lead does not say when consent was given (consent.consent_timestamp is missing)"
    consent_at = _moment(raw_consent)
    if consent_at is None:
        return "the consent time (consent.consent_timestamp) is not a valid timestamp"
    lead_at = _moment(_get(lead, "timestamp"))
    if lead_at is None:
        return "the lead's timestamp is missing or not valid, so its consent cannot be dated"
    if consent_at > lead_at + CONSENT_CLOCK_SKEW:
        return (
            f"consent was given at {_show(consent_at)}, more than 5 minutes after the lead "
            f"was submitted at {_show(lead_at)}"
        )
    certificate = _get(lead, "consent.trustedform_url")
    if _blank(certificate):
        return None
    if not isinstance(certificate, str) or not _TRUSTEDFORM.fullmatch(certificate.strip()):
        return (
            "the TrustedForm certificate URL is not well formed: expected "
            "https://cert.trustedform.com/ followed by 40 hexadecimal characters"
        )
    age = lead_at - consent_at
    if age > CERTIFICATE_MAX_AGE:
        return (
            f"the TrustedForm certificate is {age.days} days old at the lead's time "
            f"(consent given {_show(consent_at)}); certificates expire after 90 days"
        )
    return None


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# -- suppression (do-not-call) lists -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SuppressionList:
    """Phone numbers (10 digits) and email addresses (lower-cased) that must not be sold."""

    name: str
    phones: frozenset[str]
    emails: frozenset[str]


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a suppression file that is neither a phone number nor an email address."""

    line: int
    text: str


def parse_suppression(name: str, text: str) -> tuple[SuppressionList, tuple[BadLine, ...]]:
    """Read a suppression file: one phone number or email per line; blank and ``#`` lines skip."""
    phones: set[str] = set()
    emails: set[str] = set()
    bad: list[BadLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        if "@" in entry:
            emails.add(entry.lower())
        elif (digits := phone_digits(entry)) is not None:
            phones.add(digits)
        else:
            bad.append(BadLine(number, entry))
    return SuppressionList(name, frozenset(phones), frozenset(emails)), tuple(bad)


def suppression_check(listed: SuppressionList) -> Check:
    """A check failing leads whose phone number or email address is on ``listed``."""

    def check_suppression(lead: Mapping[str, Any]) -> str | None:
        phone = phone_digits(_get(lead, "lead.phone"))
        if phone is not None and phone in listed.phones:
            return f"the phone number is on the suppression list ({listed.name})"
        email = _get(lead, "lead.email")
        if isinstance(email, str) and email.strip().lower() in listed.emails:
            return f"the email address is on the suppression list ({listed.name})"
        return None

    return check_suppression


def contact_keys(lead: Mapping[str, Any]) -> tuple[str, ...]:
    """The lead's phone (10 digits) and email (lower case), spelled as suppression lists are."""
    keys = []
    phone = phone_digits(_get(lead, "lead.phone"))
    if phone is not None:
        keys.append(phone)
    email = _get(lead, "lead.email")
    if isinstance(email, str) and email.strip():
        keys.append(email.strip().lower())
    return tuple(keys)


def stored_suppression(
    lead: Mapping[str, Any], lookup: Callable[[Iterable[str]], str | None]
) -> str | None:
    """The store's suppression list (``lookup`` is Store.suppressed) as a check's reason."""
    found = lookup(contact_keys(lead))
    if found is None:
        return None
    what = "email address" if "@" in found else "phone number"
    return f"the {what} is on the suppression list kept in the store"


#: The built-in checks a campaign's ``validation:`` switches on by name, in running order.
CHECKS: dict[str, Check] = {
    "phone": check_phone,
    "email": check_email,
    "disposable_email": check_disposable_email,
    "consent": check_consent,
}


def first_failure(checks: Iterable[tuple[str, Check]], lead: Mapping[str, Any]) -> str | None:
    """The reason of the first failing check, prefixed by its name; None when all pass."""
    for name, check in checks:
        reason = check(lead)
        if reason is not None:
            return f"{name}: {reason}"
    return None

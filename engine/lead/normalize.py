"""Normalizers: small pure functions turning one incoming lead value into its normalized form.

Each normalizer takes any JSON value and returns the normalized value or raises
:class:`InvalidValue` (a problem code and a plain-English reason, without the field path).
``NORMALIZERS`` maps every lead-schema type except ``enum`` to its function; ``enum_normalizer``
builds the one for a list of choices. The runtime's pre-sale checks reuse them through
:func:`normalize_value`, which raises :class:`~engine.errors.LeadError` naming the field.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from engine.errors import Issue, LeadError
from engine.words import show, yes_no

#: A normalizer: a JSON value in, the normalized value out (or InvalidValue).
Normalizer = Callable[[Any], Any]


class InvalidValue(Exception):
    """A value failed its normalizer: ``code`` is an LP5xx code, ``reason`` follows the path.

    A contact value that is readable but not valid (a phone number that is no US number, a
    malformed email address) also carries ``kept``, the value as far as it could be normalized,
    and ``plain``, a reason that repeats none of it: a lead schema may keep such a value and
    record that it is invalid instead of refusing the lead (see ``engine.lead.validity``).
    """

    def __init__(self, code: str, reason: str, *, kept: str | None = None, plain: str = "") -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.kept = kept
        self.plain = plain

    def issue(self, path: str) -> Issue:
        """The Issue for field ``path``: its message starts with the dotted path."""
        return Issue(self.code, f"{path}: {self.reason}")


def _describe(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"true/false ({show(value)})"
    if isinstance(value, int | float):
        return f"a number ({show(value)})"
    if isinstance(value, str):
        return f"text ({show(value)})"
    return show(value)


def _wrong_type(value: Any, wanted: str) -> InvalidValue:
    return InvalidValue("LP502", f"must be {wanted}, not {_describe(value)}")


def _text(value: Any, wanted: str, *, numbers: bool = False) -> str:
    """The stripped text of a string value (or of a JSON number when ``numbers``)."""
    if isinstance(value, str):
        return value.strip()
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _wrong_type(value, wanted)


# -- plain values --------------------------------------------------------------------------------


def normalize_string(value: Any) -> str:
    """Text, trimmed and Unicode-composed (a whole JSON number becomes its digits): ``'José'``."""
    return unicodedata.normalize("NFC", _text(value, "text", numbers=True))


_INTEGER = re.compile(r"[+-]?\d{1,18}(?:\.0*)?", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d{1,18}(?:\.\d{0,12})?|\.\d{1,12})(?:[eE][+-]?\d{1,3})?", re.ASCII)


def normalize_integer(value: Any) -> int:
    """A whole number from a JSON number or numeric text: ``'350000'`` -> ``350000``."""
    if isinstance(value, bool):
        raise _wrong_type(value, "a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(Decimal(value.strip()))
    if isinstance(value, float | str):
        raise InvalidValue(
            "LP502", f"{show(value)} is not a whole number; write digits only, like 350000"
        )
    raise _wrong_type(value, "a whole number")


def normalize_number(value: Any) -> float:
    """A number from a JSON number or numeric text: ``'12.50'`` -> ``12.5``."""
    if isinstance(value, bool):
        raise _wrong_type(value, "a number")
    result: float | None = None
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:
            result = None
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        result = float(value.strip())
    elif not isinstance(value, str):
        raise _wrong_type(value, "a number")
    if result is None or not math.isfinite(result):
        raise InvalidValue("LP502", f"{show(value)} is not a number; write it like 12.50")
    return result


def normalize_boolean(value: Any) -> bool:
    """True/false from a JSON bool, 0/1, or a word of the yes/no vocabulary (engine.words)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        answer = yes_no(value)
        if answer is None:
            raise InvalidValue("LP502", f"{show(value)} is not yes or no; write true or false")
        return answer
    raise _wrong_type(value, "true or false")


# -- dates and timestamps ------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:(Z|z)|([+-])(\d{2}):?(\d{2})?)?",
    re.ASCII,
)


def normalize_date(value: Any) -> str:
    """A calendar date written ``YYYY-MM-DD``, kept as that text: ``'1985-04-12'``."""
    text = _text(value, "a date written YYYY-MM-DD")
    if _DATE.fullmatch(text):
        try:
            date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return text
    raise InvalidValue(
        "LP507", f"{show(value)} is not a date; write it as YYYY-MM-DD, like 1985-04-12"
    )


def normalize_datetime(value: Any) -> str:
    """An ISO 8601 timestamp with a time zone, as UTC text: ``'2024-12-15T14:30:00Z'``."""
    text = _text(value, "a timestamp like 2024-12-15T14:30:00Z")
    m = _DATETIME.fullmatch(text)
    bad = f"{show(value)} is not a timestamp; write it like 2024-12-15T14:30:00Z"
    if m is None:
        raise InvalidValue("LP507", bad)
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = m.groups()
    if zulu is None and sign is None:
        raise InvalidValue(
            "LP507",
            f'{show(value)} has no time zone; add "Z" for UTC or an offset like "+00:00"',
        )
    try:
        if int(off_m or 0) > 59:
            raise ValueError(off_m)
        offset = timedelta(hours=int(off_h or 0), minutes=int(off_m or 0))
        if sign == "-":
            offset = -offset
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            micro,
            tzinfo=timezone(offset),
        ).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidValue("LP507", bad) from None
    out = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    if fraction:
        out += "." + f"{moment.microsecond:06d}"[: min(len(fraction), 6)]
    return out + "Z"


# -- contact details -----------------------------------------------------------------------------

#: Regions whose numbers count as US: the states plus the territories with their own region code.
_US_REGIONS: Final = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})
_PHONE_BAD: Final = "is not a valid US phone number; write 10 digits like 512-555-0142"


#: The common North American spellings, read without the full parser (the hot path).
_NANP = re.compile(r"(?:\+?1[ .-]?)?\(?([2-9][0-9]{2})\)?[ .-]?([2-9][0-9]{2})[ .-]?([0-9]{4})")


#: Reasons an invalid phone number is recorded with: they never repeat the number.
PHONE_INVALID: Final = "not a valid US phone number"
PHONE_ABROAD: Final = "not a US phone number (it is outside the US)"
PHONE_TOO_LONG: Final = "too long to be a phone number"


#: A North American spelling whatever the digits: read as these 10 digits by any parser.
_NANP_SHAPE = re.compile(r"(?:\+?1[ .-]?)?\(?([0-9]{3})\)?[ .-]?([0-9]{3})[ .-]?([0-9]{4})")


def _phone_kept(text: str) -> str:
    """An invalid number as far as it normalizes: its 10 digits when it is written the North
    American way (``(123) 555-0142``), else the text as sent (trimmed), so that judging the
    kept value again gives the same verdict."""
    shaped = _NANP_SHAPE.fullmatch(text)
    return "".join(shaped.groups()) if shaped is not None else text


def _bad_phone(value: Any, text: str, plain: str) -> InvalidValue:
    message = f"is {plain}" if plain == PHONE_ABROAD else _PHONE_BAD
    return InvalidValue("LP503", f"{show(value)} {message}", kept=_phone_kept(text), plain=plain)


def normalize_phone(value: Any) -> str:
    """A valid US number in any common format -> 10 digits: ``'(512) 555-0142'`` -> 5125550142."""
    text = _text(value, "a phone number written as text", numbers=True)
    if len(text) > 40:
        raise _bad_phone(value, text, PHONE_TOO_LONG)
    quick = _NANP.fullmatch(text)
    try:
        if quick is not None:
            number = phonenumbers.PhoneNumber(1, int("".join(quick.groups())))
        else:
            number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        raise _bad_phone(value, text, PHONE_INVALID) from None
    region = phonenumbers.region_code_for_number(number)
    if region is None or not phonenumbers.is_valid_number_for_region(number, region):
        raise _bad_phone(value, text, PHONE_INVALID)
    if region not in _US_REGIONS:
        raise _bad_phone(value, text, PHONE_ABROAD)
    return f"{number.national_number:010d}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def normalize_email(value: Any) -> str:
    """An email address in normalized form: ``'Jo@Example.COM'`` -> ``'Jo@example.com'``."""
    text = _text(value, "an email address")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        why = _lower_first(str(exc))
        raise InvalidValue(
            "LP504",
            f"{show(value)} is not a valid email address: {why}",
            kept=unicodedata.normalize("NFC", text),
            plain=EMAIL_INVALID if _repeats(why, text) else f"{EMAIL_INVALID}: {why}",
        ) from None
    return str(checked.normalized)


#: The reason an invalid email address is recorded with (plus what is wrong, when that part
#: repeats nothing of the address).
EMAIL_INVALID: Final = "not a valid email address"


def _repeats(reason: str, address: str) -> bool:
    """True when ``reason`` quotes a piece (3 characters or more) of the address."""
    pieces = re.split(r"[@.\s]+", address.casefold())
    return any(len(p) >= 3 and p in reason.casefold() for p in pieces)


_STATES: Final[dict[str, str]] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa",
    "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
    "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire",
    "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "DC": "District of Columbia",
    "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands", "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
}  # fmt: skip
_STATE_NAMES: Final = {name.casefold(): code for code, name in _STATES.items()}

#: Every state code accepted (the 50 states, DC and the inhabited territories).
US_STATES: Final = frozenset(_STATES)
#: Each code's name as the US Postal Service writes it: ``TX`` -> ``Texas``.
US_STATE_NAMES: Final[Mapping[str, str]] = MappingProxyType(_STATES)


def normalize_state(value: Any) -> str:
    """A US state, DC or territory code or name, any case -> the code: ``'tx'`` -> ``'TX'``."""
    text = _text(value, "a 2-letter state code like TX")
    code = text.upper()
    if code in _STATES:
        return code
    named = _STATE_NAMES.get(" ".join(text.split()).casefold())
    if named is not None:
        return named
    raise InvalidValue("LP505", f"{show(value)} is not a US state; write its 2-letter code like TX")


_ZIP = re.compile(r"(\d{5})(?:-?(\d{4}))?", re.ASCII)


def normalize_zip(value: Any) -> str:
    """A 5-digit ZIP or ZIP+4: ``'787011234'`` -> ``'78701-1234'``."""
    text = _text(value, "a ZIP code written as text", numbers=True)
    m = _ZIP.fullmatch(text)
    if m is None:
        raise InvalidValue(
            "LP506",
            f"{show(value)} is not a ZIP code; write 5 digits like 78701 or ZIP+4 like 78701-1234",
        )
    return f"{m.group(1)}-{m.group(2)}" if m.group(2) else m.group(1)


# -- links and consent tokens --------------------------------------------------------------------


def normalize_url(value: Any) -> str:
    """An http(s) web address, trimmed: ``'https://example.com/quote'``."""
    text = _text(value, "a web address")
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValue(
            "LP502", f"{show(value)} is not a web address; write it like https://example.com/page"
        )
    if any(c.isspace() for c in text):
        raise InvalidValue("LP502", f"{show(value)} is not a web address: it contains spaces")
    return text


_TRUSTEDFORM = re.compile(r"https://(cert|ping)\.trustedform\.com/([0-9a-f]{40})/?", re.IGNORECASE)


def normalize_trustedform_url(value: Any) -> str:
    """A TrustedForm certificate URL: ``https://cert.trustedform.com/`` + 40 hex digits."""
    text = _text(value, "a TrustedForm certificate URL")
    m = _TRUSTEDFORM.fullmatch(text)
    if m is not None:
        return f"https://{m.group(1).lower()}.trustedform.com/{m.group(2).lower()}"
    if text.lower().startswith("http://"):
        reason = "must start with https://, not http://"
    else:
        reason = "is not a TrustedForm certificate URL"
    raise InvalidValue(
        "LP508",
        f"{show(value)} {reason}; it looks like https://cert.trustedform.com/ followed by "
        "40 characters 0-9 and a-f",
    )


_JORNAYA = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def normalize_jornaya_leadid(value: Any) -> str:
    """A Jornaya LeadiD token (a 36-character GUID), upper-cased."""
    text = _text(value, "a Jornaya LeadiD token")
    if _JORNAYA.fullmatch(text):
        return text.upper()
    raise InvalidValue(
        "LP509",
        f"{show(value)} is not a Jornaya LeadiD token; it looks like "
        "8D3A7F4E-1B2C-4D5E-9F60-718293A4B5C6 (36 characters, groups of 8-4-4-4-12)",
    )


# -- choices -------------------------------------------------------------------------------------


def enum_normalizer(values: Sequence[str]) -> Normalizer:
    """The normalizer for a fixed list of choices, matched as text ignoring case."""
    choices = tuple(values)
    lookup = {v.casefold(): v for v in choices}
    listed = ", ".join(choices)

    def normalize_enum(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _wrong_type(value, f"one of: {listed}")
        text = value.strip() if isinstance(value, str) else show(value)
        found = lookup.get(text.casefold())
        if found is not None:
            return found
        near = difflib.get_close_matches(text.casefold(), list(lookup), n=1)
        tip = f" (did you mean {lookup[near[0]]}?)" if near else ""
        raise InvalidValue("LP510", f"{show(value)} is not one of the choices {listed}{tip}")

    return normalize_enum


def bounded(normalize: Normalizer, low: Decimal | None, high: Decimal | None) -> Normalizer:
    """``normalize``, then a number below ``low`` or above ``high`` is refused (LP513)."""

    def normalize_bounded(value: Any) -> Any:
        number = normalize(value)
        if low is not None and number < low:
            raise InvalidValue("LP513", f"{show(value)} is below {low}, the least allowed")
        if high is not None and number > high:
            raise InvalidValue("LP513", f"{show(value)} is above {high}, the most allowed")
        return number

    return normalize_bounded


#: Every schema type except ``enum`` (see :func:`enum_normalizer`) -> its normalizer.
NORMALIZERS: Final[dict[str, Normalizer]] = {
    "string": normalize_string,
    "integer": normalize_integer,
    "number": normalize_number,
    "boolean": normalize_boolean,
    "date": normalize_date,
    "datetime": normalize_datetime,
    "phone": normalize_phone,
    "email": normalize_email,
    "state": normalize_state,
    "zip": normalize_zip,
    "url": normalize_url,
    "trustedform_url": normalize_trustedform_url,
    "jornaya_leadid": normalize_jornaya_leadid,
}

#: Every type the lead schema accepts.
KINDS: Final = (*NORMALIZERS, "enum")


def normalize_value(kind: str, value: Any, path: str, values: Sequence[str] = ()) -> Any:
    """Normalize one value of type ``kind`` (enum choices: ``values``); LeadError names ``path``."""
    normalize = enum_normalizer(values) if kind == "enum" else NORMALIZERS[kind]
    try:
        return normalize(value)
    except InvalidValue as problem:
        raise LeadError([problem.issue(path)]) from None

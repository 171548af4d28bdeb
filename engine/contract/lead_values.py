"""Hypothesis strategies for one lead value of each type, valid by construction, in the many
spellings publishers send (engine.contract.leads puts them together into whole leads).

Every strategy builds values its field's normalizer accepts, never filtering: names in any
script and length, numbers at the edges of their bounds, dates near leap days, timestamps in
other zones, ten phone spellings of valid US numbers, international emails, ZIP+4, TrustedForm
and Jornaya tokens. Shrinking moves toward the plainest spelling of the simplest value.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any, Final

import phonenumbers
from hypothesis import strategies as st

from engine.lead import US_STATES, FieldSpec
from engine.lead.normalize import _STATES as STATE_NAMES  # the normalizer's own names
from engine.words import NO, YES

#: The lead's submission time (always generated, declared or not: rendering needs it).
TIMESTAMP: Final = "timestamp"
#: Fields tied to the timestamp or to consent, as the pre-sale consent check reads them.
CONSENT_TIME: Final = "consent.consent_timestamp"
TCPA: Final = "consent.tcpa_consent"

_EARLIEST: Final = datetime(2020, 1, 2)
_LATEST: Final = datetime(2030, 12, 31)
_LAST_DATE: Final = date(2019, 12, 31)  # every generated date lies before every timestamp
_MAX_CONSENT_AGE: Final = 90 * 24 * 3600

# -- text ----------------------------------------------------------------------------------------

_LETTERS: Final = string.ascii_lowercase + string.ascii_uppercase
_PIECES: Final = (
    "José", "Zoë", "Núñez", "Øster", "O'Brien", "Anne-Marie", "van der Berg", "Straße",
    "İlkay", "Ærøskøbing", "山田", "太郎", "김민준", "Владимир", "محمد", "Nguyễn", "😀",
    "👩🏽‍💻", "e\u0301", "St. John's", "#4B", "½", "№ 7",
)  # fmt: skip
_PRINTABLE: Final = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
_VISIBLE: Final = st.characters(categories=("L", "N", "P", "S"))


def _cycle(size: int, head: str, pattern: str) -> str:
    """``size`` characters: ``head`` then ``pattern`` repeated (cheap to draw, easy to shrink)."""
    return (head + pattern * size)[:size]


#: Letters and spaces of any length up to 255: shrinks to the shortest length that matters.
_LONG: Final = st.builds(
    _cycle,
    st.integers(min_value=1, max_value=255),
    st.sampled_from(_LETTERS),
    st.text(st.sampled_from(_LETTERS + " "), min_size=1, max_size=12),
)


_UNICODE: Final = st.builds(
    lambda head, pieces, tail: head + " ".join(pieces) + tail,
    _VISIBLE,
    st.lists(st.sampled_from(_PIECES), max_size=4),
    st.text(_PRINTABLE, max_size=20),
)
#: Text with something visible in it (blank text counts as missing), ASCII first.
_TEXT: Final = st.one_of(
    st.text(st.sampled_from(_LETTERS), min_size=1, max_size=12),
    _LONG,
    _UNICODE,
)
_PAD: Final = st.sampled_from(["", " ", "  ", "\t", "\u00a0"])


def _padded(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """The text as sent, sometimes with spaces around it (the lead is trimmed on arrival)."""
    return st.one_of(inner, st.builds(lambda a, t, b: a + t + b, _PAD, inner, _PAD))


# -- numbers and yes/no --------------------------------------------------------------------------

_INT_EDGES: Final = (
    1, -1, 2**31 - 1, -(2**31), 2**31, 2**53, -(2**53), 10**18 - 1, -(10**18 - 1), 2**63 - 1,
)  # fmt: skip


def _spell_integer(n: int, how: int) -> Any:
    small = len(str(abs(n))) <= 18
    if how == 1 and small:
        return str(n)
    if how == 2 and small:
        return f" {n}.0 "
    if how == 3 and abs(n) <= 2**53:
        return float(n)
    return n


_INTEGER: Final = st.builds(
    _spell_integer,
    st.one_of(st.integers(0, 10**6), st.sampled_from(_INT_EDGES), st.integers(-(10**18), 10**18)),
    st.integers(0, 3),
)

_NUMBER_EDGES: Final = (0.01, -0.0, 0.005, 99.99, 1e-12, 1e15, -1e15, 1234567.891, 0.1 + 0.2)


def _spell_number(x: float, how: int) -> Any:
    if how == 1:
        return f"{x:.6f}"
    if how == 2:
        return f"{x:.3e}"
    if how == 3 and x.is_integer():
        return int(x)
    return x


_NUMBER: Final = st.builds(
    _spell_number,
    st.one_of(
        st.integers(0, 10**6).map(float),
        st.sampled_from(_NUMBER_EDGES),
        st.floats(-1e15, 1e15, allow_nan=False, allow_infinity=False),
    ),
    st.integers(0, 3),
)


def _bounded(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Integers or numbers within the field's ``minimum``/``maximum``, edges included, spelled
    the ways publishers send them (a spelling that would round past a bound is not used)."""
    low, high = spec.minimum, spec.maximum
    if spec.kind == "integer":
        lo = math.ceil(low) if low is not None else -(10**18)
        hi = math.floor(high) if high is not None else 10**18
        edges = sorted({v for v in (lo, hi, lo + 1, hi - 1, 0, 1) if lo <= v <= hi})
        near = st.integers(lo, min(hi, lo + 10**6)) if low is not None else st.integers(0, hi)
        whole = st.one_of(near, st.sampled_from(edges), st.integers(lo, hi))
        return st.builds(_spell_integer, whole, st.integers(0, 3))
    fl = float(low) if low is not None else -1e15
    fh = float(high) if high is not None else 1e15
    edges_f = sorted({v for v in (fl, fh, 0.0, 0.01) if fl <= v <= fh})

    def spelled(x: float, how: int) -> Any:
        text = _spell_number(x, how)
        value = Decimal(str(text).strip()) if isinstance(text, str) else Decimal(repr(text))
        inside = (low is None or value >= low) and (high is None or value <= high)
        return text if inside else x

    floats = st.floats(fl, fh, allow_nan=False, allow_infinity=False)
    return st.builds(spelled, st.one_of(st.sampled_from(edges_f), floats), st.integers(0, 3))


#: Every spelling of the yes/no vocabulary, as typed in any capitals.
_TRUE: Final = (True, 1, *sorted(YES), "TRUE", "Yes", "Y", "ON")
_BOOLEAN: Final = st.sampled_from((*_TRUE, False, 0, *sorted(NO), "FALSE", "No", "N", "OFF"))

# -- dates and times -----------------------------------------------------------------------------

_NEAR_LEAP_DAYS: Final = tuple(
    date.fromisoformat(d)
    for d in (
        "2000-02-29", "1996-02-29", "2016-02-29", "1900-02-28", "1900-03-01", "2019-02-28",
        "2019-03-01", "1999-12-31", "2000-01-01", "1988-02-29",
    )
)  # fmt: skip
_DATE: Final = _padded(
    st.one_of(st.dates(date(1900, 1, 1), _LAST_DATE), st.sampled_from(_NEAR_LEAP_DAYS)).map(
        date.isoformat
    )
)
_OFFSETS: Final = tuple(
    timedelta(minutes=m) for m in (0, -300, -480, 330, 540, -210, 840, -720, 345, -600, 60)
)
_NEAR_LEAP_MOMENTS: Final = tuple(
    datetime.fromisoformat(t)
    for t in ("2024-02-29T23:59:59", "2024-02-28T23:30:00", "2028-02-29T00:00:00",
              "2024-03-01T00:00:01", "2025-12-31T23:59:59.999999", "2027-03-14T02:30:00")
)  # fmt: skip


def _spell_offset(offset: timedelta, how: int) -> str:
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0 and how < 2:
        return "Z" if how == 0 else "z"
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    if how == 3 and mins == 0:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}{':' if how != 4 else ''}{mins:02d}"


def spell_time(moment: datetime, spelling: tuple[timedelta, str, bool, int]) -> str:
    """An aware moment as a publisher might write it: another zone, ``T`` or a space, fractions."""
    offset, sep, seconds, zone = spelling
    local = moment.astimezone(timezone(offset))
    text = f"{local:%Y-%m-%d}{sep}{local:%H:%M}"
    if local.second or local.microsecond or seconds:
        text += f":{local:%S}"
        if local.microsecond:
            text += f".{local.microsecond:06d}"
    return text + _spell_offset(offset, zone)


_TIME_SPELLING: Final = st.tuples(
    st.sampled_from(_OFFSETS),
    st.sampled_from(["T", " ", "t"]),
    st.booleans(),
    st.integers(0, 4),
)
MOMENT: Final = st.one_of(
    st.datetimes(_EARLIEST, _LATEST).map(lambda d: d.replace(microsecond=0)),
    st.sampled_from(_NEAR_LEAP_MOMENTS),
    st.datetimes(_EARLIEST, _LATEST),
).map(lambda d: d.replace(tzinfo=UTC))

# -- contact details -----------------------------------------------------------------------------


@cache
def _area_codes() -> tuple[int, ...]:
    """US area codes where exchange 200 is valid (phonenumbers); other exchanges are checked
    one by one when drawn (983-600 is not a valid number, 983-200 is)."""
    found = []
    for npa in range(200, 1000):
        number = phonenumbers.PhoneNumber(1, int(f"{npa}2000000"))
        if phonenumbers.region_code_for_number(number) == "US" and phonenumbers.is_valid_number(
            number
        ):
            found.append(npa)
    return tuple(found)


_PHONE_FORMS: Final = (
    "{a}{e}{l}", "{a}-{e}-{l}", "({a}) {e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}",
    "1-{a}-{e}-{l}", "+1{a}{e}{l}", "+1 ({a}) {e}-{l}", " {a} {e} {l} ", "1 ({a}) {e} {l}",
)  # fmt: skip


@cache
def _exchange(npa: int, exchange: int) -> int:
    """``exchange`` when phonenumbers takes it in this area code (not all are), else 200 (which
    every listed area code takes)."""
    number = phonenumbers.PhoneNumber(1, int(f"{npa}{exchange}0000"))
    return exchange if phonenumbers.is_valid_number(number) else 200


def _spell_phone(npa: int, exchange: int, line: int, form: int) -> Any:
    exchange = _exchange(npa, exchange)
    if form == len(_PHONE_FORMS):
        return int(f"{npa}{exchange}{line:04d}")  # sent as a JSON number
    return _PHONE_FORMS[form].format(a=npa, e=exchange, l=f"{line:04d}")


_PHONE: Final = st.builds(
    _spell_phone,
    st.sampled_from(_area_codes()),
    st.integers(200, 999),
    st.integers(0, 9999),
    st.integers(0, len(_PHONE_FORMS)),
)

_ATOM: Final = st.text(st.sampled_from(string.ascii_lowercase + string.digits), min_size=1)
_LOCAL: Final = st.one_of(
    st.lists(_ATOM, min_size=1, max_size=3).map(".".join),
    st.builds(lambda a, b: f"{a}+{b}", _ATOM, _ATOM),
    st.sampled_from(["John.Smith", "o'brien", "josé.núñez", "山田", "a_b-c", "x" * 64]),
)
_DOMAIN: Final = st.one_of(
    st.sampled_from(["gmail.com", "yahoo.com", "Outlook.COM", "aol.com", "icloud.com"]),
    st.builds(
        lambda label, sub, tld: f"{sub}{label}.{tld}",
        st.text(st.sampled_from(string.ascii_lowercase + string.digits), min_size=1, max_size=20),
        st.sampled_from(["", "mail.", "Sub.Domain."]),
        st.sampled_from(["com", "net", "org", "us", "io", "co.uk"]),
    ),
    st.sampled_from(["bücher.de", "例え.jp"]),
)
_EMAIL: Final = _padded(st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL, _DOMAIN))


def _spell_state(code: str, how: int) -> str:
    name = STATE_NAMES[code]
    return (code, code.lower(), name, name.upper(), name.lower(), f" {code.lower()} ")[how]


def _state(codes: Sequence[str]) -> st.SearchStrategy[str]:
    return st.builds(_spell_state, st.sampled_from(list(codes)), st.integers(0, 5))


def _spell_zip(five: str, four: str | None, how: int) -> Any:
    if four is None:
        return int(five) if how == 1 and five[0] != "0" else five
    return (f"{five}-{four}", f"{five}{four}", f" {five}-{four} ")[how % 3]


_ZIP: Final = st.builds(
    _spell_zip,
    st.text(st.sampled_from(string.digits), min_size=5, max_size=5),
    st.none() | st.text(st.sampled_from(string.digits), min_size=4, max_size=4),
    st.integers(0, 2),
)

# -- links and consent tokens --------------------------------------------------------------------

_URL: Final = st.builds(
    lambda scheme, host, tld, port, path, query: f"{scheme}://{host}.{tld}{port}{path}{query}",
    st.sampled_from(["https", "http", "HTTPS"]),
    st.text(st.sampled_from(string.ascii_lowercase + string.digits + "-"), max_size=30).map(
        lambda label: "a" + label.strip("-")
    ),
    st.sampled_from(["com", "net", "org", "io", "co.uk"]),
    st.sampled_from(["", ":8443"]),
    st.lists(st.sampled_from(["home", "quote", "café", "a-b", "x" * 80]), max_size=4).map(
        lambda parts: "".join("/" + p for p in parts)
    ),
    st.sampled_from(["", "?utm_source=pub-1042", "?a=1&b=%20x#top"]),
)
_HEX40: Final = st.text(st.sampled_from("0123456789abcdef"), min_size=40, max_size=40)
_TRUSTEDFORM: Final = st.builds(
    lambda host, token, upper, slash: (
        f"https://{host}.trustedform.com/{token.upper() if upper else token}{slash}"
    ),
    st.sampled_from(["cert", "ping"]),
    _HEX40,
    st.booleans(),
    st.sampled_from(["", "/"]),
)
_JORNAYA: Final = st.builds(
    lambda u, upper: str(u).upper() if upper else str(u), st.uuids(), st.booleans()
)

#: The strategy for each type with no settings of its own (enum and state take their choices).
KIND_STRATEGIES: Final[Mapping[str, st.SearchStrategy[Any]]] = {
    "string": _padded(_TEXT),
    "integer": _INTEGER,
    "number": _NUMBER,
    "boolean": _BOOLEAN,
    "date": _DATE,
    "phone": _PHONE,
    "email": _EMAIL,
    "zip": _ZIP,
    "url": _URL,
    "trustedform_url": _TRUSTEDFORM,
    "jornaya_leadid": _JORNAYA,
}


def _spell_choice(value: str, how: int) -> str:
    return (value, value.upper(), value.title(), f" {value} ")[how]


def _choices(values: Sequence[str]) -> st.SearchStrategy[str]:
    return st.builds(_spell_choice, st.sampled_from(list(values)), st.integers(0, 3))


_DATETIME: Final = st.builds(spell_time, MOMENT, _TIME_SPELLING)
#: Seconds between consent and the lead: any, and the edges of the 90-day limit itself.
_CONSENT_AGE: Final = st.one_of(
    st.integers(0, _MAX_CONSENT_AGE),
    st.sampled_from((_MAX_CONSENT_AGE, _MAX_CONSENT_AGE - 3600, 85 * 24 * 3600)),
)
CONSENT_SPELLING: Final = st.tuples(_CONSENT_AGE, _TIME_SPELLING)


def value_strategy(
    path: str, spec: FieldSpec, choices: Mapping[str, tuple[str, ...]]
) -> st.SearchStrategy[Any]:
    """The strategy for one field's value. The timestamp gives a spelling and the consent time
    (seconds before the lead, spelling): :func:`spell_time` writes both once the lead's moment
    is drawn."""
    if path == TIMESTAMP:
        return _TIME_SPELLING
    if path == CONSENT_TIME and spec.kind == "datetime":
        return CONSENT_SPELLING
    if path == TCPA and spec.kind == "boolean":
        return st.sampled_from(_TRUE)
    if spec.kind == "enum":
        return _choices(choices.get(path, spec.values))
    if spec.kind == "state":
        return _state(choices.get(path, sorted(US_STATES)))
    if spec.kind == "datetime":
        return _DATETIME
    if spec.kind in ("integer", "number") and (spec.minimum, spec.maximum) != (None, None):
        return _bounded(spec)
    return KIND_STRATEGIES[spec.kind]

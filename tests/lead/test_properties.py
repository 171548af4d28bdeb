"""Hypothesis properties of lead validation: only our errors; normalizing twice changes nothing."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.errors import LeadError
from engine.lead import (
    KINDS,
    NORMALIZERS,
    US_STATES,
    FieldSpec,
    InvalidValue,
    LeadSchema,
    enum_normalizer,
    parse_lead_json,
    validate_lead,
)
from engine.lead.normalize import normalize_phone

FAST = settings()
US_REGIONS = {"US", "PR", "GU", "VI", "AS", "MP"}

CHOICES = ("excellent", "good", "fair", "poor")
#: One field of every kind, spread over nested objects like a real lead.
SCHEMA = LeadSchema(
    {
        f"{group}.{kind}": FieldSpec(
            kind, required=i % 2 == 0, values=CHOICES if kind == "enum" else ()
        )
        for i, kind in enumerate(KINDS)
        for group in (("lead.address", "attributes", "consent")[i % 3],)
    }
)

# -- strategies ----------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(
        ["", " ", "0", "1", "yes", "TX", "78701", "1985-04-12", "2024-12-15T14:30:00Z"]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)

#: Values that look like each kind, so validation gets past the type checks often.
plausible: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(),
    "integer": st.integers() | st.integers().map(str) | st.floats().map(str),
    "number": st.floats() | st.decimals(allow_nan=False).map(str),
    "boolean": st.sampled_from([True, False, "yes", "N", "1", 0, 2]),
    "date": st.dates().map(str) | st.from_regex(r"\d{4}-\d\d-\d\d", fullmatch=True),
    "datetime": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
    | st.from_regex(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?", fullmatch=True
    ),
    "phone": st.from_regex(r"\+?1?[ .(-]*[2-9]\d\d[ .)-]*[2-9]\d\d[ .-]*\d{4}", fullmatch=True),
    "email": st.emails() | st.text(),
    "state": st.sampled_from(["tx", "CA", "Texas", "xx", "new york"]),
    "zip": st.from_regex(r"\d{5}(-?\d{4})?", fullmatch=True) | st.integers(),
    "enum": st.sampled_from([*CHOICES, "GOOD", "superb", 3]),
    "url": st.sampled_from(["https://example.com/a", "ftp://x", "http://[::1"]) | st.text(),
    "trustedform_url": st.from_regex(
        r"https://(cert|ping)\.trustedform\.com/[0-9a-fA-F]{38,41}/?", fullmatch=True
    ),
    "jornaya_leadid": st.uuids().map(str) | st.text(max_size=40),
}  # fmt: skip


#: A valid value of each kind, so some generated leads pass and get revalidated.
valid: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(min_size=1).filter(str.strip),
    "integer": st.integers(),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "date": st.dates().map(str),
    "datetime": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    "phone": st.sampled_from(["(512) 555-0142", "+1 213 555 0199", "7185550177"]),
    "email": st.sampled_from(["Jo@Example.COM", "josé@gmail.com", "a.b+c@yahoo.com"]),
    "state": st.sampled_from(sorted(US_STATES)),
    "zip": st.from_regex(r"[0-9]{5}(-?[0-9]{4})?", fullmatch=True),
    "enum": st.sampled_from(CHOICES),
    "url": st.just("https://example.com/quote?x=1"),
    "trustedform_url": st.from_regex(r"^https://cert\.trustedform\.com/[0-9a-f]{40}\Z"),
    "jornaya_leadid": st.uuids().map(str),
}  # fmt: skip


def shaped_leads() -> st.SearchStrategy[dict[str, Any]]:
    """Lead documents with the schema's shape: objects all valid, or fields missing or random."""
    groups: dict[str, dict[str, str]] = {}
    for path, spec in SCHEMA.fields.items():
        group, name = path.rsplit(".", 1)
        groups.setdefault(group, {})[name] = spec.kind

    def obj(fields: dict[str, str]) -> st.SearchStrategy[Any]:
        good = st.fixed_dictionaries({n: valid[k] for n, k in fields.items()})
        mixed = {n: valid[k] | plausible[k] | json_values for n, k in fields.items()}
        return good | st.fixed_dictionaries({}, optional=mixed) | json_values

    lead = st.fixed_dictionaries({"address": obj(groups["lead.address"])}) | json_values
    return st.fixed_dictionaries(
        {"lead": lead, "attributes": obj(groups["attributes"]), "consent": obj(groups["consent"])},
        optional={"extra": json_values},
    )


def normalizer_for(kind: str) -> Any:
    return enum_normalizer(CHOICES) if kind == "enum" else NORMALIZERS[kind]


# -- properties ----------------------------------------------------------------------------------


@FAST
@given(json_values)
def test_any_json_value_gives_a_lead_or_a_lead_error(doc: Any) -> None:
    """validate_lead never raises anything but LeadError, whatever it is given."""
    try:
        out = validate_lead(SCHEMA, doc)
    except LeadError as exc:
        assert exc.issues
    else:
        assert isinstance(out, dict)


@FAST
@given(shaped_leads())
def test_shaped_leads_give_a_lead_or_a_lead_error_and_revalidate_unchanged(doc: Any) -> None:
    """Lead-shaped documents validate or fail with our error; a normalized lead is a fixed point."""
    try:
        out = validate_lead(SCHEMA, doc)
    except LeadError as exc:
        assert exc.issues
        assert all(i.code.startswith("LP5") and i.span is None for i in exc.issues)
    else:
        assert validate_lead(SCHEMA, out) == out


@FAST
@given(
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    form=st.sampled_from(
        ["({a}) {e}-{l}", "{a}.{e}.{l}", "+1 {a} {e} {l}", "1{a}{e}{l}", "{a}-{e}-{l}"]
    ),
)
def test_phone_normalization_is_idempotent(area: int, exchange: int, line: int, form: str) -> None:
    """A valid number in any common format normalizes to 10 digits that normalize to themselves."""
    text = form.format(a=area, e=exchange, l=f"{line:04d}")
    try:
        digits = normalize_phone(text)
    except InvalidValue:
        assume(False)
        return
    assert len(digits) == 10 and digits.isdigit()
    assert digits == f"{area}{exchange}{line:04d}"
    assert normalize_phone(digits) == digits


@FAST
@given(
    digits=st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z"),
    form=st.sampled_from(["({}) {}-{}", "{}.{}.{}", "+1 {} {} {}", "1{}{}{}", "{}{}{}"]),
)
def test_phone_fast_path_agrees_with_the_full_parser(digits: str, form: str) -> None:
    """Common spellings skip phonenumbers.parse but are judged exactly as the parser would."""
    text = form.format(digits[:3], digits[3:6], digits[6:])
    number = phonenumbers.parse(text, "US")
    region = phonenumbers.region_code_for_number(number)
    expected = phonenumbers.is_valid_number(number) and region in US_REGIONS
    try:
        assert normalize_phone(text) == digits
    except InvalidValue:
        assert not expected
    else:
        assert expected


@FAST
@given(kind=st.sampled_from(KINDS), value=st.text() | json_values)
def test_every_normalizer_returns_a_value_or_our_error(kind: str, value: Any) -> None:
    """Arbitrary text or JSON gives a value or InvalidValue with an LP5xx code, nothing else."""
    try:
        normalizer_for(kind)(value)
    except InvalidValue as exc:
        assert exc.code in {f"LP5{n:02d}" for n in range(1, 13)}
        assert exc.reason


@FAST
@given(st.data())
def test_normalizing_a_normalized_value_changes_nothing(data: st.DataObject) -> None:
    """For every kind, a normalized value is already in normal form."""
    kind = data.draw(st.sampled_from(KINDS))
    normalize = normalizer_for(kind)
    value = data.draw(plausible[kind])
    try:
        once = normalize(value)
    except InvalidValue:
        return
    assert normalize(once) == once


@FAST
@given(
    st.binary()
    | st.text()
    | json_values.map(json.dumps)
    | json_values.map(lambda v: json.dumps(v)[1:])
)
def test_any_text_parses_to_a_dict_or_a_lead_error(text: bytes | str) -> None:
    """parse_lead_json accepts any bytes or text and raises nothing but LeadError LP512."""
    try:
        assert isinstance(parse_lead_json(text), dict)
    except LeadError as exc:
        assert [i.code for i in exc.issues] == ["LP512"]


@FAST
@given(kind=st.sampled_from(["phone", "email"]), value=st.text(max_size=60) | plausible["phone"])
def test_a_kept_invalid_contact_stays_invalid_for_the_same_reason(kind: str, value: Any) -> None:
    """An invalid phone or email keeps a value that is judged again exactly as the original
    (so the validity recorded at intake and one computed later agree), and the reason never
    repeats the value."""
    normalize = NORMALIZERS[kind]
    try:
        normalize(value)
    except InvalidValue as first:
        if first.kept is None:
            assert first.code == "LP502"
            return
        assert first.plain and first.kept is not None
        with_kept = None
        try:
            normalize(first.kept)
        except InvalidValue as again:
            with_kept = again.plain
        assert with_kept == first.plain
        shown = str(value).strip()
        assert len(shown) < 4 or shown not in first.plain

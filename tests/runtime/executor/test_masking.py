"""Masking personal data and secrets for logs: values, free text, headers, URLs, long bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.plan import OMIT
from engine.runtime.masking import Scrubber, cut, mask_headers, mask_url, mask_value


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("john.smith@gmail.com", "j***@gmail.com"),
        ("(512) 555-0142", "***0142"),
        ("5125550142", "***0142"),
        ("+1 512 555 0142", "***0142"),
        ("John", "J***"),
        ("123 Main St", "1***"),
        ("1985-04-12", "***"),
        (350000, "***"),
        (Decimal("12.5"), "***"),
        ("", ""),
        (None, None),
        (True, True),
    ],
)
def test_mask_value(value: Any, masked: Any) -> None:
    """Each kind of personal value keeps just enough to be recognised."""
    assert mask_value(value) == masked


def test_omit_stays_omit() -> None:
    """A left-out field stays left out after masking."""
    assert mask_value(OMIT) is OMIT


def test_scrubber_masks_whole_words_case_insensitively() -> None:
    """Known values are replaced wherever they appear, but not inside other words."""
    scrub = Scrubber(["John", "john.smith@gmail.com", None, OMIT, "Al"])
    text = "JOHN (John.Smith@gmail.com) met Johnson"
    assert scrub(text) == "J*** (j***@gmail.com) met Johnson"
    assert Scrubber([])("John") == "John" and not Scrubber([])


def test_headers_hide_secrets_but_keep_the_auth_scheme() -> None:
    """Authorization shows its scheme; named secret headers show their ${env:...} reference."""
    headers = [("Authorization", "Bearer abc"), ("X-Key", "k"), ("Accept", "*/*")]
    masked = mask_headers(headers, {"authorization": "***", "x-key": "${env:KEY}"})
    assert masked == (("Authorization", "Bearer ***"), ("X-Key", "${env:KEY}"), ("Accept", "*/*"))


def test_cut_says_how_much_was_left_out() -> None:
    """Long bodies are cut to the limit with a note."""
    assert cut("abc", 5) == "abc"
    assert cut("abcdefgh", 5) == "abcde… (cut: 3 more characters)"


def test_url_query_values_are_scrubbed(runtime_plan: Any) -> None:
    """Personal values in a query string are masked; other parameters are untouched."""
    plan = runtime_plan("direct")
    url = "http://h/p?email=john%40x.com&state=TX"
    assert mask_url(url, plan, Scrubber(["john@x.com"])) == "http://h/p?email=j***%40x.com&state=TX"
    assert mask_url("http://h/p", plan, Scrubber(["x"])) == "http://h/p"


@given(st.lists(st.text(min_size=3, max_size=12), min_size=1, max_size=4), st.text(max_size=40))
def test_scrubbed_text_never_contains_a_known_value_as_a_word(
    values: list[str], filler: str
) -> None:
    """Whatever the values, a scrubbed sentence no longer shows them as separate words."""
    scrub = Scrubber(values)
    words = [v.strip() for v in values if len(v.strip()) >= 3]
    out = scrub(" ".join(f" {w} {filler} " for w in words))
    assert isinstance(out, str)
    for w in words:
        if not any(w.lower() in str(mask_value(x)).lower() for x in words):
            assert f" {w.lower()} " not in f" {out.lower()} "


def _eager(values: list[str], text: str) -> str:
    """The scrubber as it was before its pattern became lazy: compiled up front, run always."""
    import re

    masks = {v.strip().lower(): str(mask_value(v.strip())) for v in values if len(v.strip()) >= 3}
    if not masks:
        return text
    body = "|".join(re.escape(t) for t in sorted(masks, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)
    return pattern.sub(lambda m: masks.get(m.group(0).lower(), "***"), text)


@given(
    st.lists(st.text(min_size=3, max_size=10), min_size=0, max_size=4),
    st.lists(
        st.one_of(
            st.text(max_size=8), st.sampled_from(["JOHN", "john", " ", ".", "É", "İ", "ı", "ſ"])
        )
    ),
    st.data(),
)
def test_the_lazy_scrubber_scrubs_as_the_eager_one(
    values: list[str], fillers: list[str], data: st.DataObject
) -> None:
    """Texts with and without the values, in any case: the substring pre-check and the lazily
    compiled pattern change nothing in what comes out."""
    pieces = fillers + [data.draw(st.sampled_from([v, v.upper(), v.lower()])) for v in values]
    text = "".join(data.draw(st.permutations(pieces))) if pieces else ""
    scrub = Scrubber(values)
    assert scrub(text) == _eager(values, text)
    assert scrub(text) == _eager(values, text)  # the second time with the compiled pattern


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("Yılmaz", "YILMAZ called"),
        ("Ismail", "İSMAİL called"),
        ("ΝΙΚΟΣ", "ΝΙΚΟΣ's file"),
        ("sam", "ſam called"),
    ],
)
def test_case_pairs_beyond_lower_are_masked_as_before(value: str, text: str) -> None:
    """Letters that re.IGNORECASE pairs but str.lower() does not (dotless i, long s, final
    sigma): the scrubber masks them as the eager pattern did."""
    assert Scrubber([value])(text) == _eager([value], text) != text


def test_a_list_fields_items_are_masked_one_by_one() -> None:
    """Lists: every personal value of every item is masked, nested lists too."""
    from engine.plan import Rows

    rows = Rows([("Maria", "1982-02-28", Rows([("accident", "2019-12-15")])), ("Luis", OMIT, OMIT)])
    assert mask_value(rows) == Rows(
        [("M***", "***", Rows([("a***", "***")])), ("L***", OMIT, OMIT)]
    )


def test_lead_values_inside_lists_are_scrubbed() -> None:
    """The values a list field reads (lead.drivers.first_name) are found in every item."""
    from engine.runtime.masking import _lead_values

    lead = {"lead": {"drivers": [{"first_name": "Maria"}, {"first_name": "Luis"}, {}]}}
    found = _lead_values(lead, "lead.drivers.first_name")
    assert found == ["Maria", "Luis"]
    assert Scrubber(found)("Driver Maria and Luis") == "Driver M*** and L***"

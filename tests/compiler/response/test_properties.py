"""Properties: interpreting any response never raises; price parsing never raises."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engine.compiler.bodies import BadBody, read_body
from engine.compiler.context import CompileContext
from engine.compiler.response import compile_response
from engine.compiler.response_values import parse_price, typed_value
from engine.dsl.loader import SourceMap
from engine.dsl.models import ResponseSpec
from engine.plan import ResponsePlan

SPECS: list[dict[str, Any]] = [
    {
        "rules": [
            {"if": "status == 'ok' && to_number(bid) > `0`", "outcome": "accepted"},
            {"if": "length(errors) > `0`", "outcome": "rejected"},
            {"status": ["4xx", 500], "contains": "dup", "outcome": "duplicate"},
        ],
        "extract": {"price": "bid", "reason": "errors[].message", "ping_id": "id"},
    },
    {
        "body": "xml",
        "rules": [{"if": "R.S == 'A'", "outcome": "accepted"}, {"outcome": "rejected"}],
        "extract": {"price": "R.P", "reason": "R.E", "buyer_lead_id": 'R."@id"'},
    },
    {
        "body": "xml",
        "lenient_xml": True,
        "rules": [{"if": "R", "match": "(?P<code>\\d+)", "outcome": "accepted"}],
        "extract": {"reason": "R.E[].Msg"},
        "otherwise": "rejected",
    },
    {
        "body": "html",
        "rules": [
            {"select": "div.ok", "outcome": "accepted"},
            {"status": "2xx", "select": "p", "contains": "x", "outcome": "rejected"},
        ],
        "extract": {"buyer_lead_id": "span.id", "price": "b", "reason": "p", "url": "a @href"},
    },
    {
        "body": "text",
        "rules": [
            {"match": "^OK\\|(?P<buyer_lead_id>[^|]*)\\|?(?P<price>.*)$", "outcome": "accepted"},
            {"contains": "ERR", "outcome": "rejected"},
        ],
        "extract": {"reason": "ERR\\|(?P<value>.*)", "token": "t=(\\w*)"},
    },
]


def _plan(raw: dict[str, Any]) -> ResponsePlan:
    ctx = CompileContext(SourceMap("p.yaml", ""))
    plan = compile_response(ResponseSpec.model_validate(raw), ("response",), ctx)
    assert plan is not None, ctx.issues
    return plan


PLANS = [_plan(raw) for raw in SPECS]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["status", "bid", "errors", "message", "id", "R", "S", "P"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)
xml_like = st.lists(
    st.sampled_from(
        [
            "<R>",
            "</R>",
            "<S>A</S>",
            "<P>",
            "</P>",
            "12.5",
            "$1,0",
            "<E>x</E>",
            "<E/>",
            "&amp;",
            "&x;",
            '<R id="1">',
            "<!--",
            "-->",
            "<?xml version='1.0'?>",
            "<![CDATA[",
            "]]>",
            "<",
            "<div class=ok>",
            "<p>x</p>",
            "<span class=id>",
            "<a href=u>",
            "OK|",
            "ERR|",
            "|",
        ]
    ),
    max_size=12,
).map("".join)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    xml_like.map(str.encode),
    st.text(max_size=80).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
headers = st.dictionaries(
    st.sampled_from(["content-type", "Content-Type", "x-other"]),
    st.sampled_from(
        [
            "",
            "text/html",
            "application/json; charset=latin-1",
            "text/plain; charset=bogus",
            "text/xml; charset=utf-16",
            "charset=",
            "text/html; charset=utf-8",
        ]
    ),
    max_size=2,
)


@given(
    plan=st.sampled_from(PLANS),
    status=st.integers(min_value=100, max_value=599),
    headers=headers,
    body=bodies,
)
def test_interpret_never_raises(
    plan: ResponsePlan, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Any status, headers and bytes give an Interpretation with a valid decision."""
    result = plan.interpret(status, headers, body)
    assert result.decision in ("accepted", "rejected", "duplicate", "error", None)
    if 200 <= status <= 299:
        assert result.decision is not None
    if "price" in result.values:
        assert isinstance(result.values["price"], Decimal)
    assert result.reason is None or isinstance(result.reason, str)
    # The last-resort guard in interpret() is never what saved us.
    assert not (result.reason or "").startswith("the response could not be read")


@given(st.text(max_size=40) | st.from_regex(r"\A[$€]?[0-9]{1,7}(,[0-9]{3})*(\.[0-9]{0,3})?\Z"))
def test_price_of_any_text_is_decimal_or_none(text: str) -> None:
    """parse_price never raises; what it returns is a finite, non-negative Decimal."""
    price = parse_price(text)
    assert price is None or (isinstance(price, Decimal) and price.is_finite() and price >= 0)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_formatted_money_reads_back(amount: Decimal) -> None:
    """An amount written as $1,234.56 reads back as the same amount."""
    assert parse_price(f"${amount:,.2f}") == amount


@given(st.sampled_from(["price", "reason", "buyer_lead_id"]), json_values)
def test_typed_value_never_raises(name: str, value: Any) -> None:
    """Any JSON-like value gets a type or is dropped with a note, never an exception."""
    kept, note = typed_value(name, value)
    assert note is None or isinstance(note, str)
    if name == "price":
        assert kept is None or isinstance(kept, Decimal)


@given(st.from_regex(r"[0-9]{1,24}(\.[0-9]{0,12})?|\.[0-9]{1,12}", fullmatch=True))
def test_a_plain_price_reads_as_the_price_pattern_reads_it(text: str) -> None:
    """The fast path for "12.50" gives what the full pattern gives (a padded text takes it)."""
    assert str(parse_price(text)) == str(parse_price(f" {text} "))
    assert parse_price(text) == Decimal(text)


json_documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**80)
    | st.floats()
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


@given(
    st.one_of(
        json_documents.map(json.dumps),
        json_documents.map(lambda v: json.dumps(v, ensure_ascii=False, indent=1)),
        st.text(max_size=40),
        st.sampled_from(
            [
                '"\\ud800"',
                "[NaN]",
                "[1e400]",
                "[1] x",
                "1" * 30,
                "[" * 2000,
            ]
        ),
    )
)
@example('{"id": 12345678901234567890123}')  # beyond 64 bits: orjson would make it a float
def test_a_json_answer_reads_as_json_reads_it(text: str) -> None:
    """orjson reads answers where it agrees with json: same document, or a BadBody when json
    refuses it (big integers, NaN and lone surrogates go to json)."""
    try:
        expected = json.loads(text)
    except (ValueError, RecursionError):
        with pytest.raises(BadBody):
            read_body("json", text.encode("utf-8", "surrogatepass"), {})
        return
    got = read_body("json", text.encode("utf-8", "surrogatepass"), {}).doc
    assert json.dumps(got) == json.dumps(expected)

"""Typing extracted values: prices as Decimal, reasons as one text, the rest as found."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from engine.compiler.response_values import parse_price, reason_text, typed_value


@pytest.mark.parametrize(
    ("raw", "price"),
    [
        ("12.50", Decimal("12.50")),
        ("$1,250.00", Decimal("1250.00")),
        (" 35 ", Decimal("35")),
        ("USD 35.00", Decimal("35.00")),
        ("35.00 USD", Decimal("35.00")),
        ("€12", Decimal("12")),
        (".50", Decimal(".50")),
        ("0", Decimal("0")),
        ("0.00", Decimal("0.00")),
        (12.5, Decimal("12.5")),
        (0.1, Decimal("0.1")),
        (7, Decimal("7")),
        (["9.99"], Decimal("9.99")),
        ({"@currency": "USD", "#text": "4.00"}, Decimal("4.00")),
    ],
)
def test_prices_that_read(raw: Any, price: Decimal) -> None:
    """Numbers and money text become exact Decimals; zero stays zero."""
    assert parse_price(raw) == price
    assert str(parse_price(raw)) == str(price)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "free",
        "12,50",
        "1,2345",
        "-5",
        "$-5",
        "1e3",
        "NaN",
        "Infinity",
        "12.5.0",
        "1" * 50,
        True,
        None,
        -1,
        float("nan"),
        float("inf"),
        ["1", "2"],
        {"a": 1},
        "١٢",
    ],
)
def test_prices_that_do_not_read(raw: Any) -> None:
    """Anything that is not plainly a non-negative amount is no price at all."""
    assert parse_price(raw) is None


def test_unreadable_price_gives_a_note() -> None:
    """typed_value drops an unreadable price and says why; an absent one is silent."""
    assert typed_value("price", "call us") == (None, "the price 'call us' is not a number")
    assert typed_value("price", None) == (None, None)
    assert typed_value("price", "") == (None, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (["bad zip", "renter"], "bad zip; renter"),
        (["dup", "dup", " ", None], "dup"),
        ({"#text": "Token expired", "@code": "7"}, "Token expired"),
        ([{"#text": "a", "@n": "1"}, "b"], "a; b"),
        (404, "404"),
        ([], None),
        ("  ", None),
    ],
)
def test_reasons_are_one_text(raw: Any, reason: str | None) -> None:
    """Lists join with '; ', blanks and repeats drop out, XML text is unwrapped."""
    assert reason_text(raw) == reason


@pytest.mark.parametrize(
    ("raw", "kept"),
    [(98765, 98765), (" A-1 ", "A-1"), (True, True), ([1, 2], [1, 2]), ({"#text": "x"}, "x")],
)
def test_other_values_are_kept_as_found(raw: Any, kept: Any) -> None:
    """A numeric ping id stays a number; text is trimmed; XML text is unwrapped."""
    assert typed_value("ping_id", raw) == (kept, None)

"""Give values extracted from a response their types: prices as Decimal, reasons as one text."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

#: "12.50", "$1,250.00", "USD 35", "35.00 USD", "€12", ".50" — commas only as thousands groups.
_PRICE = re.compile(
    r"""
    (?:[A-Z]{3}\s*)?            # a currency code before, e.g. USD
    [$€£]?\s*
    (?P<number>
        [0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?
      | [0-9]+(?:\.[0-9]*)?
      | \.[0-9]+
    )
    (?:\s*[A-Z]{3})?            # or after, e.g. 35.00 USD
    """,
    re.VERBOSE | re.ASCII,
)
_MAX_PRICE_TEXT = 40
#: "12.50", "12", ".5": digits with at most one point, read by Decimal as they are (what _PRICE
#: reads them as too, checked by a property), without the pattern's search.
_PLAIN_PRICE = re.compile(r"[0-9]+\.?[0-9]*|\.[0-9]+").fullmatch
REASON_SEPARATOR = "; "


def xml_text(value: Any) -> Any:
    """An XML element with attributes ({"@currency": "USD", "#text": "12.50"}) as its text."""
    if isinstance(value, dict) and "#text" in value:
        return value["#text"]
    return value


def parse_price(value: Any) -> Decimal | None:
    """A non-negative finite price from a number or text such as "$1,250.00"; else None.

    ``parse_price("12.50") == Decimal("12.50")``; zero stays ``Decimal("0")`` (a "no bid").
    """
    if type(value) is str and len(value) <= _MAX_PRICE_TEXT and _PLAIN_PRICE(value):
        return Decimal(value)  # the common answer: no currency, no thousands
    value = xml_text(value)
    if isinstance(value, list) and len(value) == 1:
        value = xml_text(value[0])
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value) if value >= 0 else None
    if isinstance(value, float):
        number = Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str) and len(value) <= _MAX_PRICE_TEXT:
        m = _PRICE.fullmatch(value.strip())
        if m is None:
            return None
        try:
            number = Decimal(m.group("number").replace(",", ""))
        except InvalidOperation:
            return None
    else:
        return None
    if number is None or not number.is_finite() or number < 0:
        return None
    return number


def reason_text(value: Any) -> str | None:
    """One reason text: a list (or several elements) joined with "; ", blanks dropped."""
    value = xml_text(value)
    items = value if isinstance(value, list) else [value]
    parts: list[str] = []
    for item in items:
        item = xml_text(item)
        if item is None or isinstance(item, dict | list):
            continue
        text = str(item).strip()
        if text and text not in parts:
            parts.append(text)
    return REASON_SEPARATOR.join(parts) or None


def typed_value(name: str, value: Any) -> tuple[Any, str | None]:
    """The value kept under ``name`` (None: leave it out) and a note when it could not be read.

    ``price`` becomes a Decimal, ``reason`` one text; other values stay text or numbers as found.
    """
    if name == "price":
        if value is None or value == "" or value == []:
            return None, None
        price = parse_price(value)
        if price is None:
            shown = str(xml_text(value))[:_MAX_PRICE_TEXT]
            return None, f"the price '{shown}' is not a number"
        return price, None
    if name == "reason":
        return reason_text(value), None
    value = xml_text(value)
    if isinstance(value, str):
        value = value.strip()
    return value, None

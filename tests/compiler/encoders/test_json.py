"""JSON bodies: nested objects and lists from paths, exact numbers, omissions, compact UTF-8."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from engine.compiler.encoders import JsonEncoder
from engine.compiler.encoders.paths import Problem, build_tree
from engine.errors import MappingError
from engine.plan import OMIT, OutputPath
from tests.compiler.encoders.test_paths import compile_stage


def encoder(*paths: OutputPath) -> JsonEncoder:
    problems: list[Problem] = []
    tree = build_tree(paths, problems, xml=False)
    assert problems == []
    return JsonEncoder(tree, paths)


def test_nested_objects_keep_file_order() -> None:
    """Dotted paths make nested objects; keys appear in the order fields are written."""
    enc = encoder(("z",), ("contact", "email"), ("a",), ("contact", "phone"))
    assert enc.encode(["1", "e@x.com", "2", "555"]) == (
        b'{"z":"1","contact":{"email":"e@x.com","phone":"555"},"a":"2"}'
    )
    assert enc.content_type == "application/json"


def test_lists_follow_positions_not_file_order() -> None:
    """``[i]`` makes a list; its items are in position order whatever the file order."""
    enc = encoder(("phones", 1, "n"), ("phones", 0, "n"), ("tags", 0), ("tags", 1))
    assert enc.encode(["b", "a", "x", "y"]) == b'{"phones":[{"n":"a"},{"n":"b"}],"tags":["x","y"]}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("text", '"text"'),
        (42, "42"),
        (-7, "-7"),
        (142.5, "142.5"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (Decimal("12.50"), "12.50"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.000001"), "-0.000001"),
        ('quote " back \\ tab \t nl \n', '"quote \\" back \\\\ tab \\t nl \\n"'),
        ("\x01", '"\\u0001"'),
    ],
    ids=["str", "int", "negative", "float", "true", "false", "null", "decimal-kept-zeros",
         "decimal-no-exponent", "decimal-small", "escapes", "control"],
)  # fmt: skip
def test_value_kinds(value: Any, text: str) -> None:
    """Each kind of value is written as JSON text; a Decimal exactly, never in exponent form."""
    assert encoder(("v",)).encode([value]) == b'{"v":' + text.encode() + b"}"


def test_non_ascii_is_written_as_utf8_itself() -> None:
    """Accents, symbols and emoji are sent as UTF-8, not as \\u escapes."""
    body = encoder(("name",)).encode(["Ñúñez € 😀"])
    assert body == '{"name":"Ñúñez € 😀"}'.encode()


def test_omitted_fields_and_emptied_objects_vanish() -> None:
    """An omitted field is left out; an object or list with nothing left is left out too."""
    enc = encoder(("a",), ("b", "c"), ("b", "d"), ("e", 0), ("f",))
    assert enc.encode([OMIT, OMIT, OMIT, OMIT, 1]) == b'{"f":1}'
    assert enc.encode([OMIT, OMIT, "d", OMIT, OMIT]) == b'{"b":{"d":"d"}}'


def test_everything_omitted_gives_an_empty_document() -> None:
    """The top level stays, as ``{}`` (or ``[]`` for a top-level list)."""
    assert encoder(("a", "b")).encode([OMIT]) == b"{}"
    assert encoder((0,)).encode([OMIT]) == b"[]"


def test_null_is_not_omitted() -> None:
    """None is a value (``null``); only OMIT removes a field."""
    assert encoder(("a", "b")).encode([None]) == b'{"a":{"b":null}}'


def test_lone_surrogates_are_removed() -> None:
    """Half of a character pair cannot be UTF-8; it is dropped and the rest is kept."""
    assert encoder(("a",)).encode(["x\ud800y"]) == b'{"a":"xy"}'


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")]
)
def test_non_finite_numbers_refuse_the_lead(value: Any) -> None:
    """A number that is infinite or not a number cannot be sent: MappingError naming the field."""
    with pytest.raises(MappingError) as err:
        encoder(("quote", "price")).encode([value])
    assert err.value.field == "quote.price"
    assert "not a usable number" in err.value.reason


def test_unsupported_value_kind_refuses_the_lead() -> None:
    """A list produced by a transform is not silently turned into text."""
    with pytest.raises(MappingError, match="the field 'a' produced a list"):
        encoder(("a",)).encode([["x"]])


def test_from_a_buyer_file() -> None:
    """Built from a stage section, the encoder's output reads back with json.loads."""
    enc, issues = compile_stage(
        """
        stages:
          post:
            fields:
              contact.first: lead.first_name
              contact.phones[0].number: lead.phone
              contact.phones[0].type: {value: mobile}
              consent: consent.tcpa_consent
        """
    )
    assert issues == [] and enc is not None
    body = enc.encode(["John", "5125550142", "mobile", True])
    assert json.loads(body) == {
        "contact": {"first": "John", "phones": [{"number": "5125550142", "type": "mobile"}]},
        "consent": True,
    }

"""List fields (``each:``) and aggregates: bodies in every format, kept items, compile errors."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler.integration import compile_document
from engine.compiler.lists_run import total
from engine.dsl.loader import load_yaml_text
from engine.errors import MappingError
from engine.lead import validate_lead
from engine.lead.schema import load_lead_schema
from engine.plan import IntegrationPlan, RenderContext
from engine.runtime.render import render_values
from tests.paths import FIXTURES

SCHEMA = load_lead_schema(FIXTURES / "lists" / "lead-schema.yaml")
NOW = datetime(2024, 6, 1, tzinfo=UTC)
HEAD = """\
buyer: lists
name: Lists
version: "1"
environments: {test: {url: "http://127.0.0.1:9/"}}
stages:
"""
DRIVERS = [
    {
        "first_name": "Ann & Bo",
        "dob": "1990-02-03",
        "accidents": [{"date": "2020-01-01", "at_fault": "yes"}, {"date": "2023-05-01"}],
    },
    {"first_name": "Zoë", "dob": "2001-07-09"},
    {"first_name": "Cy", "dob": "1970-01-01", "accidents": []},
]


def compiled(stages: str) -> tuple[IntegrationPlan | None, list[str]]:
    doc = load_yaml_text(HEAD + textwrap.indent(textwrap.dedent(stages), "  "), "buyer.yaml")
    plan, issues = compile_document(doc, SCHEMA)
    return plan, [f"{i.code} {i.message}" for i in issues if i.severity == "error"]


def body(stages: str, stage: str = "post", **fields: Any) -> str:
    plan, issues = compiled(stages)
    assert plan is not None, issues
    doc = {"zip": "78701", "phones": ["5125550142", "5125550143"], "drivers": DRIVERS, **fields}
    lead = validate_lead(SCHEMA, {"timestamp": "2024-06-01T00:00:00Z", "lead": doc})
    request = plan.stages[stage].request
    assert request.render is not None
    values = request.render(RenderContext(lead, NOW))
    charset = "latin-1" if "ISO-8859-1" in request.encoder.content_type else "utf-8"
    return request.encoder.encode(values).decode(charset)


def test_json_arrays_of_objects_and_of_values_nested() -> None:
    """Each kept item becomes an object (or a value); an item list inside an item nests."""
    out = body("""\
        post:
          fields:
            phones: {each: lead.phones, transform: [{phone: dashes}]}
            drivers:
              each: lead.drivers
              fields:
                first: item.first_name
                zip: lead.zip
                accidents:
                  each: item.accidents
                  fields: {on: item.date, fault: {from: item.at_fault, type: boolean}}
        """)
    assert out == (
        '{"phones":["512-555-0142","512-555-0143"],"drivers":['
        '{"first":"Ann & Bo","zip":"78701","accidents":[{"on":"2020-01-01","fault":true},'
        '{"on":"2023-05-01"}]},{"first":"Zoë","zip":"78701"},{"first":"Cy","zip":"78701"}]}'
    )


def test_where_and_max_items_choose_the_items() -> None:
    """``where`` keeps the items meeting it; ``max_items`` then keeps the first ones."""
    out = body("""\
        post:
          fields:
            drivers:
              each: lead.drivers
              where: "item.dob < '2000-01-01'"
              max_items: 1
              fields: {first: item.first_name}
        """)
    assert out == '{"drivers":[{"first":"Ann & Bo"}]}'


def test_extra_items_reject_refuses_the_lead_naming_the_list() -> None:
    stages = """\
        post:
          fields:
            drivers:
              {each: lead.drivers, max_items: 2, extra_items: reject, fields: {f: item.first_name}}
        """
    with pytest.raises(MappingError, match=r"has 3 items and this buyer takes at most 2"):
        body(stages)


def test_an_empty_list_follows_if_missing() -> None:
    stages = """\
        post:
          fields:
            zip: lead.zip
            phones: {each: lead.phones, if_missing: reject}
        """
    with pytest.raises(MappingError, match=r"lead\.phones has no items; this buyer requires"):
        body(stages, phones=[])
    assert body(stages.replace("if_missing: reject", "if_missing: null"), phones=[]) == (
        '{"zip":"78701","phones":null}'
    )


def test_if_missing_empty_sends_an_empty_json_array_at_any_depth() -> None:
    """No item kept: ``[]`` for the lead's list and for an item's list, while a list without
    the key is still left out."""
    out = body(
        """\
        post:
          fields:
            phones: {each: lead.phones, if_missing: empty}
            drivers:
              each: lead.drivers
              fields:
                first: item.first_name
                accidents: {each: item.accidents, if_missing: empty, fields: {on: item.date}}
                again: {each: item.accidents, fields: {on: item.date}}
        """,
        phones=[],
        drivers=DRIVERS[1:],
    )
    assert out == (
        '{"phones":[],"drivers":[{"first":"Zoë","accidents":[]},{"first":"Cy","accidents":[]}]}'
    )


def test_if_missing_empty_keeps_the_xml_container_and_sends_nothing_in_a_form() -> None:
    """XML has no empty list: the items' container is written empty (``<Phones/>``) and no
    item element; a form has no way to say "empty list", so nothing is sent."""
    xml = body(
        """\
        post:
          format: xml
          xml: {root: Lead, declaration: false}
          fields:
            Zip: lead.zip
            Phones.Phone: {each: lead.phones, if_missing: empty}
            Drivers.Driver:
              each: lead.drivers
              fields:
                "@name": item.first_name
                Accidents.Accident:
                  {each: item.accidents, if_missing: empty, fields: {D: item.date}}
        """,
        phones=[],
        drivers=DRIVERS[2:],
    )
    assert xml == (
        '<Lead><Zip>78701</Zip><Phones/><Drivers><Driver name="Cy"><Accidents/></Driver>'
        "</Drivers></Lead>"
    )
    form = body(
        """\
        post:
          format: form
          fields:
            zip: lead.zip
            phones: {each: lead.phones, names: "phone{n}", if_missing: empty}
        """,
        phones=[],
    )
    assert form == "zip=78701"


def test_an_item_of_values_left_empty_is_left_out_not_null() -> None:
    """The list's ``if_missing`` is about the list, never its items: an item a transform
    empties is left out (it was sent as null when the list's keys were copied away)."""
    stages = """\
        post:
          fields:
            zip: lead.zip
            phones: {each: lead.phones, if_missing: MODE, transform: [{substring: {start: 20}}]}
        """
    assert body(stages.replace("MODE", "omit")) == '{"zip":"78701"}'
    assert body(stages.replace("MODE", "empty")) == '{"zip":"78701","phones":[]}'


def test_if_missing_empty_is_explained() -> None:
    plan, issues = compiled("""\
        post:
          fields: {phones: {each: lead.phones, max_items: 2, if_missing: empty}}
        """)
    assert plan is not None, issues
    assert plan.stages["post"].request.fields[0].description == (
        "one per item of lead.phones (at most 2 (more are left out), an empty list without "
        "one): item"
    )


def test_xml_repeats_the_element_with_attributes_escaped_in_its_charset() -> None:
    out = body("""\
        post:
          format: xml
          xml: {root: Lead, declaration: false, encoding: ISO-8859-1}
          fields:
            Phones.Phone: {each: lead.phones}
            Drivers.Driver:
              each: lead.drivers
              fields:
                "@name": item.first_name
                Accidents.Accident: {each: item.accidents, fields: {Date: item.date}}
        """)
    assert out == (
        "<Lead><Phones><Phone>5125550142</Phone><Phone>5125550143</Phone></Phones><Drivers>"
        '<Driver name="Ann &amp; Bo"><Accidents><Accident><Date>2020-01-01</Date></Accident>'
        "<Accident><Date>2023-05-01</Date></Accident></Accidents></Driver>"
        '<Driver name="Zoë"/><Driver name="Cy"/></Drivers></Lead>'
    )


@pytest.mark.parametrize(
    ("names", "inner", "expected"),
    [
        (
            "driver{n}_{name}",
            "acc{n}_{name}",
            "driver1_first=Ann+%26+Bo&driver1_acc1_on=2020-01-01&driver1_acc2_on=2023-05-01"
            "&driver2_first=Zo%C3%AB&driver3_first=Cy",
        ),
        (
            "drivers[{i}][{name}]",
            "accidents[{i}][{name}]",
            "drivers%5B0%5D%5Bfirst%5D=Ann+%26+Bo"
            "&drivers%5B0%5D%5Baccidents%5D%5B0%5D%5Bon%5D=2020-01-01"
            "&drivers%5B0%5D%5Baccidents%5D%5B1%5D%5Bon%5D=2023-05-01"
            "&drivers%5B1%5D%5Bfirst%5D=Zo%C3%AB&drivers%5B2%5D%5Bfirst%5D=Cy",
        ),
    ],
    ids=["flat-1-based", "php-brackets-0-based"],
)
def test_form_names_follow_the_authors_pattern(names: str, inner: str, expected: str) -> None:
    out = body(f"""\
        post:
          format: form
          fields:
            drivers:
              each: lead.drivers
              names: "{names}"
              fields:
                first: item.first_name
                accidents: {{each: item.accidents, names: "{inner}", fields: {{on: item.date}}}}
        """)
    assert out == expected


def test_a_list_of_values_may_repeat_one_form_name() -> None:
    out = body("""\
        post:
          format: query
          method: GET
          fields: {phones: {each: lead.phones, names: "phone[]"}}
        """)
    assert out == "phone%5B%5D=5125550142&phone%5B%5D=5125550143"


def test_aggregates_count_the_items_the_post_sends() -> None:
    """The ping's count, min, max, any and all see the post's kept drivers (where, max_items)."""
    stages = """\
        ping:
          fields:
            drivers: {count: lead.drivers}
            with_accidents: {count: lead.drivers, where: "length(item.accidents || `[]`) > `0`"}
            youngest: {min: lead.drivers, of: {from: item.dob, transform: [age]}}
            oldest: {max: lead.drivers, of: {from: item.dob, transform: [age]}}
            any_at_fault: {any: lead.drivers, where: "item.accidents[?at_fault]"}
            all_born: {all: lead.drivers, where: "item.dob"}
        post:
          fields:
            drivers: {each: lead.drivers, max_items: 2, fields: {f: item.first_name}}
        """
    assert body(stages, "ping") == (
        '{"drivers":2,"with_accidents":1,"youngest":22,"oldest":34,"any_at_fault":true,'
        '"all_born":true}'
    )


VEHICLES = [{"value": 12000.5}, {}, {"value": 800}, {"value": None}, {"value": 5}]


def test_sum_totals_the_items_the_post_sends_leaving_out_missing_values() -> None:
    """``sum`` adds ``of`` over the post's kept items (its max_items), then its own ``where``;
    an item without a value adds nothing; whole numbers give a whole number."""
    stages = """\
        ping:
          fields:
            value: {sum: lead.vehicles, of: item.value}
            dear: {sum: lead.vehicles, of: item.value, where: "item.value > `1000`"}
            accidents: {sum: lead.drivers, of: {count: item.accidents}}
        post:
          fields:
            vehicles: {each: lead.vehicles, max_items: 4, fields: {v: item.value}}
            drivers: {each: lead.drivers, max_items: 2, fields: {f: item.first_name}}
        """
    assert body(stages, "ping", vehicles=VEHICLES) == (
        '{"value":12800.5,"dear":12000.5,"accidents":2}'
    )


def test_sum_over_no_items_is_zero() -> None:
    """An absent or empty list, or items none of which has a value, total 0 (not missing)."""
    stages = """\
        ping:
          fields: {value: {sum: lead.vehicles, of: item.value}}
        post:
          fields: {zip: lead.zip}
        """
    assert body(stages, "ping") == '{"value":0}'
    assert body(stages, "ping", vehicles=[{}, {"value": None}]) == '{"value":0}'


def test_sum_of_text_refuses_the_lead_saying_how_to_fix_it() -> None:
    """Like min/max over values they cannot compare: a text is not added, the lead is refused."""
    stages = """\
        post:
          fields: {x: {sum: lead.drivers, of: item.first_name}}
        """
    with pytest.raises(MappingError, match=r"cannot add str values; make 'of' give numbers"):
        body(stages)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], 0),
        ([1, 2, 3], 6),
        ([1, 0.5], 1.5),
        ([Decimal("0.1"), 0.2], Decimal("0.3")),
        ([Decimal("1.10"), 2], Decimal("3.10")),
    ],
    ids=["none", "whole", "float", "decimal-and-float", "decimal-and-int"],
)
def test_total_adds_numbers_exactly(values: list[Any], expected: Any) -> None:
    """Whole numbers stay whole; a float among decimals counts as the decimal it is written as."""
    found = total(values)
    assert found == expected and type(found) is type(expected)


@pytest.mark.parametrize("odd", ["12", True, None], ids=["text", "boolean", "null"])
def test_total_refuses_what_is_not_a_number(odd: Any) -> None:
    with pytest.raises(MappingError, match=r"cannot add .* values"):
        total([1, odd])


@cache
def _sum_plan(limit: int) -> IntegrationPlan:
    plan, issues = compiled(f"""\
        ping:
          fields:
            total: {{sum: lead.vehicles, of: item.value, where: "item.value > `0`"}}
        post:
          fields:
            vehicles: {{each: lead.vehicles, max_items: {limit}, fields: {{v: item.value}}}}
        """)
    assert plan is not None, issues
    return plan


NUMBERS = st.one_of(
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
)


@given(values=st.lists(NUMBERS, max_size=8), limit=st.integers(1, 6))
def test_sum_is_plain_python_sum_over_the_items_the_post_sends(
    values: list[int | float | None], limit: int
) -> None:
    """For any vehicle values and any post max_items, the ping's total is Python's sum of the
    values of the first ``limit`` vehicles that have one and meet the aggregate's where."""
    vehicles = [{} if v is None else {"value": v} for v in values]
    lead = validate_lead(
        SCHEMA,
        {"timestamp": "2024-06-01T00:00:00Z", "lead": {"drivers": DRIVERS, "vehicles": vehicles}},
    )
    [found] = render_values(_sum_plan(limit), "ping", RenderContext(lead, NOW))
    sent = [v for v in values[:limit] if v is not None and v > 0]
    assert found == sum(sent)
    assert type(found) is type(sum(float(v) for v in sent))  # lead numbers arrive as floats


def test_aggregates_pass_the_ping_pii_check_but_items_do_not() -> None:
    plan, issues = compiled("""\
        ping:
          fields:
            n: {count: lead.drivers}
            youngest: {min: lead.drivers, of: {from: item.dob, transform: [age]}}
            first_born: {min: lead.drivers, of: item.dob}
            ages: {sum: lead.drivers, of: {from: item.dob, transform: [age]}}
            names: {each: lead.drivers, fields: {f: item.first_name}}
        post:
          fields: {zip: lead.zip}
        """)
    assert plan is not None, issues
    ping = {f.name: f.pii for f in plan.stages["ping"].request.fields}
    assert ping == {"n": False, "youngest": False, "first_born": True, "ages": False, "names": True}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("x: item.dob", "LP206 'item.dob' reads an item of a list, but this field is not inside"),
        ("x: lead.drivers.dob", "LP206 'lead.drivers.dob' is a field of each item of the list"),
        ("x: {from: lead.drivers}", "LP206 'lead.drivers' is a list of items, not one value"),
        ("x: {each: lead.zip}", "LP206 'lead.zip' is not a list of the lead"),
        (
            "x: {each: lead.drivers, fields: {a: item.dobb}}",
            "LP304 the items of lead.drivers have no field 'dobb'",
        ),
        (
            "x: {each: lead.drivers, names: 'd{n}', fields: {a: item.dob}}",
            "LP207 'names' only applies to form",
        ),
        (
            "x: {each: lead.drivers, fields: {a: item.accidents}}",
            "LP206 'item.accidents' is a list, not one value",
        ),
        (
            "x: {each: lead.drivers, type: string, fields: {a: item.dob}}",
            "LP207 'type' applies to a list of values",
        ),
        ("'x[0]': {each: lead.phones}", "LP308 'x[0]' sends a list, so its name must end"),
        (
            "x: {each: lead.drivers, where: 'item.nope', fields: {a: item.dob}}",
            "LP304 unknown lead field 'lead.drivers.nope'",
        ),
        ("x: {sum: lead.drivers}", "LP204 'sum' needs 'of': the value of one item"),
        (
            "x: {from: lead.zip, if_missing: empty}",
            "LP204 'if_missing: empty' sends an empty list, so it only applies to 'each'",
        ),
        ("x: {count: lead.drivers, of: item.dob}", "LP204 'of' only applies to 'min', 'max' and"),
        (
            "x: {concat: [lead.zip, {each: lead.phones}]}",
            "LP206 a list (each:) can only be a field of its own",
        ),
    ],
)
def test_json_mistakes(fields: str, message: str) -> None:
    _, issues = compiled(f"post:\n  fields:\n    {fields}\n")
    assert any(i.startswith(message) for i in issues), issues


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("x: {each: lead.drivers, fields: {a: item.dob}}", "LP207 a list in a form needs 'names'"),
        (
            "x: {each: lead.drivers, names: 'd{n}', fields: {a: item.dob}}",
            "LP207 'd{n}' must contain {name}",
        ),
        ("x: {each: lead.phones, names: 'p{name}{n}'}", "LP207 'p{name}{n}' uses {name}"),
        ("x: {each: lead.phones, names: 'p{k}'}", "LP207 'p{k}' has a placeholder other than"),
    ],
)
def test_form_mistakes(fields: str, message: str) -> None:
    _, issues = compiled(f"post:\n  format: form\n  fields:\n    {fields}\n")
    assert any(i.startswith(message) for i in issues), issues

"""Form bodies, query strings and documents wrapped in a form field."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl, unquote_to_bytes

from lxml import etree

from engine.errors import Issue
from engine.plan import OMIT, Encoder
from tests.compiler.encoders.test_paths import compile_stage


def form_stage(fields: list[str], fmt: str = "form") -> str:
    lines = "\n".join(f"      '{n}': lead.email" for n in fields)
    return f"stages:\n  post:\n    format: {fmt}\n    fields:\n{lines}\n"


def build(text: str) -> Encoder:
    enc, issues = compile_stage(text)
    assert issues == [], [i.render() for i in issues]
    assert enc is not None
    return enc


def problems(text: str) -> list[Issue]:
    enc, issues = compile_stage(text)
    assert enc is None
    return issues


def test_form_pairs_in_file_order() -> None:
    """Each field is ``name=value``, UTF-8 percent-encoded, ``+`` for a space."""
    enc = build(form_stage(["first name", "email", "note"]))
    assert enc.content_type == "application/x-www-form-urlencoded"
    body = enc.encode(["Ana María", "a+b@x.com", "50% & more=yes"])
    assert body == b"first+name=Ana+Mar%C3%ADa&email=a%2Bb%40x.com&note=50%25+%26+more%3Dyes"
    assert parse_qsl(body.decode()) == [
        ("first name", "Ana María"),
        ("email", "a+b@x.com"),
        ("note", "50% & more=yes"),
    ]


def test_value_kinds_and_omitted_fields() -> None:
    """true/false, exact numbers, empty for null; an omitted field leaves out its pair."""
    enc = build(form_stage(["a", "b", "c", "d", "e", "f"]))
    body = enc.encode([True, False, None, Decimal("1E+2"), OMIT, 142.5])
    assert body == b"a=true&b=false&c=&d=100&f=142.5"


def test_query_string_has_no_content_type() -> None:
    """format query gives the text after ``?``; there is no body, so no content type."""
    enc = build(form_stage(["state", "zip"], "query"))
    assert enc.content_type == ""
    assert enc.encode(["TX", "78701"]) == b"state=TX&zip=78701"


def test_lone_surrogates_are_removed() -> None:
    assert build(form_stage(["a"])).encode(["x\udc00y"]) == b"a=xy"


def test_nested_paths_lists_and_attributes_are_lp308() -> None:
    """A form has only flat names: each field that nests, lists or is an attribute is reported."""
    found = problems(form_stage(["contact.email", "phones[0]", "@id", "ok"]))
    assert [(i.code, i.span.line if i.span else 0) for i in found] == [
        ("LP308", 5),
        ("LP308", 6),
        ("LP308", 7),
    ]
    assert found[0].message == (
        "'contact.email' is not a plain name, and a form cannot nest fields, "
        "hold lists or carry attributes"
    )
    assert found[0].hint == "use a flat name such as contact_email, or use format: json or xml"


def test_query_string_names_the_format() -> None:
    found = problems(form_stage(["a.b"], "query"))
    assert "a query string cannot nest fields" in found[0].message


WRAPPED_XML = """
stages:
  post:
    format: xml
    xml: {root: lead, encoding: ISO-8859-1}
    wrap_in_form:
      field: xml
      fields:
        key: {value: K1}
        campaign: {value: home}
    fields:
      name: lead.first_name
      '@id': lead.email
"""


def test_wrapped_xml_document_in_its_own_charset() -> None:
    """Outer fields first, then the document, percent-encoded as ISO-8859-1 bytes."""
    enc = build(WRAPPED_XML)
    assert enc.content_type == "application/x-www-form-urlencoded"
    body = enc.encode(["Núñez & €", "7", "K1", "home"])
    assert body == (
        b"key=K1&campaign=home&xml=%3C%3Fxml+version%3D%221.0%22+encoding%3D%22ISO-8859-1%22%3F%3E"
        b"%3Clead+id%3D%227%22%3E%3Cname%3EN%FA%F1ez+%26amp%3B+EUR%3C%2Fname%3E%3C%2Flead%3E"
    )
    pairs = [p.split("=", 1) for p in body.decode().split("&")]
    assert [k for k, _ in pairs] == ["key", "campaign", "xml"]
    document = unquote_to_bytes(pairs[2][1].replace("+", " "))
    assert etree.fromstring(document).findtext("name") == "Núñez & EUR"


def test_wrapped_json_document() -> None:
    """A JSON document is sent as UTF-8 in its form field."""
    enc = build(
        "stages:\n  post:\n    format: json\n    wrap_in_form:\n      field: data\n"
        "      fields: {token: {value: T}}\n    fields:\n      a.b: lead.email\n"
    )
    body = enc.encode(["é", "T"])
    assert parse_qsl(body.decode()) == [("token", "T"), ("data", '{"a":{"b":"é"}}')]


def test_wrap_field_clashing_with_an_outer_field() -> None:
    """The document's field name must differ from the other form fields."""
    text = WRAPPED_XML.replace("field: xml", "field: key")
    found = problems(text)
    assert [(i.code, i.message) for i in found] == [
        ("LP308", "the document field 'key' has the same name as another form field")
    ]


def test_nested_outer_field_is_lp308() -> None:
    """The outer form fields are flat too."""
    found = problems(WRAPPED_XML.replace("campaign:", "campaign.id:"))
    assert [(i.code, i.span.line if i.span else 0) for i in found] == [("LP308", 10)]

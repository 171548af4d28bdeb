"""XML and SOAP bodies: elements, attributes, namespaces, encodings, escaping and LP204/LP308."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from engine.errors import Issue, MappingError
from engine.plan import OMIT, Encoder
from tests.compiler.encoders.test_paths import compile_stage


def xml_stage(fields: list[str], **options: str) -> str:
    """A post stage in format xml with ``fields`` (each read from lead.email)."""
    opts = {"root": "Lead", **options}
    xml = "\n".join(f"      {k}: {v}" for k, v in opts.items() if k != "namespaces")
    if "namespaces" in options:
        xml += "\n      namespaces: " + options["namespaces"]
    lines = "\n".join(f"      '{n}': lead.email" for n in fields)
    return f"stages:\n  post:\n    format: xml\n    xml:\n{xml}\n    fields:\n{lines}\n"


def build(fields: list[str], **options: str) -> Encoder:
    enc, issues = compile_stage(xml_stage(fields, **options))
    assert issues == [], [i.render() for i in issues]
    assert enc is not None
    return enc


def problems(fields: list[str], **options: str) -> list[Issue]:
    enc, issues = compile_stage(xml_stage(fields, **options))
    assert enc is None
    return issues


DECL = b'<?xml version="1.0" encoding="UTF-8"?>'


def test_elements_nest_and_keep_file_order() -> None:
    """Dotted paths are nested elements under the root, in file order, after the declaration."""
    enc = build(["Contact.First", "Zip", "Contact.Last"])
    assert enc.encode(["Ana", "78701", "Ruiz"]) == (
        DECL
        + b"<Lead><Contact><First>Ana</First><Last>Ruiz</Last></Contact><Zip>78701</Zip></Lead>"
    )
    assert enc.content_type == "application/xml; charset=UTF-8"


def test_declaration_can_be_left_out() -> None:
    """``declaration: false`` sends the root element alone."""
    assert build(["A"], declaration="false").encode(["1"]) == b"<Lead><A>1</A></Lead>"


def test_attributes_on_root_elements_and_beside_text() -> None:
    """``@name`` is an attribute of the element before it; an element may have text too."""
    enc = build(["@version", "Phone.@type", "Phone", "Car.@year"])
    assert enc.encode(["2", "mobile", "555", "2019"]) == (
        DECL + b'<Lead version="2"><Phone type="mobile">555</Phone><Car year="2019"/></Lead>'
    )


def test_repeated_elements_from_positions() -> None:
    """``Phone[0]``, ``Phone[1]`` repeat the element; positions may carry children too."""
    enc = build(["Phone[0]", "Phone[1]", "Driver[0].Name", "Driver[0].@id", "Driver[1].Name"])
    assert enc.encode(["1", "2", "Ana", "7", "Bo"]) == DECL + (
        b"<Lead><Phone>1</Phone><Phone>2</Phone>"
        b'<Driver id="7"><Name>Ana</Name></Driver><Driver><Name>Bo</Name></Driver></Lead>'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, b"true"), (False, b"false"), (7, b"7"), (Decimal("27.50"), b"27.50"), (1.5, b"1.5")],
    ids=["true", "false", "int", "decimal", "float"],
)
def test_value_kinds(value: Any, text: bytes) -> None:
    """Booleans are true/false; numbers are written exactly."""
    assert build(["V"]).encode([value]) == DECL + b"<Lead><V>" + text + b"</V></Lead>"


def test_null_is_an_empty_element_and_omitted_fields_vanish() -> None:
    """None gives ``<X/>``; an omitted field and an element left empty disappear; the root stays."""
    enc = build(["A", "B.C", "D.@x"])
    assert enc.encode([None, OMIT, OMIT]) == DECL + b"<Lead><A/></Lead>"
    assert enc.encode([OMIT, OMIT, OMIT]) == DECL + b"<Lead/>"
    assert enc.encode([OMIT, OMIT, ""]) == DECL + b'<Lead><D x=""/></Lead>'


def test_everything_is_escaped() -> None:
    """``& < > " '`` are escaped; a carriage return (in attributes also tab, newline) is a
    character reference, so every text reads back unchanged."""
    enc = build(["T", "T2.@a"])
    body = enc.encode(["a&b<c>d\"e'f\r\ng", "x\ty\nz\r"])
    assert body == DECL + (
        b'<Lead><T>a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;\ng</T><T2 a="x&#9;y&#10;z&#13;"/></Lead>'
    )
    root = etree.fromstring(body)
    assert root.findtext("T") == "a&b<c>d\"e'f\r\ng"
    assert root.find("T2").get("a") == "x\ty\nz\r"  # type: ignore[union-attr]


def test_characters_xml_forbids_are_removed() -> None:
    """Control characters (but tab, newline, carriage return), U+FFFE/FFFF and lone surrogates."""
    body = build(["T"]).encode(["a\x00b\x1bc\ufffed\uffffe\ud800f\x7f"])
    assert body == DECL + b"<Lead><T>abcdef\x7f</T></Lead>"


def test_soap_11_envelope() -> None:
    """A SOAP 1.1 envelope: namespaces declared on the root; sent as text/xml."""
    enc = build(
        ["soap:Body.lh:PostLead.lh:Token", "soap:Body.lh:PostLead.lh:Phone"],
        root="soap:Envelope",
        namespaces="{soap: 'http://schemas.xmlsoap.org/soap/envelope/', lh: 'http://lh.com/'}",
    )
    assert enc.content_type == "text/xml; charset=UTF-8"
    assert enc.encode(["T-1", "512.555.0142"]) == DECL + (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:lh="http://lh.com/"><soap:Body><lh:PostLead><lh:Token>T-1</lh:Token>'
        b"<lh:Phone>512.555.0142</lh:Phone></lh:PostLead></soap:Body></soap:Envelope>"
    )


def test_soap_12_envelope_with_default_namespace() -> None:
    """SOAP 1.2 is sent as application/soap+xml; unprefixed elements use the default namespace."""
    enc = build(
        ["env:Body.Lead.Name"],
        root="env:Envelope",
        default_namespace="urn:leads",
        namespaces="{env: 'http://www.w3.org/2003/05/soap-envelope'}",
    )
    assert enc.content_type == "application/soap+xml; charset=UTF-8"
    body = enc.encode(["Ana"])
    assert body == DECL + (
        b'<env:Envelope xmlns="urn:leads" xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
        b"<env:Body><Lead><Name>Ana</Name></Lead></env:Body></env:Envelope>"
    )
    name = etree.fromstring(body).find(".//{urn:leads}Name")
    assert name is not None and name.text == "Ana"


LATIN = b'<?xml version="1.0" encoding="ISO-8859-1"?>'


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("transliterate", "Ñúñez EUR 5"), ("remove", "Ñúñez  5")],
)
def test_iso_8859_1_policy(policy: str, expected: str) -> None:
    """Characters ISO-8859-1 has are kept; the others are transliterated or removed."""
    enc = build(["Name"], encoding="ISO-8859-1", unencodable=policy)
    assert enc.content_type == "application/xml; charset=ISO-8859-1"
    body = enc.encode(["Ñúñez € 5"])
    assert body == LATIN + f"<Lead><Name>{expected}</Name></Lead>".encode("latin-1")
    assert etree.fromstring(body).findtext("Name") == expected


def test_reject_policy_names_character_and_field() -> None:
    """With ``unencodable: reject`` the lead is refused, saying which character and field."""
    enc = build(["Contact.Name"], encoding="ISO-8859-1", unencodable="reject")
    with pytest.raises(MappingError) as err:
        enc.encode(["Zoë 😀"])
    assert err.value.field == "Contact.Name"
    assert err.value.reason == (
        "the character '😀' (grinning face) in field 'Contact.Name' cannot be written in ISO-8859-1"
    )


def test_ascii_transliterates_accents_and_windows_1252_keeps_euro() -> None:
    """US-ASCII spells "Ñúñez" as "Nunez"; windows-1252 has the euro sign."""
    assert build(["N"], encoding="us-ascii").encode(["Ñúñez"]).endswith(b"<N>Nunez</N></Lead>")
    body = build(["N"], encoding="windows-1252").encode(["5 €"])
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1252"?>')
    assert body.endswith(b"<N>5 \x80</N></Lead>")


def test_transliteration_is_escaped() -> None:
    """A transliteration that produces a special character (« is <<) is still escaped."""
    assert (
        build(["N"], encoding="us-ascii")
        .encode(["«x»"])
        .endswith(b"<N>&lt;&lt;x&gt;&gt;</N></Lead>")
    )


NOT_ENCODING = "is not a character encoding XML can be sent in"


@pytest.mark.parametrize(
    ("options", "where", "message"),
    [
        ({"encoding": "klingon"}, "encoding", f"'klingon' {NOT_ENCODING}"),
        ({"encoding": "UTF-16"}, "encoding", f"'UTF-16' {NOT_ENCODING}"),
        ({"root": "'1Lead'"}, "root", "'1Lead' is not a valid XML name"),
        ({"root": "soap:Envelope"}, "root",
         "the namespace prefix 'soap' of 'soap:Envelope' is not declared"),
        ({"namespaces": "{'x-1:': 'urn:a'}"}, "namespaces", "'x-1:' cannot be a namespace prefix"),
        ({"namespaces": "{xmlns: 'urn:a'}"}, "namespaces", "'xmlns' cannot be a namespace prefix"),
        ({"namespaces": "{a: ''}"}, "namespaces", "the namespace 'a' has no URI"),
    ],
    ids=["unknown-encoding", "utf16", "bad-root", "undeclared-root-prefix", "bad-prefix",
         "xmlns-prefix", "empty-uri"],
)  # fmt: skip
def test_invalid_xml_settings_are_lp204(options: dict[str, str], where: str, message: str) -> None:
    """Each bad setting of the xml section is one LP204 on its line."""
    found = problems(["A"], **options)
    assert [(i.code, i.message) for i in found] == [("LP204", message)]
    line = {"root": 5, "encoding": 6, "namespaces": 6}[where]
    assert found[0].span is not None and found[0].span.line == line


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("1Name", "'1Name' is not a valid XML name"),
        ("A.b c", "'b c' is not a valid XML name"),
        ("x:Name", "the namespace prefix 'x' of 'x:Name' is not declared"),
        ("@xmlns:x", "'@xmlns:x' would declare a namespace"),
        ("[0].A", "'[0].A' starts with a list position, "
                  "but an XML document has exactly one root element"),
        ("A[0][1]", "'A[0][1]' puts a list inside a list, which XML cannot express"),
        ("Größe€", "'Größe€' cannot be written in ISO-8859-1"),
    ],
    ids=["digit-first", "space", "undeclared-prefix", "xmlns", "leading-index", "nested-list",
         "not-encodable"],
)  # fmt: skip
def test_invalid_xml_paths_are_lp308(field: str, message: str) -> None:
    """Names XML cannot carry are LP308 at the field, with the reason."""
    found = problems([field], encoding="ISO-8859-1")
    assert [(i.code, i.message) for i in found] == [("LP308", message)]


def test_text_and_children_in_one_element_is_a_conflict() -> None:
    """Mixed content is not supported: an element holds text or child elements, not both."""
    found = problems(["A", "A.B"])
    assert [i.message for i in found] == ["'A' is a single value, so 'A.B' cannot go inside 'A'"]


def _limited(limit: tuple[int, bool]) -> Encoder:
    """A one-field ISO-8859-1 encoder whose field has ``max_length`` (and ``too_long``)."""
    from engine.compiler.context import CompileContext
    from engine.compiler.encoders import build_encoder
    from engine.dsl.loader import load_yaml_text
    from engine.dsl.models import StageSpec

    doc = load_yaml_text(xml_stage(["City"], encoding="ISO-8859-1"), "buyer.yaml")
    spec = StageSpec.model_validate(doc.data["stages"]["post"])
    ctx = CompileContext(doc.source)
    enc = build_encoder(spec, [("City",)], ("stages", "post"), ctx, limits=[limit])
    assert enc is not None and not ctx.issues
    return enc


def test_a_transliterated_text_still_keeps_to_max_length() -> None:
    """鶴巻 is 2 characters but 'HeJuan' in ASCII: max_length 5 cuts the written text, and
    too_long: reject refuses the lead, saying the encoding made it longer."""
    assert _limited((5, False)).encode(["鶴巻"]).endswith(b"<City>HeJua</City></Lead>")
    assert (
        _limited((5, False)).encode(["Zoë"]).endswith("<City>Zoë</City></Lead>".encode("latin-1"))
    )
    with pytest.raises(MappingError, match=r"at most 5 .*once written in ISO-8859-1"):
        _limited((5, True)).encode(["鶴巻"])

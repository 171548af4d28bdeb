"""Reading response bodies: JSON, XML as a JSON-like document, HTML trees, decoded text."""

from __future__ import annotations

import codecs
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler.bodies import BadBody, decode_text, preview, read_body


def xml(body: str, lenient: bool = False) -> object:
    return read_body("xml", body.encode(), {}, lenient_xml=lenient).doc


def test_xml_elements_attributes_and_text() -> None:
    """Elements become keys, attributes @name, text the value or #text beside attributes."""
    doc = xml('<R id="7"><Status>OK</Status><Price cur="USD">12.50</Price><Empty/></R>')
    assert doc == {
        "R": {
            "@id": "7",
            "Status": "OK",
            "Price": {"@cur": "USD", "#text": "12.50"},
            "Empty": None,
        }
    }


def test_xml_repeated_elements_become_a_list() -> None:
    """Two or more elements of one name are a list, in order; one stays a value."""
    doc = xml("<R><E>a</E><X>1</X><E>b</E><E>c</E></R>")
    assert doc == {"R": {"E": ["a", "b", "c"], "X": "1"}}


def test_xml_namespace_prefixes_are_dropped() -> None:
    """`soap:Envelope` and a default namespace both read as plain names."""
    doc = xml(
        '<s:Envelope xmlns:s="urn:s" xmlns:x="urn:x"><s:Body><R xmlns="urn:lh" x:code="5">'
        "<Ok>true</Ok></R></s:Body></s:Envelope>"
    )
    assert doc == {"Envelope": {"Body": {"R": {"@code": "5", "Ok": "true"}}}}


def test_xml_mixed_content_text_is_kept() -> None:
    """Text around child elements becomes #text, whitespace trimmed."""
    assert xml("<R> hello <b>x</b> world </R>") == {"R": {"b": "x", "#text": "hello  world"}}


def test_xml_entities_are_not_expanded() -> None:
    """A document-defined entity stays unexpanded: no billion-laughs growth."""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>'
    )
    assert xml(laughs) == {"r": None}


def test_xml_external_entities_are_not_read() -> None:
    """An external entity naming a local file is never read into the document."""
    body = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<r><v>&x;</v></r>"
    )
    assert xml(body) == {"r": {"v": None}}


def test_xml_with_bom_and_leading_newline() -> None:
    """A byte-order mark and blank lines before the declaration are tolerated."""
    body = b"\xef\xbb\xbf\n\n<?xml version='1.0' encoding='UTF-8'?><R>1</R>"
    assert read_body("xml", body, {}).doc == {"R": "1"}


def test_xml_declared_encoding_is_honoured() -> None:
    """Bytes in the encoding named by the XML declaration are decoded correctly."""
    body = "<?xml version='1.0' encoding='ISO-8859-1'?><R>Müller</R>".encode("latin-1")
    assert read_body("xml", body, {}).doc == {"R": "Müller"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "expected XML but got an empty body"),
        ("OK|123", "expected XML but got: OK|123"),
        (
            "<R><a></R>",
            "expected XML but got: <R><a></R> (malformed XML: Opening and ending tag mismatch: "
            "a line 1 and R, line 1, column 11)",
        ),
    ],
    ids=["empty", "not-xml", "mismatched-tags"],
)
def test_strict_xml_failures(body: str, reason: str) -> None:
    """Without lenient mode anything but well-formed XML is BadBody with a plain reason."""
    with pytest.raises(BadBody) as info:
        read_body("xml", body.encode(), {})
    assert info.value.reason == reason


def test_lenient_xml_recovers_what_it_can_but_not_plain_text() -> None:
    """Recover mode reads a missing '>' or an unclosed tag; plain text is still not XML."""
    assert xml("<R><S>Accepted</S></R", lenient=True) == {"R": {"S": "Accepted"}}
    assert xml("<R><S>Accepted</S>", lenient=True) == {"R": {"S": "Accepted"}}
    with pytest.raises(BadBody):
        xml("OK|123", lenient=True)


def test_json_with_bom_and_charset() -> None:
    """JSON with a UTF-8 byte-order mark, or in a declared charset, reads."""
    assert read_body("json", b'\xef\xbb\xbf{"a": 1}', {}).doc == {"a": 1}
    latin = '{"n": "Müller"}'.encode("latin-1")
    assert read_body("json", latin, {"content-type": "application/json; charset=latin-1"}).doc == {
        "n": "Müller"
    }


def test_json_deeply_nested_is_a_bad_body_not_a_crash() -> None:
    """Nesting beyond Python's recursion limit is BadBody."""
    with pytest.raises(BadBody):
        read_body("json", b"[" * 100_000, {})


def test_json_nested_deeper_than_json_reads_is_a_bad_body_though_orjson_reads_it() -> None:
    """A body with many brackets is read by json, as before orjson: nested deeper than json
    reads under the recursion limit, it is a BadBody (orjson would read up to 1,024 deep)."""
    deep = ("[" * 700 + "]" * 700).encode()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(600)
    try:
        with pytest.raises(BadBody):
            read_body("json", deep, {})
    finally:
        sys.setrecursionlimit(limit)
    assert read_body("json", deep, {}).doc is not None  # under the usual limit, json reads it


def test_html_is_parsed_whatever_it_looks_like() -> None:
    """HTML parsing is forgiving; only an empty body is refused."""
    tree = read_body("html", b"<div class=x>hi", {}).tree
    assert tree.xpath("string(//div)") == "hi"
    with pytest.raises(BadBody, match="expected HTML but got an empty body"):
        read_body("html", b"  \n", {})


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "Müller"),
        ({"content-type": "text/plain; charset=utf-8"}, "Müller"),
        ({"content-type": "text/plain; charset=no-such-charset"}, "Müller"),
        ({"Content-Type": 'text/plain; charset="latin-1"'}, "MÃ¼ller"),
    ],
    ids=["default", "utf8", "unknown-charset", "quoted-mixed-case-header"],
)
def test_decode_text(headers: dict[str, str], expected: str) -> None:
    """Text uses the Content-Type charset when Python knows it, else UTF-8."""
    assert decode_text("Müller".encode(), headers) == expected


@given(
    st.one_of(st.binary(max_size=12), st.text(max_size=8).map(str.encode)).flatmap(
        lambda b: st.sampled_from([b, codecs.BOM_UTF8 + b])
    ),
    st.sampled_from([None, "utf-8", "UTF8", "latin-1", "utf-16", "utf-8-sig", "cp1252", "nope"]),
)
def test_decoding_follows_the_charset_and_drops_a_utf8_bom(
    body: bytes, charset: str | None
) -> None:
    """The decoder (with its cache of Content-Type values and its plain UTF-8 fast path) reads
    what the charset's codec reads, a UTF-8 byte-order mark dropped."""
    headers = {"content-type": f"text/plain; charset={charset}"} if charset else {}
    try:
        name = codecs.lookup(charset or "utf-8").name
    except LookupError:
        name = "utf-8"
    name = "utf-8-sig" if name == "utf-8" else name
    expected = body.decode(name, errors="replace").removeprefix("\ufeff")
    assert decode_text(body, headers) == expected
    assert decode_text(body, headers) == expected  # the second time from the cache


def test_preview_is_one_line_of_80_characters() -> None:
    """Previews flatten whitespace and cut at 80 characters with an ellipsis."""
    assert preview("a\n\n b") == "a b"
    assert preview("x" * 81) == "x" * 80 + "…"

"""Properties: any values give a body that reads back to them (after the documented clean-up)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote_plus, unquote_to_bytes

import pytest
from anyascii import anyascii
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from engine.compiler.encoders import FormEncoder, JsonEncoder, WrapEncoder, XmlEncoder
from engine.compiler.encoders.form import form_quote
from engine.compiler.encoders.paths import Problem, build_tree
from engine.compiler.encoders.xmlnames import check_name, setup
from engine.dsl.models import XmlOptions
from engine.errors import MappingError
from engine.plan import OMIT, OutputPath

FAST = settings()

#: Characters that break naive encoders: markup, controls, non-characters, surrogates, emoji.
SPECIALS = "&<>\"'\r\n\t\x00\x01\x1b\x7f\x85\ufffe\uffff\ud800\udfff€😀Ñú«»𝔘\u0301 "
texts = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=()), st.sampled_from(SPECIALS)),
    max_size=20,
)
scalars = st.one_of(
    texts,
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**9), max_value=10**9),
)
SURROGATES = re.compile("[\ud800-\udfff]")
FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def as_text(value: Any) -> str:
    """How a value is written as text (XML and forms), before any clean-up."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return repr(value) if isinstance(value, float) else str(value)


# -- JSON --------------------------------------------------------------------------------------

segments = st.one_of(st.sampled_from(["a", "b", "é"]), st.integers(0, 2))
json_paths = st.lists(st.lists(segments, min_size=1, max_size=3).map(tuple), max_size=6)


def expected_json(paths: list[OutputPath], values: list[Any]) -> Any:
    """A plain model of the JSON encoder: nest, drop omitted, drop emptied, lists by position."""
    root: dict[Any, Any] = {}
    for path, value in zip(paths, values, strict=True):
        node = root
        for seg in path[:-1]:
            node = node.setdefault(seg, {})
        node[path[-1]] = SURROGATES.sub("", value) if isinstance(value, str) else value

    def prune(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        kept = {k: prune(v) for k, v in node.items() if v is not OMIT}
        kept = {k: v for k, v in kept.items() if v is not None or not isinstance(node[k], dict)}
        if not kept:
            return None
        if all(isinstance(k, int) for k in kept):
            return [kept[k] for k in sorted(kept)]
        return kept

    top = prune(root)
    if top is None:
        return [] if paths and isinstance(paths[0][0], int) else {}
    return top


def same(got: Any, want: Any) -> bool:
    """Equal with types and key order (bool is not 1; numbers compare exactly)."""
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and list(got) == [str(k) for k in want]
            and all(same(g, w) for g, w in zip(got.values(), want.values(), strict=True))
        )
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(same, got, want))
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return type(got) is type(want) and bool(got == want)
    if isinstance(want, float):
        return bool(got == Decimal(repr(want)))
    return isinstance(got, int | Decimal) and not isinstance(got, bool) and bool(got == want)


@FAST
@given(json_paths, st.data())
def test_json_reads_back_or_reports_paths(paths: list[OutputPath], data: st.DataObject) -> None:
    """Any paths give LP308 problems or an encoder; its body json.loads back to the values."""
    problems: list[Problem] = []
    tree = build_tree(paths, problems, xml=False)
    if problems:
        assert all(0 <= p.index < len(paths) and p.message for p in problems)
        return
    values = data.draw(
        st.lists(st.one_of(scalars, st.just(OMIT)), min_size=len(paths), max_size=len(paths))
    )
    body = JsonEncoder(tree, paths).encode(values)
    got = json.loads(body.decode("utf-8"), parse_float=Decimal)
    assert same(got, expected_json(paths, values)), (got, values)


@FAST
@given(json_paths, st.data())
def test_json_without_omissions_is_compact_json_dumps(
    paths: list[OutputPath], data: st.DataObject
) -> None:
    """A lead that leaves nothing out (the encoder's prebuilt skeleton) gives byte for byte what
    json.dumps writes, compact and UTF-8, for the same nested values."""
    problems: list[Problem] = []
    tree = build_tree(paths, problems, xml=False)
    if problems:
        return
    plain = st.one_of(
        texts, st.integers(-(10**15), 10**15), st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(), st.none(),
    )  # fmt: skip
    values = data.draw(st.lists(plain, min_size=len(paths), max_size=len(paths)))
    body = JsonEncoder(tree, paths).encode(values)
    want = json.dumps(expected_json(paths, values), ensure_ascii=False, separators=(",", ":"))
    assert body == want.encode("utf-8"), (body, values)


# -- XML ---------------------------------------------------------------------------------------

XML_PATHS: list[OutputPath] = [("A",), ("B", "@x"), ("B",), ("C", 0), ("C", 1, "@y"), ("C", 1, "D")]


def cleaned(text: str, codec: str, policy: str) -> str:
    """The documented clean-up: forbidden characters removed, then the policy per character."""
    out = []
    for char in FORBIDDEN.sub("", text):
        try:
            char.encode(codec)
            out.append(char)
        except UnicodeEncodeError:
            if policy == "reject":
                raise
            if policy == "transliterate":
                out.append(FORBIDDEN.sub("", anyascii(char)))
    return "".join(out)


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1"])
@pytest.mark.parametrize("policy", ["transliterate", "remove", "reject"])
@FAST
@given(values=st.lists(scalars, min_size=6, max_size=6), omit_a=st.booleans())
def test_xml_parses_back_to_the_values(
    encoding: str, policy: str, values: list[Any], omit_a: bool
) -> None:
    """Whatever the text, the XML parses, and each text reads back after the documented clean-up."""
    options = XmlOptions.model_validate({"root": "r", "encoding": encoding, "unencodable": policy})
    problems: list[Problem] = []
    found = setup(options, [])
    assert found is not None
    encoder = XmlEncoder(found, build_tree(XML_PATHS, problems, xml=True), XML_PATHS)
    if omit_a:
        values = [OMIT, *values[1:]]
    codec = "utf-8" if encoding == "UTF-8" else "latin-1"
    try:
        want = [None if v is OMIT else cleaned(as_text(v), codec, policy) for v in values]
    except UnicodeEncodeError:
        with pytest.raises(MappingError):
            encoder.encode(values)
        return
    root = etree.fromstring(encoder.encode(values))
    a, b, c = root.find("A"), root.find("B"), root.findall("C")
    assert (None if a is None else a.text or "") == want[0]
    assert b is not None and (b.get("x"), b.text or "") == (want[1], want[2])
    assert [c[0].text or "", c[1].get("y"), c[1].findtext("D")] == want[3:]


# -- forms -------------------------------------------------------------------------------------

names = st.text(min_size=1, max_size=8).filter(lambda n: not n.startswith("@"))


@FAST
@given(
    st.lists(
        st.tuples(names, st.one_of(scalars, st.just(OMIT))), max_size=6, unique_by=lambda p: p[0]
    )
)
def test_form_reads_back_with_parse_qsl(pairs: list[tuple[str, Any]]) -> None:
    """A form body parses back (parse_qsl) to the names and texts, omitted pairs left out."""
    encoder = FormEncoder([(n,) for n, _ in pairs])
    body = encoder.encode([v for _, v in pairs])
    want = [(n, SURROGATES.sub("", as_text(v))) for n, v in pairs if v is not OMIT]
    assert parse_qsl(body.decode("ascii"), keep_blank_values=True) == want


@FAST
@given(st.lists(scalars, min_size=6, max_size=6), texts)
def test_wrapped_document_is_the_documents_own_bytes(values: list[Any], key: str) -> None:
    """The form field holds exactly the bytes the XML encoder makes, after the outer field."""
    options = XmlOptions.model_validate({"root": "r", "encoding": "ISO-8859-1"})
    found = setup(options, [])
    assert found is not None
    document = XmlEncoder(found, build_tree(XML_PATHS, [], xml=True), XML_PATHS)
    wrap = WrapEncoder(document, len(XML_PATHS), "xml", FormEncoder([("key",)]))
    body = wrap.encode([*values, key])
    pairs = [p.split("=", 1) for p in body.decode("ascii").split("&")]
    assert [k for k, _ in pairs] == ["key", "xml"]
    assert unquote_to_bytes(pairs[1][1].replace("+", " ")) == document.encode(values)
    outer = parse_qsl(f"{pairs[0][0]}={pairs[0][1]}", keep_blank_values=True)
    assert outer == [("key", SURROGATES.sub("", key))]


@FAST
@given(texts)
def test_form_quoting_is_quote_plus(text: str) -> None:
    """The fast ASCII path percent-encodes exactly as urllib's quote_plus (UTF-8) does."""
    assert form_quote(text) == quote_plus(SURROGATES.sub("", text))


xml_segments = st.one_of(
    st.sampled_from(["a", "b", "@x", "@p:y", "p:c", "q:d", "1e", "@"]), st.integers(0, 2)
)
xml_paths = st.lists(st.lists(xml_segments, min_size=1, max_size=3).map(tuple), max_size=6)


@FAST
@given(xml_paths, st.data())
def test_any_xml_paths_give_problems_or_a_well_formed_document(
    paths: list[OutputPath], data: st.DataObject
) -> None:
    """Arbitrary paths are reported as problems, or give an encoder whose output always parses."""
    options = XmlOptions.model_validate({"root": "r", "namespaces": {"p": "urn:p"}})
    found = setup(options, [])
    assert found is not None
    problems: list[Problem] = []
    names = check_name(options, "utf-8", "UTF-8")
    tree = build_tree(paths, problems, xml=True, check_name=names)
    if problems:
        assert all(0 <= p.index < len(paths) and p.message for p in problems)
        return
    values = data.draw(
        st.lists(st.one_of(scalars, st.just(OMIT)), min_size=len(paths), max_size=len(paths))
    )
    root = etree.fromstring(XmlEncoder(found, tree, paths).encode(values))
    assert etree.QName(root).localname == "r"

"""Loading good YAML: scalars stay the text written, nulls become None, every position is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.dsl.loader import MAX_BYTES, Document, SourceMap, load_yaml, load_yaml_text
from engine.errors import AuthoringError
from engine.positions import Span


def load(text: str) -> Document:
    return load_yaml_text(text, "buyer.yaml")


@pytest.mark.parametrize(
    "written",
    [
        "NO",
        "yes",
        "on",
        "off",
        "012",
        "1e3",
        "+15551234567",
        "12.50",
        "true",
        "False",
        "0x1F",
        "2024-01-31",
        ".inf",
        "-.nan",
        "1_000",
        "0o17",
    ],
)
def test_plain_scalars_stay_the_text_written(written: str) -> None:
    """YAML 1.1 booleans, octals, floats and dates are not converted: the value is the text."""
    assert load(f"value: {written}\n").data == {"value": written}


@pytest.mark.parametrize("written", ["null", "Null", "NULL", "~", ""])
def test_null_spellings_become_none(written: str) -> None:
    """Every YAML null spelling, and an empty value, loads as None."""
    assert load(f"value: {written}\n").data == {"value": None}


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("'null'", "null"),
        ('"~"', "~"),
        ("!!str null", "null"),
        ("!!str 012", "012"),
        ("'it''s'", "it's"),
        ('"tab\\tand \\u00e9"', "tab\tand é"),
        ("|\n  line one\n  line two\n", "line one\nline two\n"),
        (">-\n  folded\n  text\n", "folded text"),
        ("plain\n  continued", "plain continued"),
    ],
)
def test_quoted_and_block_scalars_give_their_value(written: str, value: str) -> None:
    """Quoted, tagged !!str and block scalars give their value; a quoted null stays text."""
    assert load(f"value: {written}\n").data == {"value": value}


def test_keys_are_their_text() -> None:
    """Mapping keys are the text written, never converted (``1`` and ``yes`` stay strings)."""
    assert load("1: a\nyes: b\n'x y': c\n").data == {"1": "a", "yes": "b", "x y": "c"}


def test_nested_structure() -> None:
    """Mappings and lists, block and flow, nest into dicts and lists."""
    text = "a:\n  b: [1, {c: d}]\n  e:\n    - f\n    -\n    - g: h\n"
    assert load(text).data == {"a": {"b": ["1", {"c": "d"}], "e": ["f", None, {"g": "h"}]}}


def test_positions_of_values_and_keys() -> None:
    """Values and keys are recorded by path with 1-based line and column."""
    source = load("url: http://x\nheaders:\n  Accept: json\nlist:\n  - one\n  - {k: v}\n").source
    assert source.values[("url",)] == Span("buyer.yaml", 1, 6)
    assert source.keys[("url",)] == Span("buyer.yaml", 1, 1)
    assert source.values[("headers",)] == Span("buyer.yaml", 3, 3)
    assert source.keys[("headers", "Accept")] == Span("buyer.yaml", 3, 3)
    assert source.values[("headers", "Accept")] == Span("buyer.yaml", 3, 11)
    assert source.values[("list", 0)] == Span("buyer.yaml", 5, 5)
    assert source.values[("list", 1, "k")] == Span("buyer.yaml", 6, 9)
    assert source.values[()] == Span("buyer.yaml", 1, 1)


def test_empty_value_points_at_its_key() -> None:
    """An empty value has no text of its own, so its position is its key's."""
    source = load("a: 1\nmissing:\nb: 2\n").source
    assert source.values[("missing",)] == Span("buyer.yaml", 2, 1)


def test_source_map_falls_back_to_the_nearest_ancestor() -> None:
    """``at`` of an unknown path gives the closest known ancestor, else 1:1."""
    source = load("a:\n  b: 1\n").source
    assert source.at(("a", "nope", 3)) == Span("buyer.yaml", 2, 3)
    assert SourceMap("f", "").at(("x",)) == Span("f", 1, 1)


def test_key_at_gives_the_key_else_the_value() -> None:
    """``key_at`` points at the key of a mapping entry; list items have no key."""
    source = load("a:\n  - x\n").source
    assert source.key_at(("a",)) == Span("buyer.yaml", 1, 1)
    assert source.key_at(("a", 0)) == Span("buyer.yaml", 2, 5)


def test_document_keeps_the_text() -> None:
    """The source map keeps the file name and the whole text for excerpts."""
    doc = load("a: 1\n")
    assert (doc.source.file, doc.source.text) == ("buyer.yaml", "a: 1\n")


def test_byte_order_mark_is_ignored() -> None:
    """A leading UTF-8 byte order mark does not shift positions."""
    doc = load("\ufeffa: 1\n")
    assert doc.data == {"a": "1"}
    assert doc.source.keys[("a",)] == Span("buyer.yaml", 1, 1)


def test_load_yaml_reads_a_file(tmp_path: Path) -> None:
    """A file is read as UTF-8 (with or without BOM) and named by ``display`` when given."""
    path = tmp_path / "b.yaml"
    path.write_bytes("\ufeffname: café\n".encode())
    doc = load_yaml(path, display="buyers/b.yaml")
    assert doc.data == {"name": "café"}
    assert doc.source.values[("name",)] == Span("buyers/b.yaml", 1, 7)
    assert load_yaml(str(path)).source.file == str(path)


def test_load_yaml_missing_file(tmp_path: Path) -> None:
    """A file that cannot be opened is LP100 naming the reason."""
    with pytest.raises(AuthoringError) as caught:
        load_yaml(tmp_path / "nope.yaml", display="nope.yaml")
    assert (
        str(caught.value) == "nope.yaml:1:1: LP100 cannot read the file: No such file or directory"
    )


def test_load_yaml_directory(tmp_path: Path) -> None:
    """A directory is not a file: LP100 with the system's reason."""
    with pytest.raises(AuthoringError) as caught:
        load_yaml(tmp_path, display="dir")
    assert str(caught.value) == "dir:1:1: LP100 cannot read the file: Is a directory"


def test_load_yaml_not_utf8(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are LP100 at the first bad byte."""
    path = tmp_path / "latin.yaml"
    path.write_bytes("a: 1\nname: ©af".encode() + b"\xe9\n")
    with pytest.raises(AuthoringError) as caught:
        load_yaml(path, display="latin.yaml")
    assert str(caught.value) == (
        "latin.yaml:2:10: LP100 the file is not UTF-8 text\n"
        "  hint: save the file with UTF-8 encoding"
    )


def test_load_yaml_too_large(tmp_path: Path) -> None:
    """Files over 256 KB are refused before parsing."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(AuthoringError) as caught:
        load_yaml(path, display="big.yaml")
    assert str(caught.value) == (
        "big.yaml:1:1: LP100 the file is larger than 256 KB\n  hint: split it into smaller files"
    )


def test_text_too_large() -> None:
    """Text over 256 KB of UTF-8 is refused too (multi-byte characters count as their bytes)."""
    with pytest.raises(AuthoringError) as caught:
        load("a: " + "é" * (MAX_BYTES // 2 + 1))
    assert [i.code for i in caught.value.issues] == ["LP100"]

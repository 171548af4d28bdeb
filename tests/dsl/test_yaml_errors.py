"""Bad YAML: every LP1xx problem is reported in plain words, at its position, all at once."""

from __future__ import annotations

import pytest

from engine.dsl.loader import _SYNTAX, load_yaml_text
from engine.errors import AuthoringError


def problems(text: str) -> list[str]:
    """Each issue rendered without the excerpt: ``file:line:col: CODE message`` and its hint."""
    with pytest.raises(AuthoringError) as caught:
        load_yaml_text(text, "b.yaml")
    assert caught.value.source == text
    return [issue.render() for issue in caught.value.issues]


def hint(text: str) -> str:
    return f"\n  hint: {text}"


QUOTE = hint("put the value in quotes")
INDENT = hint("line up keys of the same mapping, and '- ' items of the same list, at one column")
TAB = "LP103 a tab character is used here; YAML allows only spaces for indentation and spacing"

SYNTAX = {
    "colon in value": (
        "url: http://x: y\n",
        "b.yaml:1:14: LP101 a ': ' cannot appear in an unquoted value here"
        + hint("put the value in quotes, or check this line's indentation"),
    ),
    "missing colon": (
        "a: 1\nb\n",
        "b.yaml:2:1: LP101 this line is not a 'key: value' pair"
        + hint("add ': ' after the key, or indent the line to continue the value above"),
    ),
    "bad indentation": (
        "a:\n  b: 1\n c: 2\n",
        "b.yaml:3:2: LP101 this line is indented differently from the lines around it" + INDENT,
    ),
    "list item among keys": (
        "a:\n  - b\n  c: 1\n",
        "b.yaml:3:3: LP101 this line is indented differently from the lines around it" + INDENT,
    ),
    "unclosed quote": (
        'a: "open\nb: 2\n',
        "b.yaml:1:4: LP101 a quote opened here is never closed" + hint("add the closing quote"),
    ),
    "unknown escape": (
        'a: "\\q"\n',
        "b.yaml:1:6: LP101 unknown escape sequence in double-quoted text"
        + hint("use single quotes, or write a backslash as '\\\\'"),
    ),
    "unclosed list": (
        "a: [1, 2\nb: 3\n",
        "b.yaml:1:4: LP101 a '[' list is not closed" + hint("close it with ']'"),
    ),
    "unclosed mapping": (
        "a: {x: 1\nb: 3\n",
        "b.yaml:1:4: LP101 a '{' mapping is not closed" + hint("close it with '}'"),
    ),
    "unclosed at end of file": (
        "a: {b: [1, {c: 2\n",
        "b.yaml:1:12: LP101 a '{' mapping is not closed" + hint("close it with '}'"),
    ),
    "stray bracket": (
        "a: [1, ]]\n",
        "b.yaml:1:9: LP101 this closing bracket has no matching opening bracket"
        + hint("remove it, or put the value in quotes"),
    ),
    "bad first character": (
        "a: @x\n",
        "b.yaml:1:4: LP101 a value cannot start with this character" + QUOTE,
    ),
    "text after quoted value": (
        "a: 'b' c\n",
        "b.yaml:1:8: LP101 unexpected text after a complete value"
        + hint("put the whole value in quotes, or move the extra text to its own line"),
    ),
    "lone ampersand": (
        "a: & x\n",
        "b.yaml:1:5: LP101 '&', '*' and '!' must be followed by a name" + QUOTE,
    ),
    "missing value in flow": (
        "a: [1, , 2]\n",
        "b.yaml:1:8: LP101 a value is missing here, or starts with a character that needs quotes"
        + QUOTE,
    ),
    "list item after key": (
        "a: - b\n",
        "b.yaml:1:4: LP101 a '- ' list item cannot start on the same line as its key"
        + hint("start the list on the next line, indented under the key"),
    ),
    "block scalar header": (
        "a: |x\n  b\n",
        "b.yaml:1:5: LP101 after '|' or '>' only '-', '+' or a digit may follow on that line"
        + hint("start the text on the next line"),
    ),
    "control character": (
        "a: b\x07\n",
        "b.yaml:1:5: LP101 the file contains a character that YAML does not allow (U+0007)"
        + hint("remove it"),
    ),
    "unknown YAML version": (
        "%YAML 1.3\n---\na: 1\n",
        "b.yaml:1:1: LP101 this '%YAML' line names a version that cannot be read"
        + hint("remove the '%YAML' line"),
    ),
    "other problem": (
        "%YAML 1.2\n%YAML 1.2\n---\na: 1\n",
        "b.yaml:2:1: LP101 this is not valid YAML (found duplicate YAML directive)"
        + hint("check the quotes and the indentation here"),
    ),
    "too deep": (
        "a: " + "[" * 60 + "]" * 60 + "\n",
        "b.yaml:1:53: LP101 the settings are nested more than 50 levels deep"
        + hint("flatten the structure"),
    ),
    "tab indentation": ("a:\n\tb: 1\n", f"b.yaml:2:1: {TAB}" + hint("indent with spaces")),
    "tab after spaces": (
        "a:\n  b: 1\n  \tc: 2\n",
        f"b.yaml:3:3: {TAB}" + hint("indent with spaces"),
    ),
    "tab after colon": ("a:\t1\n", f"b.yaml:1:3: {TAB}" + hint("indent with spaces")),
    "tag handle": (
        "a: !e!x 1\n",
        "b.yaml:1:4: LP105 this YAML tag is not allowed" + hint("remove it"),
    ),
    "verbatim tag": (
        "a: !<%zz> 1\n",
        "b.yaml:1:7: LP105 this YAML tag is not allowed" + hint("remove it"),
    ),
}


@pytest.mark.parametrize(("text", "expected"), SYNTAX.values(), ids=SYNTAX.keys())
def test_syntax_errors_in_plain_words(text: str, expected: str) -> None:
    """A YAML syntax error is one issue, in plain words, where the author must look."""
    assert problems(text) == [expected]


def test_every_translated_parser_problem_is_tested() -> None:
    """Each entry of the parser-problem table is exercised by a case above."""
    expected = "\n".join(text for _, text in SYNTAX.values())
    for message, advice in _SYNTAX.values():
        assert f" {message}{hint(advice)}" in expected, message


def test_full_report_shows_the_line_and_a_caret() -> None:
    """The error's text names file:line:col and shows the line with a caret under the column."""
    with pytest.raises(AuthoringError) as caught:
        load_yaml_text("name: acme\nurl: http://x: y\n", "buyers/acme.yaml")
    assert str(caught.value) == (
        "buyers/acme.yaml:2:14: LP101 a ': ' cannot appear in an unquoted value here\n"
        "  hint: put the value in quotes, or check this line's indentation\n"
        "   2 | url: http://x: y\n"
        "                    ^"
    )


def test_structural_problems_are_reported_together_in_file_order() -> None:
    """Duplicates, anchors, aliases, merge keys, tags and complex keys all come in one error."""
    text = (
        "b: 1\n"
        "x: &anc {k: v}\n"
        "y: *anc\n"
        "<<: {z: 1}\n"
        "b: 2\n"
        "t: !python/object:os.system ls\n"
        "t2: !!int 3\n"
        "? [c]\n"
        ": d\n"
        "ok: !!str 012\n"
    )
    assert problems(text) == [
        "b.yaml:2:4: LP104 anchor '&anc' is not allowed"
        + hint("write the repeated settings out in full"),
        "b.yaml:3:4: LP104 alias '*anc' is not allowed"
        + hint("write the repeated settings out in full"),
        "b.yaml:4:1: LP104 merge key '<<' is not allowed"
        + hint("write the merged settings out in full"),
        "b.yaml:5:1: LP102 duplicate key 'b' (first written on line 1)"
        + hint("keep only one of them"),
        "b.yaml:6:4: LP105 the YAML tag '!python/object:os.system' is not allowed"
        + hint("remove it"),
        "b.yaml:7:5: LP105 the YAML tag '!!int' is not allowed" + hint("remove it"),
        "b.yaml:8:3: LP203 a key must be plain text, not a list or a mapping"
        + hint("write the key as a single word"),
    ]


def test_duplicate_keys_in_nested_and_flow_mappings() -> None:
    """Every duplicate is reported, in block and flow mappings, at any depth."""
    text = "a:\n  c: 2\n  c: 3\nf: {x: 1, x: 2}\n"
    assert [p.splitlines()[0] for p in problems(text)] == [
        "b.yaml:3:3: LP102 duplicate key 'c' (first written on line 2)",
        "b.yaml:4:11: LP102 duplicate key 'x' (first written on line 4)",
    ]


def test_alias_used_as_a_key() -> None:
    """An alias in a key's place is LP104 too; the entry is dropped, the rest still checked."""
    assert problems("*x : 1\nb: 2\nb: 3\n") == [
        "b.yaml:1:1: LP104 alias '*x' is not allowed"
        + hint("write the repeated settings out in full"),
        "b.yaml:3:1: LP102 duplicate key 'b' (first written on line 2)"
        + hint("keep only one of them"),
    ]


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    """Only a plain ``<<`` is a merge key; a quoted one is ordinary text."""
    assert load_yaml_text("'<<': x\n", "b.yaml").data == {"<<": "x"}


def test_alias_bomb_is_refused_without_expansion() -> None:
    """A billion-laughs document fails fast with LP104 issues instead of expanding aliases."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    found = problems("\n".join(lines) + "\n")
    assert len(found) == 10 + 81
    assert {p.split(" LP")[1][:3] for p in found} == {"104"}


def test_syntax_error_is_reported_alone() -> None:
    """After a syntax error nothing else is reported: its cause may explain the rest."""
    assert problems("a: &x 1\nb: *x\nc: [\n") == [
        "b.yaml:3:4: LP101 a '[' list is not closed" + hint("close it with ']'")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "b.yaml:1:1: LP106 the file is empty"),
        ("# only a comment\n", "b.yaml:1:1: LP106 the file is empty"),
        ("~\n", "b.yaml:1:1: LP106 the file is empty"),
        (
            "- a\n- b\n",
            "b.yaml:1:1: LP106 the top level of the file must be 'key: value' lines, not a list",
        ),
        (
            "just text\n",
            "b.yaml:1:1: LP106 the top level of the file must be 'key: value' lines, "
            "not a single value",
        ),
    ],
    ids=["empty", "comment", "null", "list", "scalar"],
)
def test_top_level_must_be_a_mapping(text: str, expected: str) -> None:
    """An empty file or a top level that is not a mapping is LP106."""
    assert problems(text) == [expected + hint("write the settings as 'key: value' lines")]


def test_one_document_per_file() -> None:
    """A second YAML document is LP106 at its start."""
    assert problems("a: 1\n---\nb: 2\n") == [
        "b.yaml:2:1: LP106 the file holds more than one YAML document"
        + hint("keep one document per file: remove this '---' or the '...' above it")
    ]

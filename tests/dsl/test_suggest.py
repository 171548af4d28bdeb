"""Spelling suggestions: close matches ignoring case, nothing when nothing is close."""

from __future__ import annotations

import pytest

from engine.dsl.suggest import did_you_mean, hint_for

KEYS = ["format", "url", "method", "headers", "timeout"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("fromat", "format"),
        ("Format", "format"),
        ("FORMAT", "format"),
        ("header", "headers"),
        ("timeuot", "timeout"),
        ("metod", "method"),
        ("URL", "url"),
    ],
)
def test_close_words_are_suggested(word: str, expected: str) -> None:
    """Typos and case differences suggest the intended choice, spelled as declared."""
    assert did_you_mean(word, KEYS) == expected


@pytest.mark.parametrize("word", ["zzz", "body", "", "format"])
def test_no_suggestion_when_nothing_is_close_or_word_is_exact(word: str) -> None:
    """Unrelated words, empty words and exact matches give no suggestion."""
    assert did_you_mean(word, KEYS) is None


def test_choices_may_be_any_iterable() -> None:
    """Choices can be a generator; duplicates are harmless."""
    assert did_you_mean("jsn", (c for c in ["json", "xml", "json"])) == "json"


def test_no_choices() -> None:
    """With nothing to choose from there is no suggestion."""
    assert did_you_mean("json", []) is None


def test_hint_text() -> None:
    """The hint reads "did you mean 'x'?" or is None."""
    assert hint_for("jsn", ["json", "xml"]) == "did you mean 'json'?"
    assert hint_for("qqq", ["json", "xml"]) is None

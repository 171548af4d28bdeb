"""A misspelt kind key (``buyerx:``) is named at its line, and the rest of the file is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from engine.dsl.kinds import guess_kind, with_key_renamed
from engine.dsl.loader import load_yaml_text

TYPO = """\
# a buyer whose first key is misspelt
buyerx: acme
name: Acme
version: "1"
environments:
  test: {url: "http://127.0.0.1:9/acme"}
stages:
  post:
    fields: {state: lead.address.state}
    response: {rules: [{outcome: accepted}]}
    typo: 1
"""


def test_guess_kind_names_the_key_at_its_line() -> None:
    """The issue is LP201 at the misspelt key, with the kind it is a typo of."""
    doc = load_yaml_text(TYPO, "b.yaml")
    guessed = guess_kind(doc, ("buyer", "campaign"))
    assert guessed is not None
    kind, fixed, issue = guessed
    assert kind == "buyer"
    assert issue.render(TYPO).splitlines()[:2] == [
        "b.yaml:2:1: LP201 unknown key 'buyerx' — did you mean 'buyer'?",
        "  hint: a buyer file starts with 'buyer: <id>'",
    ]
    assert fixed.data["buyer"] == "acme" and "buyerx" not in fixed.data
    assert fixed.source.at(("buyer",)) == doc.source.at(("buyerx",))
    assert fixed.source.at(("stages", "post", "typo")) == doc.source.at(("stages", "post", "typo"))


@pytest.mark.parametrize("text", ["name: x\n", "buyer: x\nbuyerx: y\n", "campaing: c\n"])
def test_no_guess_when_nothing_is_close_or_the_key_is_there(text: str) -> None:
    """Unrelated keys give no guess; a correct kind key beside a typo is no typo of it."""
    assert guess_kind(load_yaml_text(text, "b.yaml"), ("buyer",)) is None


def test_renaming_keeps_every_other_key() -> None:
    doc = load_yaml_text("a: 1\nb: {c: 2}\n", "f.yaml")
    renamed = with_key_renamed(doc, "b", "d")
    assert renamed.data == {"a": "1", "d": {"c": "2"}}
    assert renamed.source.at(("d", "c")) == doc.source.at(("b", "c"))


@pytest.mark.parametrize("command", ["lint", "test"])
def test_lint_and_test_report_the_typo_and_the_rest(
    ws: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """lint and test both name the typo at line 2 and still find the unknown stage key."""
    (ws / "typo.yaml").write_text(TYPO)
    assert main([command, "typo.yaml"]) == 1
    out = capsys.readouterr().out
    assert "typo.yaml:2:1: LP201 unknown key 'buyerx' — did you mean 'buyer'?" in out
    assert "typo.yaml:11:5: LP201 unknown key 'typo'" in out
    assert "no 'buyer:'" not in out


@pytest.mark.parametrize(
    "text",
    [
        "seed: 1\nbuyers: {a: {dialect: generic-json}}\n",  # a sandbox file
        "name: c\nbuyers: [a]\n",
        "fields:\n  lead.phone: {type: phone}\n",  # a lead schema
    ],
)
def test_other_kinds_of_files_are_no_typos(text: str) -> None:
    """Only the first key may be a misspelt kind key; "buyers:" and "fields:" never are."""
    assert guess_kind(load_yaml_text(text, "f.yaml"), ("buyer", "campaign")) is None

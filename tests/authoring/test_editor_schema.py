"""Editor schemas (``leadpost schema``) of every kind of file: valid, described from the cheat
sheet of dsl-spec.md, accepting every example file, and pointing at typos precisely."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from ruamel.yaml import YAML

from engine.authoring.key_docs import key_docs, parse, render
from engine.authoring.schema import KINDS, described_keys, editor_schema
from engine.cli import main
from engine.transforms import TRANSFORMS
from tests.paths import ENGINE, INTEGRATIONS, REPO

#: Read YAML as an editor does (YAML 1.2 types), not as leadpost does (everything is text).
EDITOR_YAML = YAML(typ="safe")
STARTER = ENGINE / "templates" / "starter" / "integrations"


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(editor_schema(kind))


def examples() -> list[tuple[str, Path]]:
    found = [("buyer", p) for p in sorted((INTEGRATIONS / "buyers").glob("*.yaml"))]
    found += [("campaign", p) for p in sorted((INTEGRATIONS / "campaigns").glob("*.yaml"))]
    for root in (INTEGRATIONS, STARTER):
        found += [("lead-schema", root / "lead-schema.yaml"), ("sandbox", root / "sandbox.yaml")]
    found += [("buyer", p) for p in sorted((STARTER / "buyers").glob("*.yaml"))]
    found += [("campaign", p) for p in sorted((STARTER / "campaigns").glob("*.yaml"))]
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_schema_is_a_valid_json_schema(kind: str) -> None:
    Draft202012Validator.check_schema(editor_schema(kind))


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_key_has_its_line_from_the_cheat_sheet(kind: str) -> None:
    """No property without a description: add its row to the cheat sheet of dsl-spec.md (a table
    marked ``<!-- keys: ModelName -->``) and run scripts/key-docs."""
    missing = [
        f"{where or '/'}: {key}" for where, key, d in described_keys(editor_schema(kind)) if not d
    ]
    assert missing == []


def test_the_shipped_descriptions_are_the_cheat_sheet() -> None:
    """engine/schemas/key-docs.json is what dsl-spec.md says (run scripts/key-docs if not)."""
    text = (REPO / "dsl-spec.md").read_text(encoding="utf-8")
    assert render(parse(text)) == (ENGINE / "schemas" / "key-docs.json").read_text("utf-8")
    assert key_docs()["RetrySpec"]["max_attempts"].startswith("attempts in all")


def test_descriptions_keep_markdown_for_editors_that_show_it() -> None:
    props = editor_schema("buyer")["$defs"]["RetrySpec"]["properties"]["on_timeout"]
    assert "`unknown`" in props["markdownDescription"]
    assert "`" not in props["description"]


@pytest.mark.parametrize(("kind", "path"), examples(), ids=lambda v: str(v))
def test_every_example_file_is_valid(kind: str, path: Path) -> None:
    """The example integrations and the starter project pass the editor schemas."""
    data = EDITOR_YAML.load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in validator(kind).iter_errors(data)]
    assert errors == []


def test_transforms_are_listed_from_the_registry() -> None:
    """Every registered transform is a step name, with its settings described."""
    step = editor_schema("buyer")["$defs"]["FieldSpec"]["properties"]["transform"]["items"]
    assert set(step["then"]["propertyNames"]["enum"]) == set(TRANSFORMS)
    assert {"upper", "state_name", "age", "hash"} <= set(step["else"]["enum"])
    assert "phone" not in step["else"]["enum"]  # needs its style
    phone = step["then"]["properties"]["phone"]
    assert phone["else"]["enum"] == ["digits", "e164", "dashes", "parentheses", "dots"]
    assert phone["description"].startswith("phone — e.g.")


HARBOR = (INTEGRATIONS / "buyers" / "harbor-mutual.yaml").read_text(encoding="utf-8")
CAMPAIGN = (INTEGRATIONS / "campaigns" / "home-auction.yaml").read_text(encoding="utf-8")
LEADS = (INTEGRATIONS / "lead-schema.yaml").read_text(encoding="utf-8")
SANDBOX = (INTEGRATIONS / "sandbox.yaml").read_text(encoding="utf-8")

TYPOS: list[tuple[str, str, str, str, str]] = [
    (
        "buyer",
        HARBOR,
        "contact.email: lead.email",
        "contact.email: {form: lead.email}",
        "'form' was unexpected",
    ),
    (
        "buyer",
        HARBOR,
        "transform: [trim, title]",
        "transform: [trim, uper]",
        "'uper' is not one of ['upper'",
    ),
    ("buyer", HARBOR, "{phone: dashes}", "{phone: dahses}", "'dahses' is not one of"),
    ("buyer", HARBOR, "  header: X-Api-Key", "  headr: X-Api-Key", "'headr' was unexpected"),
    ("buyer", HARBOR, "\nstages:", "\nstagse:", "'stagse' was unexpected"),
    ("buyer", HARBOR, "outcome: accepted", "outcom: accepted", "'outcom' was unexpected"),
    ("buyer", HARBOR, "max_attempts: 4", "max_attempt: 4", "'max_attempt' was unexpected"),
    ("campaign", CAMPAIGN, "mode: auction", "mode: auctoin", "'auctoin' is not one of"),
    ("campaign", CAMPAIGN, "ping_deadline", "ping_dedline", "'ping_dedline' was unexpected"),
    ("lead-schema", LEADS, "{type: phone,", "{type: phon,", "'phon' is not one of"),
    (
        "lead-schema",
        LEADS,
        "pii: true, required: true, description: Consumer's first",
        "pii: true, reqired: true, description: Consumer's first",
        "'reqired' was unexpected",
    ),
    ("sandbox", SANDBOX, "accept_rate: 0.55", "accept_rate: 5.5", "5.5 is greater than"),
    ("sandbox", SANDBOX, "    hang: 10s\n", "    hnag: 10s\n", "'hnag' was unexpected"),
]


@pytest.mark.parametrize(("kind", "text", "old", "new", "message"), TYPOS, ids=lambda v: v[:30])
def test_a_typo_is_named(kind: str, text: str, old: str, new: str, message: str) -> None:
    """The most relevant error (what an editor underlines) names the typo itself."""
    assert old in text
    data: Any = EDITOR_YAML.load(text.replace(old, new, 1))
    error = best_match(validator(kind).iter_errors(data))
    assert error is not None
    assert message in error.message


def test_schema_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--write writes the four schemas and says how to map them in the editor."""
    assert main(["schema", "--write", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for kind in KINDS.values():
        assert json.loads((tmp_path / kind.file).read_text())["title"] == kind.title
        assert kind.applies_to in out


@pytest.mark.parametrize("name", ["lint", "test", "diff", "route"])
def test_schema_output(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--output", name]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == f"leadpost {name} --format json"


@given(st.text())
def test_parse_reads_any_text(text: str) -> None:
    """Any markdown gives a (possibly empty) table of lines, never an exception."""
    found = parse(text)
    assert all(isinstance(v, dict) for v in found.values())


def test_parse_reads_tagged_tables_only() -> None:
    text = (
        "| `a` | not tagged |\n\n<!-- keys: One Two -->\n| key | what |\n|---|---|\n"
        "| `x` | the x |\n| y | no backquotes: skipped |\n\nafter\n| `z` | not in the table |\n"
    )
    assert parse(text) == {"One": {"x": "the x"}, "Two": {"x": "the x"}}

"""Field paths a format cannot express are LP308 errors at the field's key, with a fix."""

from __future__ import annotations

import textwrap

import pytest

from engine.compiler.context import CompileContext
from engine.compiler.encoders import build_encoder
from engine.compiler.encoders.paths import Problem, build_tree
from engine.compiler.fields_paths import parse_output_path
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import StageSpec
from engine.errors import Issue
from engine.plan import Encoder, OutputPath


def compile_stage(text: str) -> tuple[Encoder | None, list[Issue]]:
    """Build the encoder of the ``stages.post`` section written in ``text``."""
    doc = load_yaml_text(textwrap.dedent(text), "buyer.yaml")
    spec = StageSpec.model_validate(doc.data["stages"]["post"])

    def paths(names: object) -> list[OutputPath]:
        out = [parse_output_path(str(n)) for n in names]  # type: ignore[attr-defined]
        assert all(isinstance(p, tuple) for p in out)
        return out  # type: ignore[return-value]

    outer = paths(spec.wrap_in_form.fields) if spec.wrap_in_form else []
    ctx = CompileContext(doc.source)
    encoder = build_encoder(spec, paths(spec.fields), ("stages", "post"), ctx, outer)
    return encoder, ctx.issues


def json_stage(*names: str) -> str:
    lines = "\n".join(f"      '{n}': lead.email" for n in names)
    return f"stages:\n  post:\n    format: json\n    fields:\n{lines}\n"


def only_issue(text: str) -> Issue:
    encoder, issues = compile_stage(text)
    assert encoder is None
    assert len(issues) == 1, [i.render() for i in issues]
    return issues[0]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ("a.b", "a"),
            "'a.b' already puts fields inside 'a', so it cannot also be a single value",
        ),
        (("a", "a.b"), "'a' is a single value, so 'a.b' cannot go inside 'a'"),
        (("a[0]", "a.b"), "'a.b' uses 'a' as an object, but 'a[0]' does not"),
        (("a.b", "a[0]"), "'a[0]' uses 'a' as a list, but 'a.b' does not"),
        (("a[0]", "a[2]"), "'a[2]' skips list position [1]"),
        (("a[1]",), "'a[1]' skips list position [0]"),
        (("Phone.@type",), "'Phone.@type' names an attribute (@type), "
                           "but attributes only exist in XML"),
    ],
    ids=["value-after-object", "object-after-value", "list-then-object", "object-then-list",
         "skipped-index", "list-not-from-zero", "attribute-in-json"],
)  # fmt: skip
def test_json_path_problems(names: tuple[str, ...], message: str) -> None:
    """Each path JSON cannot express is one LP308 naming both fields involved."""
    issue = only_issue(json_stage(*names))
    assert (issue.code, issue.message) == ("LP308", message)


def test_problem_points_at_the_later_field_key() -> None:
    """The issue is placed on the key of the field that introduced the conflict."""
    issue = only_issue(json_stage("contact.email", "contact"))
    assert issue.render(None) == (
        "buyer.yaml:6:7: LP308 'contact.email' already puts fields inside 'contact', "
        "so it cannot also be a single value\n  hint: rename one of the two fields"
    )


def test_same_path_written_twice() -> None:
    """A path given twice is reported once, on the second field (YAML keys are unique, but two
    spellings could meet, e.g. after a rename)."""
    problems: list[Problem] = []
    build_tree([("a", 0, "b"), ("a", 0, "b")], problems, xml=False)
    assert problems == [
        Problem(1, "'a[0].b' is written by two fields", "remove or rename one of them")
    ]


def test_every_problem_is_reported_at_once() -> None:
    """Several bad fields give one issue each, in file order."""
    encoder, issues = compile_stage(json_stage("a", "a.b", "c[3]", "@d"))
    assert encoder is None
    assert [(i.code, i.span.line if i.span else 0) for i in issues] == [
        ("LP308", 6),
        ("LP308", 7),
        ("LP308", 8),
    ]
    assert [i.message.split("'")[1] for i in issues] == [
        "a",
        "c[3]",
        "@d",
    ]


def test_top_level_list_is_allowed_in_json() -> None:
    """Fields that all start with a position make the document a list."""
    encoder, issues = compile_stage(json_stage("[0].email", "[1].email"))
    assert issues == []
    assert encoder is not None
    assert encoder.encode(["a@x.com", "b@x.com"]) == b'[{"email":"a@x.com"},{"email":"b@x.com"}]'

"""Validation errors become positioned, friendly issues: one per problem, all at once, in order."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    HttpUrl,
    Tag,
    field_validator,
    model_validator,
)

from engine.dsl.issues import raise_for, validate, validate_or_raise
from engine.dsl.loader import load_yaml_text
from engine.errors import AuthoringError, Issue
from engine.positions import Span


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JsonBody(Strict):
    format: Literal["json"]
    indent: int = 0


class XmlBody(Strict):
    format: Literal["xml"]
    root: str


class FormBody(Strict):
    format: Literal["form", "query"]


class Basic(Strict):
    user: str
    password: str


class Bearer(Strict):
    token: str


class Method(Enum):
    GET = "GET"
    POST = "POST"


class Request(Strict):
    url: str
    method: Method = Method.POST
    body: Annotated[JsonBody | XmlBody | FormBody, Field(discriminator="format")] | None = None
    auth: Basic | Bearer | None = None
    timeout: int | Literal["auto"] = "auto"
    retries: Annotated[int, Field(ge=0, le=5)] = 0
    verify: bool = True
    ratio: float = 1.0
    tags: list[str] = []
    headers: dict[str, str] = {}
    kind: str = Field("lead", alias="type")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("the URL must start with http:// or https://")
        return value


class Buyer(Strict):
    name: str
    requests: list[Request]
    fallback: Request | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Buyer:
        if not self.requests:
            raise ValueError("at least one request is needed")
        return self


class Node(Strict):
    name: str
    children: list[Node] = []


class Tree(Strict):
    root: Node
    weights: dict[Literal["low", "high"], int] = {}


class Spec(Strict):
    from_: str | None = Field(None, alias="from")
    value: str | None = None

    @field_validator("value")
    @classmethod
    def _no_hash(cls, value: str | None) -> str | None:
        if value is not None and "#" in value:
            raise AssertionError("a value cannot contain '#'")
        return value


class Step(Strict):
    then: Spec | str
    transform: list[str | dict[str, Any]] = []


def _kind(data: Any) -> Any:
    return data.get("kind") if isinstance(data, dict) else None


class Cat(Strict):
    kind: Literal["cat"]
    lives: int = 9


class Dog(Strict):
    kind: Literal["dog"]


class Pets(Strict):
    pet: Annotated[Annotated[Cat, Tag("cat")] | Annotated[Dog, Tag("dog")], Discriminator(_kind)]


class Limits(Strict):
    code: Annotated[str, Field(min_length=2, max_length=3, pattern=r"^[A-Z]+$")] = "AB"
    items: Annotated[list[str], Field(min_length=1, max_length=2)] = ["x"]
    step: Annotated[int, Field(gt=0, lt=10, multiple_of=2)] = 2
    price: Annotated[Decimal, Field(max_digits=4)] = Decimal(1)
    ratio: Annotated[float, Field(allow_inf_nan=False)] = 1.0
    day: date = date(2024, 1, 1)
    stamp: datetime = datetime(2024, 1, 1)
    at: time = time(9, 30)
    link: HttpUrl = HttpUrl("https://x.com")
    nothing: None = None


def problems(model: type[BaseModel], text: str, at: tuple[str | int, ...] = ()) -> list[str]:
    """Validate ``text``; each issue rendered as ``b.yaml:line:col: CODE message`` plus hint."""
    result, issues = validate(model, load_yaml_text(text, "b.yaml"), at)
    assert result is None
    return [issue.render() for issue in issues]


def hint(text: str) -> str:
    return f"\n  hint: {text}"


REQUEST_KEYS = hint(
    "allowed keys here: url, method, body, auth, timeout, retries, verify, ratio, tags, "
    "headers, type"
)


def test_valid_data_gives_the_model_with_lax_conversions() -> None:
    """Text becomes int, bool, float or enum where the model says so; no issues."""
    text = "name: acme\nrequests:\n  - url: https://x\n    retries: '3'\n    verify: no\n"
    buyer, issues = validate(Buyer, load_yaml_text(text, "b.yaml"))
    assert issues == []
    assert buyer is not None
    assert (buyer.requests[0].retries, buyer.requests[0].verify) == (3, False)


def test_every_kind_of_problem_reported_at_once_in_file_order() -> None:
    """One file with many mistakes gives one issue per mistake, sorted by position."""
    text = (
        "name: acme\n"
        "requests:\n"
        "  - url: ftp://x\n"
        "    fromat: 1\n"
        "    method: post\n"
        "    body: {format: jsn}\n"
        "    auth: {user: u, pasword: p}\n"
        "    timeout: abc\n"
        "    retries: 9\n"
        "    verify: maybe\n"
        "    ratio: x\n"
        "    tags: one\n"
        "    headers: [a]\n"
        "    type: [x]\n"
        "    zzz: 1\n"
    )
    assert problems(Buyer, text) == [
        "b.yaml:3:10: LP204 the URL must start with http:// or https://",
        "b.yaml:4:5: LP201 unknown key 'fromat'" + REQUEST_KEYS,
        "b.yaml:5:13: LP205 unknown choice 'post' — expected one of: GET, POST"
        + hint("did you mean 'POST'?"),
        "b.yaml:6:20: LP205 unknown choice 'jsn' — expected one of: json, xml, form, query"
        + hint("did you mean 'json'?"),
        "b.yaml:7:11: LP202 'password' is required here",
        "b.yaml:7:21: LP201 unknown key 'pasword'" + hint("did you mean 'password'?"),
        "b.yaml:8:14: LP203 expected a whole number or 'auto', got 'abc'",
        "b.yaml:9:14: LP204 must be at most 5, got '9'",
        "b.yaml:10:13: LP203 expected true or false, got 'maybe'",
        "b.yaml:11:12: LP203 expected a number, got 'x'",
        "b.yaml:12:11: LP203 expected a list (one '- item' per line), got 'one'",
        "b.yaml:13:14: LP203 expected a mapping (one 'key: value' per line), got a list",
        "b.yaml:14:11: LP203 expected text, got a list",
        "b.yaml:15:5: LP201 unknown key 'zzz'" + REQUEST_KEYS,
    ]


def test_unknown_key_points_at_the_key_and_suggests_a_spelling() -> None:
    """LP201 sits on the unknown key; a close allowed key is suggested."""
    assert problems(Request, "url: https://x\nmethdo: GET\n") == [
        "b.yaml:2:1: LP201 unknown key 'methdo'" + hint("did you mean 'method'?")
    ]


def test_unknown_key_checked_against_the_member_the_discriminator_names() -> None:
    """Inside a discriminated union the allowed keys are those of the member chosen by its tag."""
    text = "url: https://x\nbody:\n  format: xml\n  indent: 2\n  roots: r\n"
    assert problems(Request, text) == [
        "b.yaml:3:3: LP202 'root' is required here",
        "b.yaml:4:3: LP201 unknown key 'indent'" + hint("allowed keys here: format, root"),
        "b.yaml:5:3: LP201 unknown key 'roots'" + hint("did you mean 'root'?"),
    ]


def test_unknown_key_uses_the_alias_as_written() -> None:
    """Keys are suggested as the author writes them (aliases such as ``from``)."""
    assert problems(Step, "then: {fromm: lead.x}\n") == [
        "b.yaml:1:8: LP201 unknown key 'fromm'" + hint("did you mean 'from'?")
    ]


def test_unknown_key_in_a_recursive_model() -> None:
    """Models nested in themselves (schema references) are followed to any depth."""
    text = "root:\n  name: r\n  children:\n    - name: a\n      children:\n        - nmae: b\n"
    assert problems(Tree, text) == [
        "b.yaml:6:11: LP202 'name' is required here",
        "b.yaml:6:11: LP201 unknown key 'nmae'" + hint("did you mean 'name'?"),
    ]


def test_missing_keys_point_at_the_mapping_that_lacks_them() -> None:
    """LP202 names the key and sits on the mapping it belongs in."""
    text = "requests:\n  - method: GET\n"
    assert problems(Buyer, text) == [
        "b.yaml:1:1: LP202 'name' is required here",
        "b.yaml:2:5: LP202 'url' is required here",
    ]


def test_missing_discriminator() -> None:
    """A discriminated entry without its tag key is LP202 listing the kinds."""
    assert problems(Request, "url: https://x\nbody: {}\n") == [
        "b.yaml:2:7: LP202 'format' is required here"
        + hint("set it to one of: json, xml, form, query")
    ]


def test_callable_discriminator() -> None:
    """Unions tagged by a function report an unknown or missing kind without internal names."""
    assert problems(Pets, "pet: {kind: cow}\n") == [
        "b.yaml:1:6: LP205 unknown choice 'cow' — expected one of: cat, dog"
    ]
    assert problems(Pets, "pet: {}\n") == [
        "b.yaml:1:6: LP202 the kind of this entry is missing" + hint("it must be one of: cat, dog")
    ]
    assert problems(Pets, "pet: {kind: cat, lives: x}\n") == [
        "b.yaml:1:25: LP203 expected a whole number, got 'x'"
    ]


def test_choice_that_is_not_text() -> None:
    """An empty value where a choice is expected is a wrong type, not an unknown choice."""
    assert problems(Request, "url: https://x\nmethod:\n") == [
        "b.yaml:2:1: LP203 expected one of: GET, POST, got nothing"
    ]


def test_unknown_mapping_key_choice_points_at_the_key() -> None:
    """A mapping whose keys are choices reports a wrong key at the key, not its value."""
    assert problems(Tree, "root: {name: r}\nweights: {low: 1, medium: 2}\n") == [
        "b.yaml:2:19: LP205 unknown choice 'medium' — expected one of: low, high"
    ]


def test_wrong_type_of_item_and_value() -> None:
    """Type errors in lists and mappings point at the item or value."""
    text = "url: https://x\ntags: [a, [b]]\nheaders: {Accept: {x: 1}}\n"
    assert problems(Request, text) == [
        "b.yaml:2:11: LP203 expected text, got a list",
        "b.yaml:3:19: LP203 expected text, got a mapping",
    ]


def test_long_and_multiline_values_are_shortened() -> None:
    """ "got ..." shows at most one line of about 40 characters."""
    text = "url: https://x\nretries: " + "x" * 50 + "\nratio: |\n  1\n  2\n"
    assert problems(Request, text) == [
        "b.yaml:2:10: LP203 expected a whole number, got '" + "x" * 37 + "...'",
        "b.yaml:3:8: LP203 expected a number, got '1...'",
    ]


def test_validator_messages_are_kept_without_pydantic_prefixes() -> None:
    """ValueError and assert messages from validators are LP204, model-level ones at the top."""
    assert problems(Buyer, "name: acme\nrequests: []\n") == [
        "b.yaml:1:1: LP204 at least one request is needed"
    ]
    assert problems(Step, "then: {value: 'a#b'}\n") == [
        "b.yaml:1:15: LP204 a value cannot contain '#'"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "must be at least 0, got '-1'"), ("6", "must be at most 5, got '6'")],
)
def test_constraints(value: str, message: str) -> None:
    """Field constraints read as rules on the value."""
    assert problems(Request, f"url: https://x\nretries: {value}\n") == [
        f"b.yaml:2:10: LP204 {message}"
    ]


RULES = [
    ("code: A", "LP204 must be at least 2 characters long, got 'A'"),
    ("code: ABCD", "LP204 must be at most 3 characters long, got 'ABCD'"),
    ("code: ab", "LP204 does not match the pattern ^[A-Z]+$, got 'ab'"),
    ("items: []", "LP204 must have at least 1 item(s), got a list"),
    ("items: [a, b, c]", "LP204 must have at most 2 item(s), got a list"),
    ("step: 0", "LP204 must be greater than 0, got '0'"),
    ("step: 12", "LP204 must be less than 10, got '12'"),
    ("step: 3", "LP204 must be a multiple of 2, got '3'"),
    ("price: 12345", "LP204 must have at most 4 digits, got '12345'"),
    ("price: x", "LP203 expected a decimal number, got 'x'"),
    ("ratio: inf", "LP204 the value should be a finite number"),
    ("day: 31/01/2024", "LP203 expected a date like 2024-01-31, got '31/01/2024'"),
    ("stamp: noon", "LP203 expected a date and time like 2024-01-31T09:30:00, got 'noon'"),
    ("at: noon", "LP203 expected a time of day like 09:30, got 'noon'"),
    ("link: not a url", "LP203 expected a web address like https://x.com, got 'not a url'"),
    ("nothing: x", "LP203 expected no value, got 'x'"),
]


@pytest.mark.parametrize(("line", "message"), RULES, ids=[line.split(":")[0] for line, _ in RULES])
def test_rules_on_values(line: str, message: str) -> None:
    """Constraints read as rules on the value; other pydantic messages lose their jargon."""
    assert problems(Limits, line + "\n")[0].split(": ", 1)[1] == message


def test_union_of_models_reports_only_the_closest_member() -> None:
    """Pydantic's one-error-per-member noise collapses to the member that fits best."""
    text = "url: https://x\nauth: {token: t, user: u}\n"
    assert problems(Request, text) == [
        "b.yaml:2:18: LP201 unknown key 'user'" + hint("allowed keys here: token")
    ]


def test_union_of_kinds_merges_into_one_expectation() -> None:
    """When no member accepts the kind of value, one issue lists what would be accepted."""
    assert problems(Step, "then: [a]\n") == [
        "b.yaml:1:7: LP203 expected a mapping (one 'key: value' per line) or text, got a list"
    ]
    assert problems(Step, "then: x\ntransform: [trim, [x]]\n") == [
        "b.yaml:2:19: LP203 expected text or a mapping (one 'key: value' per line), got a list"
    ]
    assert problems(Request, "url: https://x\nauth: x\n") == [
        "b.yaml:2:7: LP203 expected a mapping (one 'key: value' per line), got 'x'"
    ]


def test_union_with_a_close_choice_suggests_it() -> None:
    """A merged expectation that includes choices still suggests a close one."""
    assert problems(Request, "url: https://x\ntimeout: Auto\n") == [
        "b.yaml:2:10: LP203 expected a whole number or 'auto', got 'Auto'"
        + hint("did you mean 'auto'?")
    ]


def test_validate_a_subtree_reports_positions_in_the_whole_file() -> None:
    """``at`` validates the data under a path; positions stay those of the file."""
    text = "outer:\n  inner:\n    url: nope\n    extra: 1\n"
    assert problems(Request, text, at=("outer", "inner")) == [
        "b.yaml:3:10: LP204 the URL must start with http:// or https://",
        "b.yaml:4:5: LP201 unknown key 'extra'" + REQUEST_KEYS,
    ]
    assert problems(Request, "outer: 1\n", at=("outer",)) == [
        "b.yaml:1:8: LP203 expected a mapping (one 'key: value' per line), got '1'"
    ]
    assert problems(Request, "outer: 1\n", at=("absent",)) == [
        "b.yaml:1:1: LP203 expected a mapping (one 'key: value' per line), got nothing"
    ]


def test_duplicate_errors_are_reported_once() -> None:
    """The same problem at the same place is one issue."""
    text = "url: https://x\nauth: {user: u}\n"
    assert problems(Request, text) == ["b.yaml:2:7: LP202 'password' is required here"]


def test_issues_have_codes_and_spans() -> None:
    """Issues are plain values with a code, message, span and hint."""
    _, issues = validate(Request, load_yaml_text("url: https://x\nfromat: 1\n", "b.yaml"))
    assert issues == [
        Issue("LP201", "unknown key 'fromat'", Span("b.yaml", 2, 1), REQUEST_KEYS[9:])
    ]


def test_raise_for_raises_with_the_file_text() -> None:
    """``raise_for`` raises one AuthoringError whose report shows the lines."""
    doc = load_yaml_text("url: https://x\nfromat: 1\n", "b.yaml")
    _, issues = validate(Request, doc)
    with pytest.raises(AuthoringError) as caught:
        raise_for(issues, doc)
    assert caught.value.source == doc.source.text
    assert str(caught.value).endswith("   2 | fromat: 1\n       ^")


def test_raise_for_ignores_warnings_and_empty_lists() -> None:
    """Nothing is raised when there are no errors."""
    doc = load_yaml_text("url: https://x\n", "b.yaml")
    raise_for([], doc)
    raise_for([Issue("LP401", "inline secret", severity="warning")], doc)


def test_validate_or_raise() -> None:
    """The convenience form returns the model or raises with every issue."""
    good = load_yaml_text("url: https://x\n", "b.yaml")
    assert validate_or_raise(Request, good).url == "https://x"
    bad = load_yaml_text("url: x\nfromat: 1\n", "b.yaml")
    with pytest.raises(AuthoringError) as caught:
        validate_or_raise(Request, bad)
    assert [i.code for i in caught.value.issues] == ["LP204", "LP201"]


class Described(Strict):
    name: str
    description: str = ""


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            "{name: a, description: City, town or village}",
            'a comma inside { } starts a new entry: write description: "City, town or village"',
        ),
        (
            "{name: a, description: [x], more}",
            "a comma inside { } starts a new entry: put text containing a comma in quotes",
        ),
        ("{name: a, descriptoin: b}", "did you mean 'description'?"),
    ],
)
def test_a_comma_inside_braces_is_explained(text: str, hint: str) -> None:
    """`{description: City, town}`: the second half became an unknown key; the hint says why."""
    doc = load_yaml_text(f"thing: {text}\n", "f.yaml")
    _, issues = validate(Described, doc, ("thing",))
    assert [i.hint for i in issues if i.code == "LP201"] == [hint]


class Checked(Strict):
    """A model with an after-validator: pydantic labels it ``function-after[..., Checked]``."""

    name: str
    size: int = 0

    @model_validator(mode="after")
    def _fine(self) -> Checked:
        return self


class Holder(Strict):
    items: dict[str, Checked | str]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("items: {a: {name: x, sise: 1}}\n", "did you mean 'size'?"),
        ("items: {a: {name: x, colour: red}}\n", "allowed keys here: name, size"),
    ],
    ids=["close spelling", "no close spelling"],
)
def test_unknown_key_in_a_validated_union_member_lists_that_members_keys(
    text: str, expected: str
) -> None:
    """An unknown key inside a member wrapped by a validator hints at the member's own keys,
    not at those of the mapping holding it (a buyer field is such a member)."""
    issues = problems(Holder, text)
    assert len(issues) == 1 and issues[0].endswith(hint(expected)), issues

"""The search's parts: which field is responsible, prior values, filters, refusals, wording."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from engine.contract.model import Violation
from engine.contract.search import (
    Finding,
    find_violations,
    finding_issue,
    prior_values,
    responsible_index,
)
from engine.loading import load_integration
from engine.plan import FieldPlan, IntegrationPlan
from engine.positions import Span
from tests.contract.test_search import BUYER, SCHEMA, Check, buyer, json_schema_check, line_of

EXAMPLES = 40


def counted(check: Check) -> tuple[Check, list[bytes]]:
    """``check``, recording every payload it is given."""
    seen: list[bytes] = []

    def recording(body: bytes) -> list[Violation]:
        seen.append(body)
        return check(body)

    return recording, seen


def spec(properties: dict[str, Any], required: tuple[str, ...] = ()) -> Check:
    schema = {"type": "object", "properties": properties, "required": list(required)}
    return json_schema_check(schema, "spec.json")


def search(plan: IntegrationPlan, check: Check, stage: str = "post") -> list[Finding]:
    return find_violations(plan, stage, SCHEMA, check, examples=EXAMPLES)


def write(tmp_path: Path, text: str) -> IntegrationPlan:
    path = tmp_path / "buyer.yaml"
    path.write_text(text, encoding="utf-8")
    return load_integration(path, SCHEMA)


# -- the responsible field -----------------------------------------------------------------------


def _field(*path: str | int) -> FieldPlan:
    return FieldPlan(".".join(map(str, path)), path, lambda ctx: None, Span("b.yaml", 1, 1), "")


FIELDS = (_field("contact", "email"), _field("contact"), _field("address", "zip"), _field("x", 0))


@pytest.mark.parametrize(
    ("path", "index"),
    [
        (("contact", "email"), 0),
        (("contact", "phone"), 1),
        (("contact", "email", "domain"), 0),
        (("address",), 2),
        (("x",), 3),
        (("nothing",), None),
        ((), None),
    ],
    ids=["exact", "longest-above", "deeper-than-a-field", "field-below", "list", "none", "root"],
)
def test_the_responsible_field_is_exact_else_above_else_below(
    path: tuple[str | int, ...], index: int | None
) -> None:
    """Violation path -> field: same path, else the longest field path above, else one below."""
    assert responsible_index(FIELDS, path) == index


# -- rendering like the runtime ------------------------------------------------------------------

PING_POST = """\
buyer: pp-buyer
name: PP
version: "1"
environments:
  test:
    url: http://127.0.0.1:8701/pp
stages:
  ping:
    fields:
      state: lead.address.state
    response:
      rules:
        - if: "bid"
          outcome: accepted
      extract: {ping_id: id, price: bid, token: token}
  post:
    fields:
      ping_id: ping.ping_id
      token: ping.token
      email: lead.email
    response:
      rules:
        - if: "ok"
          outcome: accepted
tests:
  - name: the post carries the ping id
    lead: {lead: {email: a@b.com}}
    prior: {ping: {ping_id: "98765"}}
    expect_reject: anything
"""


def test_prior_values_come_from_test_cases_else_plausible_examples(tmp_path: Path) -> None:
    """A test case's ping_id is used; other extracted names get a plausible value."""
    plan = write(tmp_path, PING_POST)
    prior = prior_values(plan, "post")
    assert prior["ping"]["ping_id"] == "98765"
    assert prior["ping"]["token"] == "1A2B3C4D5E"
    assert prior["ping"]["price"] == Decimal("12.50")
    assert prior_values(plan, "ping") == {}


def test_a_post_after_a_ping_is_rendered_with_the_prior_values(tmp_path: Path) -> None:
    """A spec requiring ping_id and token is met: the values from the ping stage are sent."""
    plan = write(tmp_path, PING_POST)
    check, seen = counted(spec({"ping_id": {"const": "98765"}}, ("ping_id", "token")))
    assert search(plan, check) == []
    assert json.loads(seen[0])["ping_id"] == "98765"


def test_a_query_stage_is_checked_on_its_query_string(tmp_path: Path) -> None:
    """For format: query the check gets the encoded pairs, as leadpost test compares them."""
    text = BUYER.format(fields="").replace("    fields:\n", "    format: query\n    fields:\n")
    plan = write(tmp_path, text.replace("  post:\n", "  post:\n    method: GET\n"))
    seen: list[bytes] = []

    def check(body: bytes) -> list[Any]:
        seen.append(body)
        return []

    find_violations(plan, "post", SCHEMA, check, examples=5)
    assert "email" in parse_qs(seen[0].decode())


def test_leads_outside_the_buyers_filters_are_not_sent(tmp_path: Path) -> None:
    """A buyer taking TX owners only: the state and homeowner choices are steered there, and
    a spec allowing only TX and own finds nothing."""
    fields = "      state: lead.address.state\n      owner: attributes.homeowner\n"
    text = BUYER.format(fields=fields).replace(
        "stages:", "filters:\n  states: [TX]\n  when: \"attributes.homeowner == 'own'\"\nstages:"
    )
    check, seen = counted(spec({"state": {"enum": ["TX"]}, "owner": {"enum": ["own"]}}))
    assert search(write(tmp_path, text), check) == []
    assert len(seen) >= EXAMPLES // 2


def test_leads_the_mapping_refuses_are_not_findings(tmp_path: Path) -> None:
    """if_missing: reject and too_long: reject refuse leads; refused leads break nothing, and
    the search still sends leads (the needed birth date is always generated)."""
    fields = (
        "      birth_date: {from: lead.dob, if_missing: reject}\n"
        "      street: {from: lead.address.street, max_length: 10, too_long: reject}\n"
    )
    check, seen = counted(spec({"street": {"maxLength": 10}}, ("birth_date",)))
    assert search(buyer(tmp_path, fields), check) == []
    # how many are refused varies with Hypothesis's choices (it also draws literal constants
    # from the modules loaded), so only "some are sent, each with its birth date" is pinned
    assert len(seen) >= EXAMPLES // 10, len(seen)
    assert all(b'"birth_date":' in body for body in seen)


def test_a_secret_shown_as_its_reference_is_not_judged(tmp_path: Path) -> None:
    """A ${env:NAME} constant reads as its reference here: its pattern is not checked."""
    fields = "      token: {value: '${env:SPEC_TOKEN}'}\n"
    check = spec({"token": {"type": "string", "pattern": "^[0-9a-f]{32}$"}})
    assert search(buyer(tmp_path, fields), check) == []


# -- wording -------------------------------------------------------------------------------------

LEAD = {"timestamp": "2020-01-02T00:00Z", "lead": {"email": "0@gmail.com"}}


def test_a_finding_becomes_lp708_at_its_field_with_the_fix_and_the_smallest_lead(
    tmp_path: Path,
) -> None:
    """Message: path, value (cut, with its length), rule, where; hint: the fix and the lead."""
    plan = buyer(tmp_path, "      street: lead.address.street\n")
    street = plan.stages["post"].request.fields[1]
    where = "specs/x.json#/properties/street/maxLength"
    violation = Violation(("street",), "maxLength: 40", "too long", where)
    issue = finding_issue(plan, Finding("post", LEAD, violation, street, "A" * 41, b"{}"))
    assert issue.code == "LP708"
    assert issue.span == street.span and issue.span.line == line_of(plan, "street:")
    assert issue.message == (
        "a generated lead breaks the buyer's spec: street 'AAAAAAAAAAAA…' (41 characters) "
        f"breaks maxLength: 40 ({where})"
    )
    assert issue.hint == (
        "add max_length: 40 to this field (or too_long: reject to refuse such leads); "
        "smallest lead that shows it: "
        '{"timestamp":"2020-01-02T00:00Z","lead":{"email":"0@gmail.com"}}'
    )


@pytest.mark.parametrize(
    ("rule", "value", "hint"),
    [
        ("enum", "fair", "translate 'fair' into one of the buyer's choices: add it to this "
         "field's translate map, or give the map a default"),
        ("pattern: ^\\d{5}$", "7870", "add a format step (date, phone, digits, substring, "
         "replace, ...) so the value takes the form the spec's pattern asks for"),
        ("type: integer", "12", "add type: integer to this field"),
        ("required", None, "give this field a default, or if_missing: reject to refuse leads "
         "without it"),
    ],
    ids=["enum", "pattern", "type", "required"],
)  # fmt: skip
def test_each_rule_family_has_its_own_fix(tmp_path: Path, rule: str, value: Any, hint: str) -> None:
    """The hint names the setting that fixes this kind of break."""
    plan = buyer(tmp_path, "")
    field = plan.stages["post"].request.fields[0]
    violation = Violation(("email",), rule, "message", "spec.json#/x")
    issue = finding_issue(plan, Finding("post", LEAD, violation, field, value, b"{}"))
    assert issue.hint is not None and issue.hint.startswith(hint + "; smallest lead")


def test_a_break_no_field_writes_is_reported_at_the_stage(tmp_path: Path) -> None:
    """A required property no field writes: LP708 at the stage, saying to add a field."""
    plan = buyer(tmp_path, "")
    violation = Violation(("phone",), "required", "'phone' is missing", "spec.json#/required")
    issue = finding_issue(plan, Finding("post", LEAD, violation, None, None, b"{}"))
    assert issue.span == plan.stages["post"].span
    assert issue.message == (
        "a generated lead breaks the buyer's spec: phone: 'phone' is missing; this breaks "
        "required (spec.json#/required)"
    )
    assert issue.hint is not None and issue.hint.startswith("add a field that writes phone;")


def test_stages_asking_for_the_same_leads_draw_them_once(tmp_path: Path) -> None:
    """A second search with the same schema, choices and needed fields reuses the drawn leads
    (drawing is most of a search's time) and finds the same thing."""
    from engine.contract.search import generated

    fields = "      street: {from: lead.address.street}\n"
    plan = buyer(tmp_path, fields)
    check = spec({"street": {"maxLength": 10}})
    generated.cache_clear()  # earlier tests may have drawn the same leads already
    before = generated.cache_info()
    first = search(plan, check)
    middle = generated.cache_info()
    again = search(plan, check)
    after = generated.cache_info()
    assert first == again and first
    assert middle.misses == before.misses + 1
    assert after.hits == middle.hits + 1 and after.misses == middle.misses

"""require_valid: a buyer file or a campaign excludes a lead whose phone or email is not valid,
for that buyer only, with the reason in the trace (the lead schema keeps such values)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.auction import Router
from engine.campaigns.compile import check_campaign
from engine.clock import FakeClock
from engine.lead import validate_lead
from engine.lead.normalize import NORMALIZERS
from engine.lead.schema import load_lead_schema
from engine.lead.validity import requirement
from engine.loading import check_integration
from engine.runtime.eligibility import eligibility
from engine.store import MemoryStore
from tests.auction_kit import FakeRuntime
from tests.paths import REPO

INTEGRATIONS = REPO / "integrations"
SCHEMA = load_lead_schema(INTEGRATIONS / "lead-schema.yaml")

BUYER = """\
buyer: {name}
name: {name}
version: "1"
price: "10.00"
environments:
  test: {{url: "http://127.0.0.1:9/{name}"}}
{filters}stages:
  post:
    fields:
      phone: lead.phone
    response:
      rules:
        - outcome: accepted
"""


def lead(phone: str = "(512) 555-0142") -> dict[str, Any]:
    raw = json.loads((INTEGRATIONS / "leads" / "sample.json").read_text())
    raw["lead"]["phone"] = phone
    return validate_lead(SCHEMA, raw)


def folder(tmp_path: Path, buyers: dict[str, str]) -> Path:
    """A project folder: the example lead schema, these buyers, a campaigns folder."""
    shutil.copy(INTEGRATIONS / "lead-schema.yaml", tmp_path / "lead-schema.yaml")
    (tmp_path / "buyers").mkdir()
    (tmp_path / "campaigns").mkdir()
    for name, filters in buyers.items():
        text = BUYER.format(name=name, filters=filters)
        (tmp_path / "buyers" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def issues_of(path: Path) -> list[tuple[str, int, int, str]]:
    _, issues, _ = check_integration(path)
    return [(i.code, i.span.line, i.span.col, i.message) for i in issues if i.span]


def test_a_buyer_file_requiring_a_valid_phone_excludes_an_invalid_one(tmp_path: Path) -> None:
    """The buyer's filters exclude the lead, saying which field and why, never the number."""
    root = folder(tmp_path, {"strict": "filters:\n  require_valid: [lead.phone]\n"})
    plan, issues, _ = check_integration(root / "buyers" / "strict.yaml")
    assert plan is not None and plan.filters is not None, issues
    assert plan.filters.description == ("only leads with a valid lead.phone",)
    assert plan.filters.check(lead()) is None
    reason = plan.filters.check(lead("555-12"))
    assert reason == (
        "lead.phone is not a valid US phone number, and the buyer takes only leads with a "
        "valid lead.phone"
    )
    missing = lead()
    del missing["lead"]["phone"]
    assert plan.filters.check(missing) == (
        "lead.phone is missing, and the buyer takes only leads with a valid lead.phone"
    )


def test_require_valid_names_only_phone_and_email_fields(tmp_path: Path) -> None:
    """LP360 on a field without a validity, with the nearest phone/email field suggested."""
    filters = "filters:\n  require_valid: [lead.phon, lead.address.zip, lead.email]\n"
    root = folder(tmp_path, {"strict": filters})
    assert issues_of(root / "buyers" / "strict.yaml") == [
        ("LP360", 8, 19, "require_valid lists 'lead.phon', which is not a lead field: only "
                         "phone and email fields have a validity"),
        ("LP360", 8, 30, "require_valid lists 'lead.address.zip', which has type zip: only "
                         "phone and email fields have a validity"),
    ]  # fmt: skip


def test_a_campaign_requires_validity_per_buyer_and_for_all(tmp_path: Path) -> None:
    """Campaign-wide ``require_valid`` applies to every buyer and fallback; a buyer entry adds
    its own; each is checked at eligibility, after the buyer file's filters."""
    root = folder(tmp_path, {"a": "", "b": "", "c": ""})
    text = (
        "campaign: c\nname: C\nmode: waterfall\n"
        "buyers:\n  - {buyer: a, require_valid: [lead.phone]}\n  - b\n"
        "fallback: [c]\nrequire_valid: [lead.email]\n"
    )
    path = root / "campaigns" / "c.yaml"
    path.write_text(text, encoding="utf-8")
    plan, issues, _ = check_campaign(path)
    assert plan is not None, issues
    assert [(b.buyer, b.require_valid) for b in (*plan.buyers, *plan.fallback)] == [
        ("a", ("lead.email", "lead.phone")),
        ("b", ("lead.email",)),
        ("c", ("lead.email",)),
    ]
    bad = lead("555-12")
    clock = FakeClock()
    reasons = [
        eligibility(b, bad, store=MemoryStore(), clock=clock, breaker_open=False)
        for b in plan.buyers
    ]
    assert reasons == [
        "lead.phone is not a valid US phone number, and the campaign takes only leads with a "
        "valid lead.phone",
        None,
    ]


def test_a_campaign_reports_a_wrong_require_valid_entry(tmp_path: Path) -> None:
    """LP360 in a campaign too, once per place it is written."""
    root = folder(tmp_path, {"a": ""})
    path = root / "campaigns" / "c.yaml"
    path.write_text(
        "campaign: c\nname: C\nmode: direct\nbuyers:\n  - {buyer: a, require_valid: [lead.dob]}\n"
        "require_valid: [timestamp]\n",
        encoding="utf-8",
    )
    plan, issues, _ = check_campaign(path)
    assert plan is None
    assert [(i.code, i.span.line if i.span else 0) for i in issues] == [
        ("LP360", 5), ("LP360", 6),
    ]  # fmt: skip


@pytest.mark.anyio
async def test_the_router_excludes_only_the_buyer_that_requires_it(tmp_path: Path) -> None:
    """A lead with a bad phone goes to the buyer that takes it; the strict one is excluded
    with the reason in the trace, and the reason does not repeat the number."""
    root = folder(tmp_path, {"strict": "filters:\n  require_valid: [lead.phone]\n", "loose": ""})
    path = root / "campaigns" / "c.yaml"
    path.write_text(
        "campaign: c\nname: C\nmode: waterfall\nbuyers: [strict, loose]\n", encoding="utf-8"
    )
    plan, issues, _ = check_campaign(path)
    assert plan is not None, issues
    runtime = FakeRuntime({}, {"strict": "accepted", "loose": "accepted"})
    router = Router(runtime, MemoryStore(), FakeClock(), env="test")
    result = await router.route(plan, lead("(123) 555-0142"), lead_id="l-1")
    assert result.sold and result.buyer == "loose"
    excluded = [e for e in result.trace if e.step == "eligibility" and e.buyer == "strict"]
    assert excluded and excluded[0].reason is not None
    assert "not a valid US phone number" in excluded[0].reason
    assert "555" not in excluded[0].reason
    assert runtime.sent == [("loose", "post")]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    phone=json_values,
    record=json_values,
    records=st.none() | st.dictionaries(st.sampled_from(["lead.phone", "x"]), json_values),
)
def test_a_requirement_gives_none_or_a_reason_for_any_lead(
    phone: Any, record: Any, records: Any
) -> None:
    """Whatever the lead holds (forged records included), the requirement never raises; a lead
    it passes holds a phone the intake's check calls valid or that intake recorded valid."""
    check = requirement([("lead.phone", NORMALIZERS["phone"])], "the buyer")
    lead: dict[str, Any] = {"lead": {"phone": phone}}
    if records is not None:
        lead["validity"] = {**records, "lead.phone": record}
    reason = check(lead)
    assert reason is None or reason.startswith("lead.phone is ")
    if reason is None:
        recorded = records is not None and isinstance(record, dict) and record.get("valid")
        assert recorded is True or NORMALIZERS["phone"](phone)

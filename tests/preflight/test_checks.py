"""The preflight items that need no network, the report layout, and ``force_failure`` itself."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.authoring.rules import BuyerFile
from engine.compiler.integration import compile_document
from engine.dsl import models as m
from engine.dsl.issues import validate
from engine.dsl.loader import load_yaml_text
from engine.errors import AuthoringError
from engine.loading import load_integration, schema_for
from engine.plan import ForcedFailure, IntegrationPlan, RetryPlan
from engine.preflight.checks import Item, credentials_item, environment_item, timeouts_item
from engine.preflight.report import Report, format_markdown, format_text
from engine.preflight.sending import expected_kinds, with_force
from engine.runtime.outcome import Outcome, Timings
from engine.sandbox.force import Forced, parse_force
from tests.examples import example_plan
from tests.paths import REPO

HARBOR = REPO / "integrations" / "buyers" / "harbor-mutual.yaml"
APEX = REPO / "integrations" / "buyers" / "apex-ping.yaml"


def harbor(test_url: str, prod_url: str = "https://api.harbormutual.com/v2/leads") -> BuyerFile:
    """Harbor's file with other addresses, validated and compiled (as preflight sees it)."""
    text = HARBOR.read_text()
    text = text.replace("http://127.0.0.1:8701/harbor-mutual/v2/leads", test_url)
    text = text.replace("https://api.harbormutual.com/v2/leads", prod_url)
    doc = load_yaml_text(text, "harbor-mutual.yaml")
    spec, issues = validate(m.IntegrationSpec, doc)
    assert spec is not None, issues
    plan, _ = compile_document(doc, schema_for(HARBOR), base_dir=str(HARBOR.parent))
    assert plan is not None
    return BuyerFile(spec, doc.source, plan, None)


def test_the_test_environment_apart_from_production_passes() -> None:
    """Loopback test address, public https production: a pass naming the production host."""
    f = harbor("http://127.0.0.1:8701/h")
    assert f.plan is not None
    item = environment_item(f.plan, "test", f)
    assert item.status == "pass" and "api.harbormutual.com" in item.detail


def test_plain_http_to_another_machine_fails_like_lint() -> None:
    """LP402's rule is reused: a test environment over http:// off this machine fails."""
    f = harbor("http://test.harbor.example/h")
    assert f.plan is not None
    item = environment_item(f.plan, "test", f)
    assert item.status == "fail" and "plain http://" in item.detail


def test_production_on_a_private_address_fails_like_lint() -> None:
    """LP404's rule is reused when preflight is pointed at production."""
    f = harbor("http://127.0.0.1:8701/h", prod_url="https://10.0.0.5/leads")
    assert f.plan is not None
    item = environment_item(f.plan, "production", f)
    assert item.status == "fail" and "private or local address" in item.detail


def _timings(total: float, wait: float | None = None) -> Timings:
    return Timings(total=total, wait=wait)


@pytest.fixture(scope="module")
def apex_plan() -> IntegrationPlan:
    return example_plan("apex-ping")


def test_latencies_with_headroom_pass(apex_plan: IntegrationPlan) -> None:
    """A 50 ms ping against a 300 ms timeout and a 150 ms deadline passes."""
    item = timeouts_item(apex_plan, {"ping": [_timings(0.05, 0.04)]}, 0.001, [("a", 0.15)])
    assert item.status == "pass" and "ping deadline of a 150 ms" in item.detail


def test_a_ping_too_close_to_a_campaigns_deadline_fails(apex_plan: IntegrationPlan) -> None:
    """130 ms uses more than 80% of a 150 ms ping deadline (not of the 300 ms timeout)."""
    item = timeouts_item(apex_plan, {"ping": [_timings(0.13, 0.12)]}, None, [("auction", 0.15)])
    assert item.status == "fail"
    assert (
        item.detail
        == "slowest ping took 130 ms, too close to the ping deadline of auction of 150 ms"
    )


def test_a_slow_connect_fails(apex_plan: IntegrationPlan) -> None:
    """Connecting in 190 ms of the shortest 200 ms connect timeout leaves no headroom."""
    assert timeouts_item(apex_plan, {}, 0.19).status == "fail"


def test_nothing_measured_is_not_applicable(apex_plan: IntegrationPlan) -> None:
    assert timeouts_item(apex_plan, {}, None).status == "skip"


def _outcome(kind: str, reason: str | None = None) -> Outcome:
    return Outcome("apex-ping", "post", kind, False, reason, 1, Timings(0.01))  # type: ignore[arg-type]


def test_credentials_missing_are_named_never_shown(apex_plan: IntegrationPlan) -> None:
    item = credentials_item(apex_plan, {}, None, [])
    assert item == Item(
        "credentials", "fail", "not set: APEX_PING_KEY; set them where leadpost runs"
    )


def test_credentials_proven_by_an_accepted_lead(apex_plan: IntegrationPlan) -> None:
    environ = {"APEX_PING_KEY": "k-SECRET"}
    item = credentials_item(apex_plan, environ, None, [("one", _outcome("accepted"))])
    assert item.status == "pass" and "'one' was accepted" in item.detail
    assert "k-SECRET" not in item.detail


def test_credentials_refused_by_the_buyer_fail(apex_plan: IntegrationPlan) -> None:
    environ = {"APEX_PING_KEY": "k"}
    sent = [("one", _outcome("accepted")), ("two", _outcome("auth", "HTTP 401"))]
    item = credentials_item(apex_plan, environ, None, sent)
    assert item.status == "fail" and "refused them on test lead 'two': HTTP 401" in item.detail


def test_credentials_unproven_without_an_accepted_lead(apex_plan: IntegrationPlan) -> None:
    item = credentials_item(apex_plan, {"APEX_PING_KEY": "k"}, None, [])
    assert item.status == "skip" and "not proven" in item.detail


# -- the report --------------------------------------------------------------------------------


def _report(*items: Item) -> Report:
    when = datetime(2024, 12, 15, 8, 30, tzinfo=UTC)
    return Report("b", "B | Co", "b.yaml", "test", "http://127.0.0.1:1/", when, "0.1.0", items)


def test_markdown_has_one_list_line_per_item_and_notes_in_a_block() -> None:
    """Each item is one ``- ✓ **name** — detail`` line; notes sit in a code block under it."""
    report = _report(
        Item("a", "pass", "fine"),
        Item("b", "fail", "bad", ("request:", "  POST /x")),
        Item("c", "skip", "n/a"),
        Item("d", "info", "fyi"),
    )
    text = format_markdown(report)
    lines = [x for x in text.splitlines() if x.startswith("- ")]
    assert lines == ["- ✓ **a** — fine", "- ✗ **b** — bad", "- – **c** — n/a", "- • **d** — fyi"]
    assert "  ```text\n  request:\n    POST /x\n  ```" in text
    assert "| buyer | b (B \\| Co) |" in text and "| date | 2024-12-15 08:30:00 UTC |" in text
    summary = "1 passed, 1 failed, 1 not applicable, 1 for information"
    assert f"**Summary:** {summary}: fix the failures before going live" in text


def test_text_summary_when_everything_passed() -> None:
    text = format_text(_report(Item("a", "pass", "fine"), Item("d", "info", "fyi")))
    assert "✓ a  fine" in text
    assert text.endswith("1 passed, 0 failed, 1 for information: ready to go live\n")


# -- force_failure: the file, the plan, the request --------------------------------------------


def _with_force(block: str, tmp_path: Path) -> Path:
    text = APEX.read_text()
    start = text.index("    force_failure:")
    end = text.index("  production:")
    path = tmp_path / "apex-ping.yaml"
    path.write_text(text[:start] + block + text[end:])
    return path


def test_force_failure_is_compiled_into_the_environment(apex_plan: IntegrationPlan) -> None:
    forced = apex_plan.environments["test"].force_failure
    assert [(f.headers, f.stage, f.expect) for f in forced] == [
        ((("X-Sandbox-Force", "500"),), None, "server_error"),
        ((("X-Sandbox-Force", "reject"),), "ping", "rejected"),
    ]
    assert apex_plan.environments["production"].force_failure == ()


def test_a_forced_failure_must_say_how_to_ask(tmp_path: Path) -> None:
    """Neither headers nor query: a positioned validation error."""
    path = _with_force("    force_failure:\n      - {expect: server_error}\n", tmp_path)
    with pytest.raises(AuthoringError) as exc:
        load_integration(path)
    assert "needs 'headers' or 'query'" in exc.value.report()


def test_a_forced_failure_on_a_missing_stage_is_reported(tmp_path: Path) -> None:
    """stage: ping on a direct-post buyer is LP205 at the stage."""
    text = HARBOR.read_text().replace(
        "        expect: server_error\n", "        stage: ping\n        expect: server_error\n", 1
    )
    path = tmp_path / "harbor-mutual.yaml"
    path.write_text(text)
    (tmp_path / "lead-schema.yaml").write_text(
        (REPO / "integrations" / "lead-schema.yaml").read_text()
    )
    with pytest.raises(AuthoringError) as exc:
        load_integration(path)
    assert exc.value.issues[0].code == "LP205" and "no ping stage" in exc.value.issues[0].message


def test_with_force_adds_headers_and_query(apex_plan: IntegrationPlan) -> None:
    """Headers are added to the stage; a query goes after the stage's path."""
    forced = ForcedFailure((("X-F", "500"),), (("mode", "fail"),), None, "server_error")
    plan = with_force(apex_plan, "test", forced, "post")
    request = plan.stages["post"].request
    assert request.headers[-1][0] == "X-F" and request.headers[-1][1].masked() == "500"
    assert request.path == "/post?mode=fail"
    assert plan.stages["ping"] is apex_plan.stages["ping"]


def test_with_force_puts_a_query_on_the_address_without_a_path(
    apex_plan: IntegrationPlan,
) -> None:
    stages = {
        k: dataclasses.replace(s, request=dataclasses.replace(s.request, path=""))
        for k, s in apex_plan.stages.items()
    }
    plan = dataclasses.replace(apex_plan, stages=stages)
    forced = ForcedFailure((), (("f", "1"),), None, "server_error")
    assert (
        with_force(plan, "test", forced, "post").environments["test"].url.endswith("/apex-ping?f=1")
    )


@pytest.mark.parametrize(
    "on_timeout,stage,kinds",
    [
        ("unknown", "post", ("unknown",)),
        ("retry", "post", ("unknown",)),
        ("reject", "post", ("rejected",)),
        ("unknown", "ping", ("unknown", "late")),
    ],
)
def test_a_timeout_is_expected_as_on_timeout_says(
    apex_plan: IntegrationPlan, on_timeout: str, stage: str, kinds: tuple[str, ...]
) -> None:
    plan = dataclasses.replace(apex_plan, retry=RetryPlan(on_timeout=on_timeout))  # type: ignore[arg-type]
    assert expected_kinds(plan, ForcedFailure((), (), stage, "timeout"), stage) == kinds


@given(st.text(max_size=20))
def test_parse_force_never_raises(value: str) -> None:
    """Any header value gives nothing, a Forced, or a message."""
    assert parse_force(value) is None or isinstance(parse_force(value), Forced | str)


@pytest.mark.parametrize(
    "value,parsed",
    [
        ("500", Forced(status=500)),
        (" Timeout ", Forced(word="timeout")),
        ("reject", Forced(word="reject")),
        ("", None),
    ],
)
def test_parse_force_values(value: str, parsed: Forced | None) -> None:
    assert parse_force(value) == parsed


def test_parse_force_refuses_a_success_status() -> None:
    assert parse_force("200") == "X-Sandbox-Force: 200 is not an error status; use 400 to 599"

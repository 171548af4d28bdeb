"""``leadpost diff``: the plain-English changes of buyer and campaign files, and what is not one."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.diff import DiffReport, FileDiff, diff_command
from engine.diff.output import format_report
from tests.diff_kit import HARBOR, OPEN_AUCTION, apply_edits, copy_integrations

BEACON = "integrations/buyers/beacon-ping.yaml"
HOME_AUCTION = "integrations/campaigns/home-auction.yaml"


@pytest.fixture
def trees(tmp_path: Path) -> Path:
    """base/ and head/ each holding a copy of the real integrations/ tree."""
    for side in ("base", "head"):
        copy_integrations(tmp_path / side)
    return tmp_path


def run(trees: Path, *edits: tuple[str, str, str]) -> DiffReport:
    apply_edits(trees / "head", edits)
    return diff_command("base", "head", cwd=trees)


def only(report: DiffReport) -> FileDiff:
    assert len(report.files) == 1, [f.file for f in report.files]
    return report.files[0]


def texts(report: DiffReport) -> list[str]:
    return [c.text for c in only(report).changes]


def test_auth_kind_change(trees: Path) -> None:
    """Moving from an API key to OAuth 2.0 names both kinds, and the new one's details."""
    report = run(
        trees,
        (
            HARBOR,
            "  type: api_key\n  header: X-Api-Key\n  key: ${env:HARBOR_API_KEY}\n",
            "  type: oauth2\n  token_url: https://id.harbor.com/token\n"
            "  client_id: leadpost\n  client_secret: ${env:HARBOR_SECRET}\n",
        ),
    )
    (change,) = [c for c in only(report).changes if c.text.startswith("auth")]
    assert change.text == (
        "auth changed from API key to OAuth 2.0 (client credentials from "
        "https://id.harbor.com/token (client leadpost, secret ${env:HARBOR_SECRET}))"
    )
    assert change.area == "settings" and change.line == 18


def test_production_url_change(trees: Path) -> None:
    """A changed environment address is one line, at the url's line."""
    report = run(trees, (BEACON, "api.beaconmarket.com/v3", "api.beaconmarket.com/v4"))
    (change,) = only(report).changes
    assert change.text == (
        "production URL changed: https://api.beaconmarket.com/v3 → https://api.beaconmarket.com/v4"
    )
    assert change.line == 11


def test_secrets_stay_masked_in_header_diffs(trees: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request header diff shows ${env:NAME}, never the variable's value."""
    monkeypatch.setenv("HARBOR_API_KEY", "hk_live_very_secret")
    report = run(trees, (HARBOR, "  header: X-Api-Key\n", "  header: X-Key\n"))
    text = format_report(report)
    assert "-X-Api-Key: ${env:HARBOR_API_KEY}" in text
    assert "+X-Key: ${env:HARBOR_API_KEY}" in text
    assert "hk_live_very_secret" not in text


def test_response_rule_added(trees: Path) -> None:
    """A new rule is described in words, at its line in HEAD."""
    report = run(
        trees,
        (
            HARBOR,
            "        - status: 422\n",
            "        - status: 409\n          outcome: duplicate\n        - status: 422\n",
        ),
    )
    (change,) = only(report).changes
    assert change.area == "post responses"
    assert change.text == "post response rule added: status 409 → duplicate"


def test_test_case_added_is_not_behavioural(trees: Path) -> None:
    """Only a test case changed: reported under tests, status other, exit 0."""
    report = run(
        trees,
        (
            BEACON,
            "tests:\n",
            "tests:\n  - name: no bid at all\n    stage: ping\n    response: {status: 204}\n"
            "    expect: {outcome: error}\n",
        ),
    )
    f = only(report)
    assert [(c.area, c.text, c.behavioural) for c in f.changes] == [
        ("tests", "test case added: no bid at all", False)
    ]
    assert f.status == "other" and report.exit_code == 0


@pytest.mark.parametrize(
    "old,new",
    [
        ("  max_attempts: 4\n", "  max_attempts: 4 # Harbor's limit\n"),
        ("  on_timeout: retry", "  interval: 2000ms\n  on_timeout: retry"),
        ("      source.publisher: source_id\n", "      source.publisher: {from: source_id}\n"),
        ("caps:\n  per_day: 500\n", "caps:\n  per_day: 500\n  per_hour: null\n"),
    ],
    ids=["comment", "same-duration-other-unit", "shorthand-vs-from", "explicit-default"],
)
def test_writing_the_same_thing_differently_is_not_a_change(
    trees: Path, old: str, new: str
) -> None:
    """Comments, another way to write the same duration or field, a default written out:
    formatting only, exit 0."""
    report = run(trees, (HARBOR, old, new))
    f = only(report)
    assert (f.status, f.changes, f.payloads) == ("formatting", (), ())
    assert report.exit_code == 0


def test_field_order_change_is_behavioural(trees: Path) -> None:
    """Fields swapped change the order in the body: reported, with the payload diff."""
    report = run(
        trees,
        (
            HARBOR,
            "      source.vendor:\n        value: leadpost\n",
            "",
        ),
        (
            HARBOR,
            "      source.landing_page: attributes.landing_page\n",
            "      source.landing_page: attributes.landing_page\n"
            "      source.vendor:\n        value: leadpost\n",
        ),
    )
    f = only(report)
    assert [c.text for c in f.changes] == [
        "post fields reordered: the request now lists them in the new order"
    ]
    assert f.payloads and f.status == "changed"


def test_field_settings_change_without_new_words(trees: Path) -> None:
    """A field setting dropped: the words it added to the description are named."""
    report = run(
        trees,
        ("integrations/buyers/summit-crm.yaml", "        too_long: reject\n", ""),
    )
    assert texts(report) == ["field Email no longer: longer values are refused"]


def test_translate_and_retry_changes(trees: Path) -> None:
    """A translate map and on_timeout, in words."""
    report = run(
        trees,
        (HARBOR, '{map: {own: "Y", rent: "N"}}', '{map: {own: "1", rent: "0"}}'),
        (HARBOR, "  on_timeout: retry", "  on_timeout: unknown"),
    )
    assert texts(report) == [
        "a timed-out post now counts as unknown (was retry)",
        "field property.owner now translated (own → 1, rent → 0) "
        "(was translated (own → Y, rent → N))",
    ]


def test_stage_timeout_and_header(trees: Path) -> None:
    """Stage settings: a timeout and a header."""
    report = run(
        trees,
        (HARBOR, "      total: 8s\n", "      total: 10s\n    headers: {X-Source: leadpost}\n"),
    )
    assert texts(report) == [
        "post total timeout 8 s → 10 s",
        "post header X-Source added: leadpost",
    ]


def test_campaign_buyers_floor_and_deadline(trees: Path) -> None:
    """A campaign: buyer removed from the fallback, one added to the auction, floor, deadline."""
    report = run(
        trees,
        (HOME_AUCTION, "  - buyer: keystone-legacy\n    priority: 2\n", ""),
        (HOME_AUCTION, "  - lighthouse-xml\n", "  - lighthouse-xml\n  - apex-ping\n"),
        (HOME_AUCTION, 'floor: "5.00"', 'floor: "7.50"'),
        (HOME_AUCTION, "ping_deadline: 100ms", "ping_deadline: 0.15s"),
        (HOME_AUCTION, "  disposable_email: critical\n", "  disposable_email: warn\n"),
    )
    assert texts(report) == [
        "ping deadline 100 ms → 150 ms",
        "floor 5.00 → 7.50",
        "buyer apex-ping added to the campaign (priority 3)",
        "buyer keystone-legacy removed from the fallback",
        "disposable_email check critical → warn",
    ]
    lines = {c.text.split(" ")[0]: c.line for c in only(report).changes}
    assert lines["ping"] == 11


def test_campaign_overload_setting(trees: Path) -> None:
    """when_overloaded added to a campaign: said in words, at its line."""
    report = run(trees, (OPEN_AUCTION, "floor:", "when_overloaded: queue\nfloor:"))
    assert texts(report) == ["leads under overload are refused (503) → queued for a waterfall"]


def test_campaign_comment_only(trees: Path) -> None:
    """A campaign with a new comment: formatting only."""
    report = run(trees, (OPEN_AUCTION, "floor:", "# agreed with sales\nfloor:"))
    assert only(report).status == "formatting"


def test_markdown_folds_long_payload_diffs(trees: Path) -> None:
    """Markdown: a heading, the summary line, bullets, and <details> around long diffs."""
    report = run(
        trees,
        (HARBOR, "transform: [{phone: dashes}]", "transform: [{phone: e164}]"),
        (HARBOR, "      vehicle.model: attributes.vehicle_model\n", ""),
    )
    text = format_report(report, "markdown")
    assert text.startswith("## leadpost diff: `base` → `head`\n\n1 integration file changed")
    assert "- field vehicle.model removed (was attributes.vehicle_model)" in text
    assert "<details><summary>post payload, leads/sample.json" in text
    assert "```diff\n--- base\n+++ head\n" in text


def test_github_annotations_escape_properties(trees: Path) -> None:
    """GitHub: one ::notice per change, with ':' and ',' escaped in the title."""
    report = run(trees, (OPEN_AUCTION, "ping_deadline: 150ms", "ping_deadline: 200ms"))
    lines = format_report(report, "github").splitlines()
    assert lines[0] == (
        "::notice file=head/integrations/campaigns/open-auction.yaml,line=17,"
        "title=leadpost diff%3A settings::ping deadline 150 ms → 200 ms"
    )
    assert lines[-1] == "1 integration file changed: 1 behavioural change"


def test_broken_file_in_github_format_is_an_error_annotation(trees: Path) -> None:
    """A file that does not compile: its errors as ::error annotations."""
    report = run(trees, (HARBOR, "  max_attempts: 4\n", "  max_attempts: 40\n"))
    first = format_report(report, "github").splitlines()[0]
    assert first.startswith("::error file=head/integrations/buyers/harbor-mutual.yaml,line=25,")
    assert report.exit_code == 1


def test_entries_added_to_a_list_of_settings_are_shown_whole_without_unset_keys() -> None:
    """A new force_failure entry reads as one line, not one line per key with 'none → {}'."""
    from engine.diff.wording import dump_changes

    old: list[dict[str, object]] = [{"headers": {"X": "500"}, "query": {}, "expect": "auth"}]
    new = [*old, {"headers": {"X": "timeout"}, "query": {}, "stage": None, "expect": "timeout"}]
    assert dump_changes(old, new) == ["added: {headers: {X: timeout}, expect: timeout}"]
    assert dump_changes(new, old) == ["removed: {headers: {X: timeout}, expect: timeout}"]
    reordered = dump_changes({"tests": new}, {"tests": new[::-1]})
    assert reordered == ["tests same entries in a new order"]


def test_a_stage_spec_and_forced_failures_change_nothing_sent(trees: Path) -> None:
    """Naming another spec, or another failure for preflight to force, is shown but is not a
    behavioural change: no lead is sent differently."""
    report = run(
        trees,
        (BEACON, "../specs/beacon-ping.ping.schema.json", "../specs/beacon-v2.ping.schema.json"),
        (HARBOR, '{X-Sandbox-Force: "503"}', '{X-Sandbox-Force: "502"}'),
    )
    changes = [(c.text, c.behavioural) for f in report.files for c in f.changes]
    assert changes == [
        (
            "ping now checked against the JSON Schema ../specs/beacon-v2.ping.schema.json "
            "(was the JSON Schema ../specs/beacon-ping.ping.schema.json)",
            False,
        ),
        (
            "test force failure: added: {headers: {X-Sandbox-Force: 502}, expect: server_error}",
            False,
        ),
        (
            "test force failure: removed: {headers: {X-Sandbox-Force: 503}, expect: server_error}",
            False,
        ),
    ]
    assert report.exit_code == 0


def test_validity_requirements_and_ws_security_changes(trees: Path) -> None:
    """require_valid added to a campaign buyer and to a buyer's filters, and a WS-Security
    login moved from a digest to the password as text, each in words."""
    life = "integrations/campaigns/life-waterfall.yaml"
    evergreen = "integrations/buyers/evergreen-life.yaml"
    report = run(
        trees,
        (
            life,
            "  - bluewater-agents\n",
            "  - buyer: bluewater-agents\n    require_valid: [lead.email]\n",
        ),
        (
            evergreen,
            "  require_valid: [lead.phone]\n",
            "  require_valid: [lead.phone, lead.email]\n",
        ),
        (evergreen, "  digest: true\n", "  digest: false\n"),
    )
    changes = {f.file.removeprefix("head/"): [c.text for c in f.changes] for f in report.files}
    assert changes[life] == ["buyer bluewater-agents must get valid nothing → lead.email"]
    assert "filters: valid lead.phone → lead.phone, lead.email required" in changes[evergreen]
    assert any(
        t.startswith("auth: WS-Security UsernameToken")
        and t.endswith("PasswordText, wsu:Timestamp valid 5m")
        for t in changes[evergreen]
    )

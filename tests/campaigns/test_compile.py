"""Campaign files compile into CampaignPlans; every mistake is reported where it was written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from engine.authoring.lint import kind_of, lint_file
from engine.campaigns.buyers import find_buyers_dir
from engine.campaigns.compile import check_campaign, load_campaign
from engine.errors import AuthoringError, Issue
from engine.loading import display_name
from tests.paths import REPO

ROOT = REPO
BUYERS = ROOT / "integrations" / "buyers"
CAMPAIGNS = ROOT / "integrations" / "campaigns"

GOOD_BUYER = """\
buyer: good
name: Good Buyer
version: "1"
price: "10.00"
environments:
  test: {url: "http://127.0.0.1:9/x"}
stages:
  post:
    fields:
      email: lead.email
    response:
      rules:
        - if: "status == 'ok'"
          outcome: accepted
        - outcome: rejected
"""


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    folder = tmp_path / "campaigns"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, buyers: Path | None = BUYERS) -> list[tuple[str, int, int, str]]:
    """(code, line, column, message) of every issue, for pinning."""
    _, issues, _ = check_campaign(path, buyers_dir=buyers)
    return [(i.code, i.span.line if i.span else 0, i.span.col if i.span else 0, i.message)
            for i in issues]  # fmt: skip


def only(path: Path, buyers: Path | None = BUYERS) -> Issue:
    _, issues, _ = check_campaign(path, buyers_dir=buyers)
    assert len(issues) == 1, [i.render() for i in issues]
    return issues[0]


# -- the example campaigns -----------------------------------------------------------------------


def test_home_auction() -> None:
    """The auction: ping/post bidders as written, the fallback waterfall, floor and checks."""
    plan = load_campaign(CAMPAIGNS / "home-auction.yaml")
    assert plan.campaign == "home-auction" and plan.mode == "auction"
    assert [b.buyer for b in plan.buyers][:2] == ["beacon-ping", "lighthouse-xml"]
    assert all(b.integration.is_ping_post for b in plan.buyers)
    assert [b.buyer for b in plan.fallback] == [
        "harbor-mutual",
        "keystone-legacy",
        "bluewater-agents",
    ]
    assert (plan.ping_deadline, plan.total_deadline, plan.floor) == (0.1, 3.0, Decimal("5.00"))
    assert [c.name for c in plan.checks] == [
        "phone", "email", "disposable_email", "consent", "suppression",
    ]  # fmt: skip
    assert all(c.level == "critical" and c.check is not None for c in plan.checks)


def test_auto_waterfall_is_ordered_by_price() -> None:
    """order: price puts the highest fixed price first."""
    plan = load_campaign(CAMPAIGNS / "auto-waterfall.yaml")
    assert [(b.buyer, b.price) for b in plan.buyers] == [
        ("summit-crm", Decimal("45.00")),
        ("harbor-mutual", Decimal("38.00")),
        ("prairie-form", Decimal("12.00")),
    ]
    assert {c.name: c.level for c in plan.checks}["disposable_email"] == "warn"


def test_harbor_direct() -> None:
    """A direct campaign has its one buyer at the buyer file's price."""
    plan = load_campaign(CAMPAIGNS / "harbor-direct.yaml")
    assert plan.mode == "direct"
    assert [(b.buyer, b.priority, b.price) for b in plan.buyers] == [
        ("harbor-mutual", 1, Decimal("38.00"))
    ]


def test_the_buyers_folder_is_found_beside_the_campaigns_folder() -> None:
    """integrations/campaigns/x.yaml finds its buyers in integrations/buyers."""
    assert find_buyers_dir(CAMPAIGNS / "home-auction.yaml") == BUYERS


def test_lint_knows_campaign_files() -> None:
    """leadpost lint picks the campaign linter by the 'campaign:' key."""
    assert kind_of({"campaign": "x", "buyers": []}) == "campaign"
    report = lint_file(CAMPAIGNS / "home-auction.yaml")
    assert report.issues == ()


# -- buyers --------------------------------------------------------------------------------------


def test_unknown_buyer_suggests_the_closest_id(tmp_path: Path) -> None:
    """LP314 at the entry, with a did-you-mean hint."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: waterfall\nbuyers:\n  - harbour-mutual\n")
    issue = only(path)
    assert (issue.code, issue.span and (issue.span.line, issue.span.col)) == ("LP314", (5, 5))
    assert issue.message == (
        f"unknown buyer 'harbour-mutual': no file in {display_name(BUYERS)} says "
        "'buyer: harbour-mutual'"
    )
    assert issue.hint == "did you mean 'harbor-mutual'?"


def test_unknown_buyer_in_a_mapping_points_at_its_id(tmp_path: Path) -> None:
    """In '- {buyer: x, price: ...}' the position is the id's."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: direct\nbuyers:\n  - buyer: nobody\n")
    issue = only(path)
    assert (issue.code, issue.span and (issue.span.line, issue.span.col)) == ("LP314", (5, 12))


def test_auction_buyers_must_have_a_ping_stage(tmp_path: Path) -> None:
    """LP312 for a post-only buyer in an auction, with the way out in the hint."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: auction\nbuyers:\n  - beacon-ping\n"
                           "  - harbor-mutual\n")  # fmt: skip
    issue = only(path)
    assert (issue.code, issue.span and issue.span.line) == ("LP312", 6)
    assert (
        issue.message == "buyer 'harbor-mutual' has no ping stage, so it cannot bid in an auction"
    )
    assert issue.hint is not None and "fallback" in issue.hint


def test_a_buyer_listed_twice(tmp_path: Path) -> None:
    """The same buyer twice in a list, or in buyers and fallback, is LP312."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: auction\nbuyers: [beacon-ping]\n"
                           "fallback:\n  - harbor-mutual\n  - beacon-ping\n"
                           "  - harbor-mutual\n")  # fmt: skip
    assert problems(path) == [
        ("LP312", 7, 5, "buyer 'beacon-ping' is listed under buyers: a lead must not be offered "
                        "to a buyer twice"),
        ("LP312", 8, 5, "buyer 'harbor-mutual' is listed twice under fallback: a lead must not be "
                        "offered to a buyer twice"),
    ]  # fmt: skip


def test_waterfall_order_by_priority(tmp_path: Path) -> None:
    """order: priority sorts by the priority given (default: the position in the list)."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: waterfall\nbuyers:\n  - summit-crm\n"
                           "  - {buyer: prairie-form, priority: 1}\n"
                           "  - harbor-mutual\n")  # fmt: skip
    plan = load_campaign(path, buyers_dir=BUYERS)
    assert [(b.buyer, b.priority) for b in plan.buyers] == [
        ("summit-crm", 1), ("prairie-form", 1), ("harbor-mutual", 3),
    ]  # fmt: skip


def test_order_by_price_uses_campaign_prices_and_needs_one_for_everyone(tmp_path: Path) -> None:
    """A campaign price overrides the file's; a buyer with no price at all is LP312."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: waterfall\norder: price\nbuyers:\n"
                           "  - {buyer: prairie-form, price: '99'}\n  - summit-crm\n")  # fmt: skip
    plan = load_campaign(path, buyers_dir=BUYERS)
    assert [(b.buyer, b.price) for b in plan.buyers] == [
        ("prairie-form", Decimal("99")), ("summit-crm", Decimal("45.00")),
    ]  # fmt: skip
    path = write(tmp_path, "campaign: c\nname: C\nmode: waterfall\norder: price\nbuyers:\n"
                           "  - summit-crm\n  - beacon-ping\n")  # fmt: skip
    assert problems(path) == [
        ("LP312", 7, 5, "order: price needs a price for every buyer, and 'beacon-ping' has none"),
    ]


def test_a_buyer_file_with_errors_is_reported_under_the_campaign(tmp_path: Path) -> None:
    """The buyer file's own errors (in that file) and LP314 where the campaign names it."""
    buyers = tmp_path / "buyers"
    buyers.mkdir()
    (buyers / "good.yaml").write_text(GOOD_BUYER)
    broken = GOOD_BUYER.replace("buyer: good", "buyer: bad").replace(
        "email: lead.email", "email: {from: lead.email, transform: [uppercase]}"
    )
    (buyers / "bad.yaml").write_text(broken)
    path = write(tmp_path, "campaign: c\nname: C\nmode: waterfall\nbuyers: [good, bad]\n")
    _, issues, _ = check_campaign(path)
    assert [
        (i.code, i.span and Path(i.span.file).name, i.span and i.span.line) for i in issues
    ] == [
        ("LP314", "c.yaml", 4),
        ("LP301", "bad.yaml", 10),
    ]
    assert issues[0].message.startswith("buyer 'bad' cannot be used: its file ")
    assert issues[0].message.endswith("bad.yaml has errors (listed with this campaign's problems)")
    assert issues[1].message == "unknown transform 'uppercase'"


def test_an_unreadable_buyer_file_is_found_by_its_file_name(tmp_path: Path) -> None:
    """A buyer file that is not even YAML is indexed by its name, and its error shown."""
    buyers = tmp_path / "buyers"
    buyers.mkdir()
    (buyers / "broken.yaml").write_text("buyer: [broken\n")
    path = write(tmp_path, "campaign: c\nname: C\nmode: direct\nbuyers: [broken]\n")
    assert [(c, Path(f).name) for c, f in
            ((i.code, i.span.file if i.span else "") for i in check_campaign(path)[1])] == [
        ("LP314", "c.yaml"), ("LP101", "broken.yaml"),
    ]  # fmt: skip


def test_two_buyer_files_with_one_id(tmp_path: Path) -> None:
    """Two files declaring the same id cannot be told apart: LP312."""
    buyers = tmp_path / "buyers"
    buyers.mkdir()
    (buyers / "good.yaml").write_text(GOOD_BUYER)
    (buyers / "copy.yaml").write_text(GOOD_BUYER)
    path = write(tmp_path, "campaign: c\nname: C\nmode: direct\nbuyers: [good]\n")
    issue = only(path, None)
    assert issue.code == "LP312"
    assert issue.message.startswith("two buyer files say 'buyer: good': ")


def test_no_buyers_folder(tmp_path: Path) -> None:
    """Without a buyers folder beside or above the campaign, every buyer is unknown."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: direct\nbuyers: [good]\n")
    issue = only(path, None)
    assert issue.code == "LP314"
    assert "there is no 'buyers' folder" in issue.message


# -- settings ------------------------------------------------------------------------------------


def test_durations_and_floor(tmp_path: Path) -> None:
    """Bad durations are LP310, a bad floor LP204, each at its value."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: auction\nbuyers: [beacon-ping]\n"
                           "ping_deadline: soon\ntotal_deadline: 0s\nfloor: five\n")  # fmt: skip
    assert problems(path) == [
        ("LP310", 5, 16, "'soon' is not a duration"),
        ("LP204", 6, 17, "total_deadline must be longer than zero"),
        ("LP204", 7, 8, "'five' is not an amount of money"),
    ]


def test_the_pings_must_end_before_the_total_deadline(tmp_path: Path) -> None:
    """ping_deadline >= total_deadline is LP312 at ping_deadline."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: auction\nbuyers: [beacon-ping]\n"
                           "ping_deadline: 2s\ntotal_deadline: 2s\n")  # fmt: skip
    assert problems(path) == [
        ("LP312", 5, 16, "the ping deadline (2s) must be shorter than the total deadline (2s): "
                         "the post must fit after the pings"),
    ]  # fmt: skip


def test_a_floor_outside_an_auction_is_a_warning(tmp_path: Path) -> None:
    """floor means nothing without bids: a warning, and the campaign still compiles."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: direct\nbuyers: [harbor-mutual]\n"
                           "floor: '5'\n")  # fmt: skip
    plan, issues, _ = check_campaign(path, buyers_dir=BUYERS)
    assert plan is not None
    assert [(i.code, i.severity) for i in issues] == [("LP312", "warning")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "campaign: c\nname: C\nmode: direct\nbuyers: [harbor-mutual]\nfallbak: []\n",
            ("LP201", 5, 1, "unknown key 'fallbak'", "did you mean 'fallback'?"),
        ),
        (
            "campaign: c\nname: C\nmode: bidding\nbuyers: [harbor-mutual]\n",
            (
                "LP205",
                3,
                7,
                "unknown choice 'bidding' — expected one of: direct, waterfall, auction",
                None,
            ),
        ),
        (
            "campaign: c\nname: C\nmode: direct\nbuyers: [harbor-mutual, summit-crm]\n",
            ("LP204", 1, 1, "a direct campaign has exactly one contracted buyer", None),
        ),
        (
            "campaign: c\nname: C\nmode: waterfall\nbuyers: []\n",
            ("LP204", 4, 9, "a campaign needs at least one buyer", None),
        ),
    ],
    ids=["unknown-key", "unknown-mode", "direct-two-buyers", "no-buyers"],
)
def test_shape_errors_are_positioned(
    tmp_path: Path, text: str, expected: tuple[object, ...]
) -> None:
    """Validation problems carry a code, the line and column, and a hint where one helps."""
    issue = only(write(tmp_path, text))
    assert issue.span is not None
    assert (issue.code, issue.span.line, issue.span.col, issue.message, issue.hint) == expected


def test_load_campaign_raises_one_error_with_every_problem(tmp_path: Path) -> None:
    """AuthoringError lists every issue, each with the line and a caret."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: waterfall\nbuyers:\n  - nobody\n"
                           "total_deadline: later\n")  # fmt: skip
    with pytest.raises(AuthoringError) as caught:
        load_campaign(path, buyers_dir=BUYERS)
    assert [i.code for i in caught.value.issues] == ["LP314", "LP310"]
    assert "   5 |   - nobody\n" in caught.value.report()
    assert "   6 | total_deadline: later\n" in caught.value.report()


# -- validation ----------------------------------------------------------------------------------


def test_checks_switched_off_are_left_out_and_services_are_plans(tmp_path: Path) -> None:
    """'off' drops a check; a service is the integration plan of its file, run by the runtime."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: direct\nbuyers: [harbor-mutual]\n"
                           "validation:\n  phone: warn\n  email: off\n  disposable_email: off\n"
                           "  consent: off\n  services:\n    - integration: summit-crm\n"
                           "    - {integration: prairie-form, level: off}\n")  # fmt: skip
    plan = load_campaign(path, buyers_dir=BUYERS)
    assert [(c.name, c.level, c.check is None) for c in plan.checks] == [
        ("phone", "warn", False), ("service:summit-crm", "critical", True),
    ]  # fmt: skip
    service = plan.checks[1].service
    assert service is not None and service.buyer == "summit-crm"


def test_an_unknown_service_is_lp314(tmp_path: Path) -> None:
    """A service is found like a buyer, by its id."""
    path = write(tmp_path, "campaign: c\nname: C\nmode: direct\nbuyers: [harbor-mutual]\n"
                           "validation:\n  services:\n"
                           "    - integration: trustedform-check\n")  # fmt: skip
    assert problems(path)[0][:3] == ("LP314", 7, 20)


def test_the_suppression_file_is_read_relative_to_the_campaign(tmp_path: Path) -> None:
    """A missing file is LP313; a line that is no phone or email is a warning in that file."""
    text = ("campaign: c\nname: C\nmode: direct\nbuyers: [harbor-mutual]\n"
            "validation:\n  suppression: {file: ../dnc.txt}\n")  # fmt: skip
    path = write(tmp_path, text)
    assert problems(path) == [
        ("LP313", 6, 23, f"suppression file '../dnc.txt' cannot be read: not found (looked in "
                         f"{path.parent})"),
    ]  # fmt: skip
    (tmp_path / "dnc.txt").write_text("5125550142\nnobody\n")
    plan, issues, _ = check_campaign(path, buyers_dir=BUYERS)
    assert plan is not None and [c.name for c in plan.checks][-1] == "suppression"
    assert [
        (i.code, i.severity, Path(i.span.file).name, i.span.line) for i in issues if i.span
    ] == [
        ("LP204", "warning", "dnc.txt", 2),
    ]
    check = plan.checks[-1].check
    assert check is not None
    assert check({"lead": {"phone": "512-555-0142"}}) is not None

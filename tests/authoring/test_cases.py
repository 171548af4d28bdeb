"""``leadpost test``: embedded test cases, their PASS/FAIL lines, diffs and structured results."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.authoring import cases as casetest
from engine.cli import main
from tests.cli_kit import edit


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["test", *args])
    return code, capsys.readouterr().out


def test_all_cases_pass(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each case prints PASS with its position; the summary counts them; exit 0."""
    assert run(capsys, "acme.yaml") == (
        0,
        "PASS the ping carries state and ownership (acme.yaml:50)\n"
        "PASS the post carries the ping id and the contact (acme.yaml:54)\n"
        "PASS a lead without a birth date is refused (acme.yaml:59)\n"
        "PASS a bid is accepted with its price (acme.yaml:65)\n"
        "PASS a sale is accepted with the buyer's id (acme.yaml:69)\n"
        "5 passed, 0 failed\n",
    )


def test_body_difference_shows_a_json_diff(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A different body fails with a unified diff of the pretty-printed JSON; exit 1."""
    edit(ws, """'{"state":"TX","owner":"Y"}'""", """'{"state":"TX","owner":"N"}'""")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert (
        "FAIL the ping carries state and ownership (acme.yaml:50)\n"
        "    LP601 the request body differs from expect_body:\n"
        "    --- expected\n"
        "    +++ rendered\n"
        "    @@ -1,4 +1,4 @@\n"
        "     {\n"
        '       "state": "TX",\n'
        '    -  "owner": "N"\n'
        '    +  "owner": "Y"\n'
        "     }\n"
    ) in out
    assert out.endswith("4 passed, 1 failed\n")


def test_block_scalar_final_newline_is_forgiven(ws: Path) -> None:
    """expect_body written with `|` ends in a newline the rendered body does not have."""
    assert casetest.same_body(b'{"a":1}\n', b'{"a":1}')
    assert not casetest.same_body(b'{"a":1}\n\n', b'{"a":1}')
    assert not casetest.same_body(b'{"a":1}', b'{"a":1}\n')


def test_same_content_different_bytes() -> None:
    """When only spacing differs, the diff says so and compares the raw bytes."""
    diff = casetest.body_diff(b'{"a": 1}', b'{"a":1}')
    assert diff == (
        "same content, but the bytes differ (spacing, escaping or encoding):\n"
        '--- expected\n+++ rendered\n@@ -1 +1 @@\n-{"a": 1}\n+{"a":1}'
    )


@pytest.mark.parametrize(
    ("expected", "actual", "lines"),
    [
        (
            b"<a><b>1</b></a>",
            b"<a><b>2</b></a>",
            ["-  <b>1</b>", "+  <b>2</b>"],
        ),
        (b"x=1&y=2", b"x=1&y=3", ["-y = 2", "+y = 3"]),
        (b"OK\tdone", b"OK done", ["-OK\\tdone", "+OK done"]),
    ],
    ids=["xml", "form", "text-with-tab"],
)
def test_diff_layouts(expected: bytes, actual: bytes, lines: list[str]) -> None:
    """XML is pretty-printed, forms are split per field, other text shows invisible characters."""
    diff = casetest.body_diff(expected, actual).splitlines()
    for line in lines:
        assert line in diff


def test_expect_reject_other_reason(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lead refused for another reason than expect_reject says fails with both reasons."""
    edit(ws, "expect_reject: dob", "expect_reject: phone")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "FAIL a lead without a birth date is refused (acme.yaml:59)\n" in out
    assert "    LP602 the lead was refused, but not for 'phone': " in out


def test_expect_reject_but_rendered(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lead that renders although the case expects a refusal fails."""
    edit(ws, "if_missing: reject", "if_missing: omit")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "    LP602 expected the lead to be refused ('dob'), but it was rendered\n" in out


def test_outcome_and_values(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Outcome and extracted values are compared as text; each difference is listed."""
    edit(
        ws,
        "expect: {outcome: accepted, buyer_lead_id: A-1}",
        "expect: {outcome: rejected, buyer_lead_id: B-2, reason: no}",
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert (
        "FAIL a sale is accepted with the buyer's id (acme.yaml:69)\n"
        "    LP602 expected outcome rejected, got accepted\n"
        "    LP602 expected buyer_lead_id = B-2, got A-1\n"
        "    LP602 expected reason = no, but nothing was extracted\n"
    ) in out


@pytest.mark.parametrize(("price", "passes"), [("12.5", True), ("12.500", True), ("12.51", False)])
def test_price_compared_as_decimal(
    ws: Path, capsys: pytest.CaptureFixture[str], price: str, passes: bool
) -> None:
    """The price is compared as a number: 12.50 equals 12.5 and 12.500."""
    edit(ws, 'price: "12.5"', f'price: "{price}"')
    code, out = run(capsys, "acme.yaml")
    assert (code == 0) is passes
    if not passes:
        assert "    LP602 expected price = 12.51, got 12.50\n" in out


def test_invalid_test_lead(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A test lead that breaks the lead schema fails the case with the field's problem."""
    edit(
        ws, 'phone: "5125550142", address: {state: TX}', 'phone: "5125550142", address: {state: XX}'
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "    LP603 the test lead does not match the lead schema: lead.address.state" in out


def test_file_that_does_not_compile(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Compile errors are shown and the file counts as failed."""
    edit(ws, "[{phone: dashes}]", "[{phnoe: dashes}]")
    code, out = run(capsys, ".")
    assert code == 1
    assert out.startswith("acme.yaml:36:22: LP301 unknown transform 'phnoe'\n")
    assert out.endswith("0 passed, 0 failed; 1 file could not be compiled\n")


def test_secrets_read_as_their_reference(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ${env:NAME} of the file reads the text ${env:NAME}, even when the real secret is
    set: cases need no secrets and never depend on the machine they run on."""
    monkeypatch.setenv("ACME_TOKEN", "real")
    report = casetest.run_tests(["acme.yaml"])
    assert report.ok and report.passed == 5
    env = casetest.test_environ()
    assert env["ACME_TOKEN"] == "${env:ACME_TOKEN}"
    assert env["ACME_SOURCE"] == "${env:ACME_SOURCE}"


def test_structured_results(ws: Path) -> None:
    """run_tests returns per-file, per-case results for scripts."""
    edit(ws, "expect: {outcome: accepted, buyer_lead_id: A-1}", "expect: {outcome: rejected}")
    report = casetest.run_tests(["."])
    assert [f.file for f in report.files] == ["acme.yaml"]
    failed = [c for c in report.cases if not c.passed]
    assert [(c.name, c.where, [p.code for p in c.problems]) for c in failed] == [
        ("a sale is accepted with the buyer's id", "acme.yaml:69", ["LP602"])
    ]
    assert (report.passed, report.failed, report.ok) == (4, 1, False)


def test_unexpected_failure_in_a_case_is_reported(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case never crashes the run: an unexpected error becomes an LP603 failure."""

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(casetest, "render_request", broken)
    report = casetest.run_tests(["acme.yaml"])
    problems = [p.message for c in report.cases for p in c.problems]
    assert "the test could not run: encoder exploded" in problems


def test_non_buyer_files_are_skipped(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Folders may hold other kinds of files (campaigns): they have no test cases."""
    (ws / "camp.yaml").write_text("campaign: home\n")
    assert run(capsys, ".")[1].endswith("5 passed, 0 failed\n")

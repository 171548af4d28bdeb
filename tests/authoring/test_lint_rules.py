"""``leadpost lint``: compile problems and the semantic rules LP401–LP409, with pinned messages."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest

from engine.authoring import lint
from engine.authoring.rules import is_internal_host
from engine.cli import main
from engine.errors import Issue
from tests.cli_kit import edit


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["lint", *args])
    return code, capsys.readouterr().out


PING_FIELDS = "      state: lead.address.state\n"
POST_FIELDS = "      first_name: lead.first_name\n"
POST_RULES = "      rules:\n        - if: \"result == 'sold'\"\n"


def test_clean_file_passes(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A correct buyer file has no problems and exits 0."""
    assert run(capsys, "acme.yaml") == (0, "1 file checked: no problems found\n")


def test_inline_auth_token_is_an_error(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP401: an auth token written in the file is reported with a hint naming a variable."""
    edit(ws, "token: ${env:ACME_TOKEN}", "token: sk_live_123")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert out == (
        "acme.yaml:11:10: LP401 the auth token is written in the file; secrets must not be kept "
        "in buyer files\n"
        "  hint: write ${env:ACME_TOKEN} and set ACME_TOKEN where leadpost runs\n"
        "  11 |   token: sk_live_123\n"
        "                ^\n"
        "\n"
        "1 error, 0 warnings in 1 file\n"
    )


@pytest.mark.parametrize(
    ("header", "flagged"),
    [
        ("X-Api-Key: abc123", True),
        ("Authorization: Basic dXNlcjpwYXNz", True),
        ("X-Auth-Token: t0k3n", True),
        ("X-Api-Key: ${env:ACME_KEY}", False),
        ("X-Channel: web", False),
    ],
    ids=["api-key", "authorization", "token", "from-env", "not-secret-name"],
)
def test_secret_looking_headers(
    ws: Path, capsys: pytest.CaptureFixture[str], header: str, flagged: bool
) -> None:
    """LP401: headers whose name looks secret must read their value from the environment."""
    edit(ws, "      X-Source: ${env:ACME_SOURCE}\n", f"      {header}\n")
    code, out = run(capsys, "acme.yaml")
    assert ("LP401" in out) is flagged
    assert code == (1 if flagged else 0)


def test_secret_field_constant(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP401: a constant in a field named like a secret is flagged; other constants are not."""
    edit(
        ws, POST_FIELDS, POST_FIELDS + "      api_key: {value: abc}\n      channel: {value: web}\n"
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "acme.yaml:34:24: LP401 the field 'api_key' is written in the file" in out
    assert "write ${env:ACME_API_KEY}" in out
    assert out.count("LP401") == 1


def test_oauth_client_id_may_be_inline(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP401: an OAuth client id is not a secret; the client secret is."""
    edit(
        ws,
        "  type: bearer\n  token: ${env:ACME_TOKEN}\n",
        "  type: oauth2\n  token_url: https://auth.acme.example/token\n"
        "  client_id: leadpost-prod\n  client_secret: hunter2\n",
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "LP401 the auth client_secret is written in the file" in out
    assert out.count("LP401") == 1


def test_plain_http_in_production(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP402: production over http:// is an error; the test environment may use it."""
    edit(ws, "https://api.acme.example/v1", "http://api.acme.example/v1")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert (
        "acme.yaml:8:21: LP402 environment 'production' sends leads over plain http://, "
        "unencrypted\n  hint: use https:// in production; http:// is only for local testing"
    ) in out


def test_plain_http_off_this_machine_in_a_test_environment(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LP402: a test environment may use http:// only to 127.0.0.1 (the runtime refuses more)."""
    edit(ws, "http://127.0.0.1:9/acme", "http://sandbox.acme.example/acme")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert (
        "acme.yaml:7:15: LP402 environment 'test' sends leads over plain http://, unencrypted\n"
        "  hint: use https://, or http://127.0.0.1 for a buyer simulated on this machine"
    ) in out


def test_oauth_token_url_over_http_in_production(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LP402: the token endpoint a production environment uses must be https too."""
    edit(
        ws,
        "  type: bearer\n  token: ${env:ACME_TOKEN}\n",
        "  type: oauth2\n  token_url: http://auth.acme.example/token\n"
        "  client_id: leadpost\n  client_secret: ${env:ACME_SECRET}\n",
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "LP402 environment 'production' fetches tokens over plain http://" in out


def test_tls_off_in_production(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP403: production must check certificates; a test environment may skip it."""
    edit(
        ws,
        'production: {url: "https://api.acme.example/v1"}',
        'production: {url: "https://api.acme.example/v1", tls_verify: false}',
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "acme.yaml:8:64: LP403 environment 'production' does not check the buyer's TLS" in out


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/leads",
        "https://localhost:8443/",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://192.168.1.20/",
    ],
)
def test_internal_host_in_production(
    ws: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """LP404: production must not point into our own network (SSRF)."""
    edit(ws, "https://api.acme.example/v1", url)
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "LP404 environment 'production' points at" in out
    assert "a private or local address" in out


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("2130706433", True),
        ("0.0.0.0", True),
        ("fe80::1", True),
        ("8.8.8.8", False),
        ("api.acme.example", False),
    ],
)
def test_is_internal_host(host: str, internal: bool) -> None:
    """Loopback, private, link-local and unspecified addresses and localhost are internal."""
    assert is_internal_host(host) is internal


def test_pii_in_ping(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP405: a ping field reading a PII lead field is an error."""
    edit(ws, PING_FIELDS, PING_FIELDS + "      phone: lead.phone\n")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert (
        "acme.yaml:17:7: LP405 ping field 'phone' sends lead.phone, which identifies the consumer\n"
        "  hint: send personal details only in the post, once the buyer has won the lead; a ping "
        "may send a reduction of them that identifies no one: since, within, hash, age, "
        "birth_year, age_band, zip3, email_domain, area_code (e.g. transform: [age]), or a "
        "count/min/max/sum/any/all over a list"
    ) in out


@pytest.mark.parametrize(
    ("field", "reduction"),
    [
        ("lead.dob", "age"),
        ("lead.dob", "birth_year"),
        ("lead.phone", "area_code"),
        ("lead.first_name", "{hash: md5}"),
        ("lead.phone", "{hash: sha256}"),
    ],
)
def test_a_ping_may_send_a_reduction(
    ws: Path, capsys: pytest.CaptureFixture[str], field: str, reduction: str
) -> None:
    """Issue 13: a ping may send an age, a birth year, an area code, a domain, a hash."""
    line = f"      derived: {{from: {field}, transform: [{reduction}]}}\n"
    edit(ws, PING_FIELDS, PING_FIELDS + line)
    code, out = run(capsys, "acme.yaml")
    assert code == 0 and "LP405" not in out, out


CREDIT = "      credit:\n        from: attributes.credit\n        transform: [{translate: %s}]\n"


def test_translate_missing_choice_is_a_warning(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LP406: a translate map must cover every enum choice; warnings exit 0 unless --strict."""
    edit(ws, PING_FIELDS, PING_FIELDS + CREDIT % "{good: A, fair: B}")
    code, out = run(capsys, "acme.yaml")
    assert code == 0
    assert (
        "acme.yaml:19:33: warning LP406 field 'credit' translates attributes.credit but has no "
        "entry for 'poor'; leads with that value will be refused\n"
        "  hint: add the missing choices, a 'default', or 'unmapped: keep'"
    ) in out
    assert out.endswith("0 errors, 1 warning in 1 file\n")
    assert run(capsys, "--strict", "acme.yaml")[0] == 1


@pytest.mark.parametrize(
    "args",
    [
        "{map: {good: A, fair: B}, default: C}",
        "{map: {good: A}, unmapped: keep}",
        "{GOOD: A, Fair: B, poor: C}",
    ],
    ids=["default", "keep", "all-choices-any-case"],
)
def test_translate_covered(ws: Path, capsys: pytest.CaptureFixture[str], args: str) -> None:
    """LP406 is silent with a default, with unmapped: keep, or when every choice is mapped."""
    edit(ws, PING_FIELDS, PING_FIELDS + CREDIT % args)
    assert run(capsys, "acme.yaml") == (0, "1 file checked: no problems found\n")


def test_substring_rule_matching_failures(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP407: `contains: Success` also matches `{"Success": false}` — a warning."""
    edit(
        ws,
        POST_RULES,
        "      rules:\n        - contains: Success\n          outcome: accepted\n"
        "        - if: \"result == 'sold'\"\n",
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 0
    assert (
        "acme.yaml:42:21: warning LP407 'contains: Success' also matches failure responses" in out
    )


def test_accepting_an_error_status(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP408: a rule accepting a 4xx status is a warning pointing at the status."""
    edit(
        ws,
        POST_RULES,
        "      rules:\n        - status: 4xx\n          outcome: accepted\n"
        "        - if: \"result == 'sold'\"\n",
    )
    code, out = run(capsys, "acme.yaml")
    assert code == 0
    assert "acme.yaml:42:19: warning LP408 this rule accepts the lead when the buyer answers" in out


def test_stage_without_rules(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LP409: no rules and otherwise != accepted means every response is an error."""
    edit(ws, "        - if: \"status == 'bid'\"\n          outcome: accepted\n", "        []\n")
    edit(ws, "      rules:\n        []\n", "      rules: []\n")
    code, out = run(capsys, "acme.yaml")
    assert code == 0
    assert (
        "warning LP409 the ping stage has no response rules: every response will be an error"
    ) in out
    edit(ws, "      rules: []\n", "      otherwise: accepted\n")
    assert run(capsys, "acme.yaml")[1] == "1 file checked: no problems found\n"


def test_compile_errors_are_reported(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lint reports load, validation and compile problems with positions too."""
    edit(ws, "[{phone: dashes}]", "[{phnoe: dashes}]")
    code, out = run(capsys, "acme.yaml")
    assert code == 1
    assert "acme.yaml:36:22: LP301 unknown transform 'phnoe'" in out
    assert "did you mean 'phone'?" in out


def test_yaml_syntax_error(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not valid YAML is reported, and the other files are still checked."""
    (ws / "broken.yaml").write_text("buyer: x\n  name: [oops\n")
    code, out = run(capsys, ".")
    assert code == 1
    assert "broken.yaml:" in out and "LP101" in out
    assert out.endswith("1 error, 0 warnings in 2 files\n")


def test_folder_skips_lead_schema_and_flags_unknown_files(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Folders: every *.yaml but lead-schema.yaml; a file of no known kind is an error."""
    (ws / "notes.yaml").write_text("title: not a buyer\n")
    code, out = run(capsys, ".")
    assert code == 1
    assert out == (
        "notes.yaml:1:1: LP202 leadpost does not know what kind of file this is: it has no "
        "'buyer:' or 'campaign:' key\n"
        "  hint: a buyer file starts with 'buyer: <id>', a campaign file with 'campaign: <id>'\n"
        "   1 | title: not a buyer\n"
        "       ^\n"
        "\n"
        "1 error, 0 warnings in 2 files\n"
    )


def test_registered_linter_handles_its_kind(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other file kinds plug in through lint.LINTERS, keyed by their top-level key."""
    seen: list[Path] = []

    def lint_campaign(doc: object, path: Path, options: lint.LintOptions) -> list[Issue]:
        seen.append(path)
        return []

    monkeypatch.setitem(lint.LINTERS, "campaign", lint_campaign)
    (ws / "camp.yaml").write_text("campaign: home\n")
    assert run(capsys, "camp.yaml") == (0, "1 file checked: no problems found\n")
    assert seen == [Path("camp.yaml")]


def test_github_format(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format github prints workflow commands GitHub shows as annotations."""
    edit(ws, "token: ${env:ACME_TOKEN}", "token: sk_live_123")
    edit(ws, PING_FIELDS, PING_FIELDS + CREDIT % "{good: A}")
    code, out = run(capsys, "--format", "github", "acme.yaml")
    assert code == 1
    assert out.splitlines() == [
        "::error file=acme.yaml,line=11,col=10,title=LP401::the auth token is written in the "
        "file; secrets must not be kept in buyer files%0Ahint: write ${env:ACME_TOKEN} and set "
        "ACME_TOKEN where leadpost runs",
        "::warning file=acme.yaml,line=19,col=33,title=LP406::field 'credit' translates "
        "attributes.credit but has no entry for 'fair', 'poor'; leads with that value will be "
        "refused%0Ahint: add the missing choices, a 'default', or 'unmapped: keep'",
        "1 error, 1 warning in 1 file",
    ]


def test_lint_paths_returns_reports(ws: Path) -> None:
    """The library API returns one FileReport per file, for scripts."""
    edit(ws, "token: ${env:ACME_TOKEN}", "token: sk_live_123")
    [report] = lint.lint_paths(["acme.yaml"])
    assert report.file == "acme.yaml"
    assert [i.code for i in report.errors] == ["LP401"]
    assert report.failed() and report.failed(strict=True)


def test_folder_skips_other_tools_files(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sandbox.yaml found in a folder belongs to another tool and is skipped."""
    (ws / "sandbox.yaml").write_text("seed: 1\nbuyers: []\n")
    assert run(capsys, ".") == (0, "1 file checked: no problems found\n")


def test_a_buyers_spec_in_yaml_is_not_linted_as_an_unknown_file(tmp_path: Path) -> None:
    """An OpenAPI document beside the buyer files is skipped in a folder; named on its own it is
    reported with a hint saying what it is."""
    from engine.authoring.lint import lint_paths

    spec = tmp_path / "specs" / "acme.openapi.yaml"
    spec.parent.mkdir()
    spec.write_text("openapi: 3.1.0\ninfo: {title: Acme, version: '1'}\npaths: {}\n")
    assert lint_paths([tmp_path]) == []
    (named,) = lint_paths([spec])
    assert [i.code for i in named.issues] == ["LP202"]
    assert "this is a buyer's spec" in (named.issues[0].hint or "")


def test_many_files_are_linted_in_worker_processes_with_the_same_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From PARALLEL_FROM files on, lint runs in worker processes; the reports are the same as
    one process gives, in the same order (spec checks left out here to keep it quick)."""
    from tests.paths import FIXTURES

    folder = FIXTURES / "contract"
    options = lint.LintOptions(examples=0)
    serial = lint.lint_paths([folder], options)
    assert len(serial) > 2
    pools: list[int] = []

    class Pool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, max_workers: int) -> None:
            pools.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    monkeypatch.setattr(lint, "PARALLEL_FROM", 2)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert lint.lint_paths([folder], options) == serial
    assert pools == [2]

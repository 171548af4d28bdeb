"""LP401 judges a constant by its leaf name and its value, not by any word in its full name."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.authoring.secrets import entropy, is_public, leaf_name, looks_secret
from engine.cli import main
from tests.cli_kit import edit

WSSE = "soap:Header.wsse:Security.wsse:UsernameToken"
TEXT_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        (f"{WSSE}.wsse:Username", "leadpost-partner", False),
        (f"{WSSE}.wsse:Password.@Type", TEXT_TYPE, False),
        (f"{WSSE}.wsse:Password", "hunter2", True),
        (f"{WSSE}.wsse:Password", TEXT_TYPE, False),
        ("api_key", "abc", True),
        ("Auth.ApiKey", "abc", True),
        ("X-Auth-Token", "t0k3n", True),
        ("Authorization", "Basic dXNlcjpwYXNz", True),
        ("X-Channel", "web", False),
        ("token_type", "bearer", False),
        ("keyword", "life insurance", False),
        ("partner.key_id", "k-1", False),
        ("partner.key_id", "sk_live_4f9a8b7c6d5e4f3a", True),
        ("PublicKey.Uri", "https://keys.example.com/partner.pem", False),
        ("callback_token_url", "https://x.example/cb?token=4f9a8b7c6d5e4f3a2b1c", True),
    ],
    ids=[
        "wsse-username",
        "wsse-password-type",
        "wsse-password",
        "password-holding-a-public-uri",
        "api-key",
        "camel-api-key",
        "header-token",
        "authorization",
        "plain-header",
        "token-type-word",
        "keyword-text",
        "short-key-id",
        "random-under-key-name",
        "public-uri",
        "uri-with-a-query",
    ],
)
def test_looks_secret(name: str, value: str, secret: bool) -> None:
    """A credential leaf is a secret unless the value is public; a name merely containing a
    secret word needs a random-looking value; public URIs and constants never are."""
    assert looks_secret(name, value) is secret


def test_the_leaf_drops_parents_prefixes_attributes_and_positions() -> None:
    assert leaf_name(f"{WSSE}.wsse:Password.@Type") == "Type"
    assert leaf_name("phones[0]") == "phones"
    assert leaf_name("Password") == "Password"


def test_public_values() -> None:
    """URIs with credentials or a query may carry secrets; the WSS constants are public."""
    assert is_public(TEXT_TYPE) and is_public("PasswordDigest") and is_public("urn:x:y")
    assert not is_public("https://user:pw@x.example/") and not is_public("hunter2")


@given(name=st.text(max_size=40), value=st.text(max_size=80))
def test_any_name_and_value_give_a_verdict(name: str, value: str) -> None:
    """The rule never fails, whatever is written; an ``${env:…}`` value is handled before it."""
    assert looks_secret(name, value) in (True, False)
    assert entropy(value) >= 0


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["lint", *args])
    return code, capsys.readouterr().out


POST_FIELDS = "      first_name: lead.first_name\n"


def test_a_ws_security_header_written_as_fields_is_judged_per_leaf(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The username and the Type URI pass; the password itself is LP401 at its value."""
    added = (
        f"      {WSSE}.wsse:Username: {{value: partner-7}}\n"
        f"      {WSSE}.wsse:Password: {{value: hunter2}}\n"
        f"      {WSSE}.wsse:Password.@Type: {{value: '{TEXT_TYPE}'}}\n"
    )
    edit(ws, POST_FIELDS, POST_FIELDS + added)
    code, out = lint(capsys, "acme.yaml")
    assert code == 1
    assert out.count("LP401") == 1
    assert f"LP401 the field '{WSSE}.wsse:Password' is written in the file" in out
    assert (
        "hint: write ${env:ACME_PASSWORD} and set ACME_PASSWORD where leadpost runs (if it is "
        "not a secret, write 'secret: false' in the field)"
    ) in out


@pytest.mark.parametrize(("mark", "flagged"), [("false", False), ("true", True)])
def test_secret_key_settles_a_field(
    ws: Path, capsys: pytest.CaptureFixture[str], mark: str, flagged: bool
) -> None:
    """``secret: false`` clears a constant the rule would flag; ``secret: true`` flags one it
    would not."""
    added = (
        f"      partner_token: {{value: not-a-secret, secret: {mark}}}\n"
        f"      Pin: {{value: '4821', secret: {mark}}}\n"
    )
    edit(ws, POST_FIELDS, POST_FIELDS + added)
    code, out = lint(capsys, "acme.yaml")
    assert out.count("LP401") == (2 if flagged else 0), out
    assert code == (1 if flagged else 0)

"""``leadpost lint`` and addresses: the runtime's policy (LP404, LP410, LP411) and readable,
credential-free URLs (LP412, LP413), with pinned messages and positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from tests.cli_kit import edit

PROD = 'production: {url: "https://api.acme.example/v1"}'
TEST = 'test: {url: "http://127.0.0.1:9/acme"}'


def run(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["lint", "acme.yaml"])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("https://0x7f000001/", "loopback"),
        ("https://0177.0.0.1/", "loopback"),
        ("https://127.000.000.001/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://100.64.1.1/", "carrier-grade NAT"),
        ("https://[fd00:ec2::254]/", "metadata"),
    ],
)
def test_every_spelling_of_an_internal_address_is_lp404(
    ws: Path, capsys: pytest.CaptureFixture[str], url: str, what: str
) -> None:
    edit(ws, "https://api.acme.example/v1", url)
    code, out = run(capsys)
    assert code == 1 and "LP404 environment 'production' points at" in out and what in out


def test_an_unclosed_bracket_is_a_positioned_problem(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`https://[::1` once crashed; now LP204 says the host cannot be read."""
    edit(ws, "https://api.acme.example/v1", "https://[::1")
    code, out = run(capsys)
    assert code == 1
    assert (
        "acme.yaml:8:21: LP204 'https://[::1' is not a web address: its host or port cannot be"
        " read (Invalid IPv6 URL)" in out
    )


def test_an_unusual_spelling_is_named_with_its_address(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(ws, TEST, 'test: {url: "https://0x0a000001/acme", allow_private: true}')
    code, out = run(capsys)
    assert code == 1
    assert (
        "LP413 environment 'test' sends leads at '0x0a000001', an unusual spelling of the"
        " address 10.0.0.1" in out
    )
    assert "LP410" not in out


def test_a_private_test_address_needs_allow_private(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """LP410 names the key to write; with it, the file is clean. Plain http to loopback needs
    nothing (the fixture's own test environment)."""
    edit(ws, TEST, 'test: {url: "https://10.0.0.5/acme"}')
    code, out = run(capsys)
    assert code == 1
    assert (
        "LP410 environment 'test' sends leads at 10.0.0.5, which leadpost refuses to connect to"
        " (10.0.0.5 is a private network address)" in out
    )
    assert "write 'allow_private: true' under environments.test" in out
    edit(
        ws,
        'test: {url: "https://10.0.0.5/acme"}',
        'test: {url: "https://10.0.0.5/acme", allow_private: true}',
    )
    assert run(capsys)[0] == 0


def test_metadata_is_refused_even_with_allow_private(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(ws, TEST, 'test: {url: "https://169.254.169.254/", allow_private: true}')
    code, out = run(capsys)
    assert code == 1 and "LP410" in out and "use the buyer's public host name" in out


def test_allow_private_in_production_is_flagged(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(ws, PROD, 'production: {url: "https://api.acme.example/v1", allow_private: true}')
    code, out = run(capsys)
    assert code == 1
    assert "acme.yaml:8:67: LP411 environment 'production' says allow_private" in out


def test_credentials_in_a_url_are_flagged(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(ws, "https://api.acme.example/v1", "https://user:pass@api.acme.example/v1")
    code, out = run(capsys)
    assert code == 1
    assert (
        "LP412 environment 'production' sends leads at an address with a user name or"
        " password in it" in out
    )

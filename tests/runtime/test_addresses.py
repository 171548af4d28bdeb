"""The address policy: one function judging the address dialled, and the URL host reader of lint."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.plan import EnvironmentPlan
from engine.runtime.addresses import (
    PRIVATE_ALLOWED,
    PUBLIC_ONLY,
    BadURL,
    check_for,
    host_refusal,
    read_ipv4,
    refusal,
    url_host,
)

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "::1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "fd12:3456::1": "private",
    "169.254.1.1": "link-local",
    "fe80::1%eth0": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "reserved",
    "169.254.169.254": "metadata",
    "fd00:ec2::254": "metadata",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "metadata",
    "::ffff:0:127.0.0.1": "loopback",  # IPv4-translated
    "64:ff9b::7f00:1": "loopback",  # NAT64
    "64:ff9b::a9fe:a9fe": "metadata",
    "2002:7f00:1::": "loopback",  # 6to4
    "::127.0.0.1": "loopback",  # IPv4-compatible
}


@pytest.mark.parametrize(("address", "word"), REFUSED.items(), ids=list(REFUSED))
def test_refused_addresses_say_what_they_are(address: str, word: str) -> None:
    """Each refused kind is named in plain words, after 'address not allowed'."""
    reason = refusal(address)
    assert reason is not None and reason.startswith("address not allowed: ") and word in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


def test_allow_private_lets_local_networks_through_but_never_metadata() -> None:
    """allow_private opens loopback, private, link-local and CGNAT; metadata, unspecified,
    multicast and reserved stay refused."""
    for ok in ("127.0.0.1", "::1", "10.0.0.1", "100.64.0.1", "169.254.1.1", "::ffff:127.0.0.1"):
        assert refusal(ok, allow_private=True) is None, ok
    for bad in ("169.254.169.254", "fd00:ec2::254", "0.0.0.0", "224.0.0.1", "240.0.0.1"):
        assert refusal(bad, allow_private=True) is not None, bad


def test_not_an_address_is_refused_not_raised() -> None:
    assert refusal("not-an-ip") == "'not-an-ip' is not an IP address"


ipv4s = st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1))


def _spellings(ip: ipaddress.IPv4Address) -> list[str]:
    """Ways a C resolver reads the same IPv4 address."""
    n = int(ip)
    a, b, c, d = ip.packed
    return [
        str(ip),
        str(n),
        hex(n),
        f"0{n:o}",
        f"{a}.{b}.{c}.{d}",
        f"{a:03d}.{b:03d}.{c:03d}.{d:03d}" if max(a, b, c, d) < 8 else f"{a}.{b}.{c}.{d}",
        f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",
        f"{hex(a)}.{hex(b)}.{hex(c)}.{hex(d)}",
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"{a}.{b}.{(c << 8) | d}",
    ]


@given(ipv4s)
def test_every_ipv4_spelling_is_judged_like_the_address(ip: ipaddress.IPv4Address) -> None:
    """Decimal, octal, hex, short forms and IPv4-mapped IPv6: the same verdict as the dotted
    address, in a URL too."""
    expected = refusal(str(ip)) is None
    for spelling in _spellings(ip):
        assert read_ipv4(spelling) == ip, spelling
        host = url_host(f"https://{spelling}/x")
        assert host is not None and host.ip == ip, spelling
        assert (host_refusal(host) is None) == expected, spelling
    mapped = url_host(f"https://[::ffff:{ip}]:443/")
    assert mapped is not None and mapped.ip is not None
    assert (host_refusal(mapped) is None) == expected


@given(st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1)))
def test_any_ipv6_address_gets_a_verdict_and_mapped_forms_follow_ipv4(
    ip: ipaddress.IPv6Address,
) -> None:
    """Every IPv6 address gets a verdict (never an exception); a mapped one is refused
    whenever its IPv4 address is."""
    verdict = refusal(str(ip))
    if ip.ipv4_mapped is not None and refusal(str(ip.ipv4_mapped)) is not None:
        assert verdict is not None


@given(st.text(max_size=40))
def test_any_url_gives_a_host_or_our_error(text: str) -> None:
    """Any text: a host, None, or BadURL with a column inside the text — never another error."""
    try:
        host = url_host(text)
    except BadURL as exc:
        assert 0 <= exc.column <= len(text)
    else:
        if host is not None:
            host_refusal(host)


@pytest.mark.parametrize(
    "url",
    [
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://127.000.000.001/",
        "https://2130706433/",
        "https://127.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::1]:8443/",
        "https://LOCALHOST./",
        "https://api.localhost/",
        "https://0.0.0.0/",
    ],
)
def test_lint_spellings_of_this_machine_are_refused(url: str) -> None:
    host = url_host(url)
    assert host is not None and host_refusal(host) is not None


def test_unusual_spellings_are_marked_as_such() -> None:
    spelled = url_host("https://0177.0.0.1/")
    plain = url_host("https://127.0.0.1/")
    assert spelled is not None and not spelled.canonical
    assert plain is not None and plain.canonical


@pytest.mark.parametrize(
    ("url", "column"),
    [("https://[::1", 8), ("https://[::1]:port/", 8), ("  https://[zz::1]/", 10)],
)
def test_unreadable_hosts_are_bad_urls_with_a_column(url: str, column: int) -> None:
    with pytest.raises(BadURL) as caught:
        url_host(url)
    assert caught.value.column == column


@pytest.mark.parametrize(
    ("env", "check"),
    [
        (EnvironmentPlan("production", "https://api.example"), PUBLIC_ONLY),
        (EnvironmentPlan("production", "https://api.example", allow_private=True), PUBLIC_ONLY),
        (EnvironmentPlan("prod-east", "http://127.0.0.1:9"), PUBLIC_ONLY),
        (EnvironmentPlan("staging", "https://10.0.0.5"), PUBLIC_ONLY),
        (EnvironmentPlan("staging", "https://10.0.0.5", allow_private=True), PRIVATE_ALLOWED),
        (EnvironmentPlan("test", "http://127.0.0.1:8701/x"), PRIVATE_ALLOWED),
        (EnvironmentPlan("test", "http://localhost:8701/x"), PRIVATE_ALLOWED),
        (EnvironmentPlan("test", "https://127.0.0.1:8701/x"), PUBLIC_ONLY),
    ],
    ids=[
        "prod",
        "prod-allow-ignored",
        "prod-http-loopback",
        "staging",
        "staging-allowed",
        "simulated",
        "simulated-localhost",
        "https-loopback-needs-allow",
    ],
)
def test_the_check_of_an_environment(env: EnvironmentPlan, check: object) -> None:
    """Production: public only, whatever it says. Elsewhere: public only unless allow_private or
    plain http:// to a buyer simulated on loopback."""
    assert check_for(env) is check

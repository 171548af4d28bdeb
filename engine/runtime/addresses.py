"""Which network addresses a buyer or token host may be reached at: one policy, for lint and run.

:func:`refusal` judges one IP address, the one actually dialled (after DNS), and says in plain
words why it is refused, or None. Lint judges the host written in a URL with the same function
(:func:`url_host` reads every spelling a resolver accepts, e.g. ``0x7f000001`` or ``0177.0.0.1``),
and the runtime applies it to every socket it opens (:func:`check_for` builds the check for one
environment). Nothing here does I/O.

The standard library's :mod:`ipaddress` knows the ranges (loopback, private, link-local, CGNAT,
multicast, reserved); written here is only what it lacks: unwrapping IPv6 forms that carry an IPv4
address (mapped, translated, 6to4, NAT64, IPv4-compatible) and the cloud metadata addresses.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.plan import EnvironmentPlan

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

#: A connect-time check: the reason an address (as dialled) is refused, or None.
Check = Callable[[str], str | None]

_METADATA = {
    ipaddress.ip_address("169.254.169.254"): "a cloud metadata address",  # AWS, GCP, Azure …
    ipaddress.ip_address("fd00:ec2::254"): "a cloud metadata address",  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"): "a cloud metadata address",  # Alibaba Cloud
}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated
_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible (::a.b.c.d)

_PRODUCTION = re.compile(r"^(?:production|prod|live)(?:[-_ .].*)?$", re.IGNORECASE)


def is_production(name: str) -> bool:
    """True for an environment named like production: ``production``, ``prod``, ``live`` …"""
    return _PRODUCTION.match(name) is not None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, translated, 6to4, NAT64, IPv4-
    compatible), or None. A dual-stack socket dialling one of these reaches the IPv4 address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    packed = ip.packed
    if ip in _TRANSLATED or any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(packed[-4:])
    if ip in _COMPATIBLE and int(ip) > 1:  # :: and ::1 are judged as themselves
        return ipaddress.IPv4Address(packed[-4:])
    return None


def _kind(ip: IP) -> tuple[str, bool] | None:
    """(what the address is, whether ``allow_private`` lets it through), or None when public."""
    if ip in _METADATA:
        return _METADATA[ip], False
    if ip.is_unspecified:
        return "the unspecified address (it reaches this machine)", False
    if ip.is_loopback:
        return "a loopback address (this machine)", True
    if ip.is_multicast:
        return "a multicast address", False
    if ip.is_reserved:
        return "a reserved address", False
    if ip.is_link_local:
        return "a link-local address", True
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)", True
    if ip.is_private:
        return "a private network address", True
    if not ip.is_global:
        return "an address not routed on the internet", False
    return None


def parse_ip(address: str) -> IP | None:
    """An IP address as sockets report it (an IPv6 zone such as ``%eth0`` allowed), or None."""
    try:
        return ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None


def refusal(address: str, *, allow_private: bool = False) -> str | None:
    """Why leadpost must not connect to ``address`` (an IP address as dialled), in plain words,
    or None when it may. Private, loopback, link-local and CGNAT addresses pass when
    ``allow_private``; metadata, unspecified, multicast and reserved addresses never do. An
    IPv6 address carrying an IPv4 address is judged by that IPv4 address."""
    ip = parse_ip(address)
    if ip is None:
        return f"{address!r} is not an IP address"
    judged: list[IP] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        bare = ipaddress.IPv6Address(str(ip).split("%", 1)[0]) if ip.scope_id else ip
        inner = _embedded_ipv4(bare)
        judged = [bare] if inner is None else [inner]  # a socket dialling it reaches the IPv4
        if inner is not None and bare in _COMPATIBLE:
            judged.append(bare)  # ::a.b.c.d is not routed at all: refused as reserved too
    for candidate in judged:
        found = _kind(candidate)
        if found is not None and not (allow_private and found[1]):
            what, _ = found
            shown = str(ip) if candidate is ip else f"{ip} (that is {candidate})"
            return f"address not allowed: {shown} is {what}"
    return None


# -- reading the host of a URL (lint) -------------------------------------------------------------

_IPV4_LIKE = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}\.?$")


@dataclass(frozen=True, slots=True)
class Host:
    """The host written in a URL: its text, the IP address it spells (None for a name), and
    whether the spelling is the usual one (``127.0.0.1``, not ``0177.0.0.1`` or ``2130706433``)."""

    text: str
    ip: IP | None
    canonical: bool = True


class BadURL(ValueError):
    """A URL whose host cannot be read; ``column`` is the 0-based offset of the trouble."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


def read_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``text`` spells for the C library's resolver (``inet_aton``): dotted,
    with 1–4 parts, each decimal, octal (leading 0) or hex (0x), e.g. ``0x7f000001``,
    ``0177.0.0.1``, ``127.1``, ``2130706433``. None when it is not such a spelling."""
    if not _IPV4_LIKE.match(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text.rstrip(".")))
    except (OSError, ValueError):
        return None


def url_host(url: str) -> Host | None:
    """The host of ``url`` read the way a resolver would, or None when there is none (e.g. a
    template). Raises :class:`BadURL` (with the column) for an unreadable host or port."""
    text = url.strip()
    lead = len(url) - len(url.lstrip())
    try:
        parts = urlsplit(text)
        raw = parts.hostname
        _ = parts.port
    except ValueError as exc:
        column = lead + max(text.find("["), 0) if "[" in text else lead
        raise BadURL(f"the host or port cannot be read ({exc})", column) from exc
    if not raw:
        return None
    name = raw.rstrip(".")
    v4 = read_ipv4(name)
    if v4 is not None:
        return Host(raw, v4, canonical=str(v4) == name)
    ip = parse_ip(name) if ":" in name else None
    if ":" in name and ip is None:
        raise BadURL(f"'{raw}' is not a valid IPv6 address", lead + max(text.find(raw), 0))
    return Host(raw, ip)


def host_refusal(host: Host, *, allow_private: bool = False) -> str | None:
    """:func:`refusal` for a host written in a URL: a literal address judged as such, and the
    names every resolver sends to this machine (``localhost``, ``*.localhost``)."""
    if host.ip is not None:
        return refusal(str(host.ip), allow_private=allow_private)
    name = host.text.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return None if allow_private else f"address not allowed: {name} is this machine"
    return None


# -- the connect-time check of one environment ----------------------------------------------------


def simulated(url: str) -> bool:
    """An environment address in plain http:// to this machine: a buyer simulated on loopback
    (the rule lint's LP402 already applies)."""
    text = url.strip()
    if not text.lower().startswith("http://"):
        return False
    try:
        host = url_host(text)
    except BadURL:
        return False
    if host is None:
        return False
    if host.ip is not None:
        return host.ip.is_loopback
    return host.text.rstrip(".").lower() == "localhost"


#: The two checks there are (kept as constants: clients are shared by equal checks).
PUBLIC_ONLY: Check = refusal
PRIVATE_ALLOWED: Check = functools.partial(refusal, allow_private=True)


def check_for(environment: EnvironmentPlan) -> Check:
    """The address check for every connection made for ``environment``: in production, and in
    any environment that does not say ``allow_private: true`` (or post over http:// to a buyer
    simulated on loopback), only public addresses."""
    if is_production(environment.name):
        return PUBLIC_ONLY
    if environment.allow_private or simulated(environment.url):
        return PRIVATE_ALLOWED
    return PUBLIC_ONLY

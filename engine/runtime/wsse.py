"""WS-Security UsernameToken headers, made for each send and put into the SOAP envelope.

OASIS Web Services Security UsernameToken Profile 1.0/1.1: the header carries the user name and
either the password as text (``#PasswordText``) or ``Base64(SHA-1(nonce + created + password))``
(``#PasswordDigest``) with the random nonce (Base64) and the creation time it was made with,
optionally a ``wsu:Timestamp``. The nonce and the time change with every request, so the header
cannot be part of the compiled body: :func:`secure` adds it to each rendered body, just inside
the envelope (into the envelope's own ``Header`` when the buyer file fills one). Randomness and
time come from ``RenderContext.stamp``: the runtime's :class:`ClockStamp` (its clock, and
``secrets.token_bytes`` unless a test gives other bytes), or the system's outside a runtime.

Written by hand because it is a dozen elements and one hash: the SOAP clients that build it
(zeep, suds) come with a whole WSDL toolkit, and the tests check this output against zeep's.

Secrets: a masked render (``leadpost render``, explain) shows the password as its
``${env:NAME}`` reference, and :func:`shown` hides the password (or digest) in a body about to
be logged.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final
from xml.sax.saxutils import escape

from engine.clock import Clock, SystemClock
from engine.errors import MappingError
from engine.plan import (
    IntegrationPlan,
    RenderContext,
    RequestPlan,
    SoapEnvelope,
    StagePlan,
    Stamp,
    Template,
    WsseAuth,
)

WSSE_NS: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PROFILE: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
)
PASSWORD_TEXT: Final = _PROFILE + "#PasswordText"
PASSWORD_DIGEST: Final = _PROFILE + "#PasswordDigest"
BASE64_BINARY: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
HIDDEN: Final = "***"


class ClockStamp:
    """A nonce from ``random_bytes`` (cryptographically random by default: a nonce must not be
    guessable) and the time of ``clock``, so a fake clock pins ``Created`` too."""

    __slots__ = ("_clock", "_random_bytes")

    def __init__(
        self, clock: Clock, random_bytes: Callable[[int], bytes] = secrets.token_bytes
    ) -> None:
        self._clock = clock
        self._random_bytes = random_bytes

    def nonce(self) -> bytes:
        found = self._random_bytes(16)
        if len(found) != 16:
            raise ValueError(f"random_bytes(16) gave {len(found)} bytes")
        return found

    def now(self) -> datetime:
        return self._clock.wall()


#: Outside a runtime (render, explain, test cases): the system's clock and ``secrets``.
SYSTEM_STAMP: Final = ClockStamp(SystemClock())


def created_text(moment: datetime) -> str:
    """A ``wsu:Created`` time: UTC with milliseconds, ``2024-12-15T14:30:00.000Z``."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """``Base64(SHA-1(nonce + created + password))``: the nonce as raw bytes, the two texts
    as UTF-8 (UsernameToken Profile 1.1, section 3.1)."""
    digest = hashlib.sha1(nonce + created.encode("utf-8") + password.encode("utf-8"))
    return base64.b64encode(digest.digest()).decode("ascii")


#: Characters XML 1.0 cannot carry: dropped from a user name or password text.
_FORBIDDEN: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(template: Template, environ: Mapping[str, str], mask: bool) -> str:
    if mask:
        return template.masked()
    try:
        return template.resolve(environ)
    except KeyError as exc:
        raise MappingError(f"environment variable {exc.args[0]} is not set") from None


def _xml_text(text: str) -> str:
    """Text as XML character data: escaped, characters XML cannot carry removed."""
    return escape(_FORBIDDEN.sub("", text))


def security_header(
    auth: WsseAuth,
    envelope: SoapEnvelope,
    environ: Mapping[str, str],
    stamp: Stamp,
    *,
    mask: bool = False,
) -> str:
    """The ``wsse:Security`` element for one request (``mask``: secrets as references)."""
    username = _xml_text(_text(auth.username, environ, mask))
    password = _text(auth.password, environ, mask)
    now = stamp.now()
    created = created_text(now)
    parts = [f'<wsse:Security xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}"']
    if auth.must_understand:
        if envelope.prefix:
            parts.append(f' {envelope.prefix}:mustUnderstand="1">')
        else:
            parts.append(f' xmlns:soapenv="{envelope.namespace}" soapenv:mustUnderstand="1">')
    else:
        parts.append(">")
    if auth.timestamp is not None:
        expires = created_text(now + timedelta(seconds=auth.timestamp))
        parts.append(
            f"<wsu:Timestamp><wsu:Created>{created}</wsu:Created>"
            f"<wsu:Expires>{expires}</wsu:Expires></wsu:Timestamp>"
        )
    parts.append(f"<wsse:UsernameToken><wsse:Username>{username}</wsse:Username>")
    if auth.digest:
        nonce = stamp.nonce()
        shown = (
            f"Base64(SHA-1(nonce + created + {password}))"
            if mask
            else password_digest(nonce, created, password)
        )
        parts.append(
            f'<wsse:Password Type="{PASSWORD_DIGEST}">{_xml_text(shown)}</wsse:Password>'
            f'<wsse:Nonce EncodingType="{BASE64_BINARY}">'
            f"{base64.b64encode(nonce).decode('ascii')}</wsse:Nonce>"
            f"<wsu:Created>{created}</wsu:Created>"
        )
    else:
        text = _xml_text(password)
        parts.append(f'<wsse:Password Type="{PASSWORD_TEXT}">{text}</wsse:Password>')
    parts.append("</wsse:UsernameToken></wsse:Security>")
    return "".join(parts)


def insert_header(body: bytes, envelope: SoapEnvelope, element: str) -> bytes:
    """``body`` with ``element`` first inside the envelope's Header (made when missing).

    The encoder escapes ``>`` in attribute values, so the first ``>`` after the root's name ends
    its start tag."""
    codec = envelope.codec
    root = f"<{envelope.root}".encode(codec)
    start = body.find(root)
    end = body.find(b">", start)
    if start < 0 or end < 0:
        raise MappingError("the SOAP envelope could not be found in the body")
    header = f"{envelope.prefix}:Header" if envelope.prefix else "Header"
    piece = element.encode(codec, "xmlcharrefreplace")
    if body[end - 1 : end] == b"/":  # an empty envelope: <soap:Envelope .../>
        close = (
            f"><{header}>".encode(codec) + piece + f"</{header}></{envelope.root}>".encode(codec)
        )
        return body[: end - 1] + close + body[end + 1 :]
    at = end + 1
    opening = f"<{header}".encode(codec)
    if body.startswith(opening, at) and body[at + len(opening) : at + len(opening) + 1] in (
        b">",
        b" ",
        b"/",
    ):
        head_end = body.find(b">", at)
        if body[head_end - 1 : head_end] == b"/":  # <soap:Header/>
            filled = b">" + piece + f"</{header}>".encode(codec)
            return body[: head_end - 1] + filled + body[head_end + 1 :]
        return body[: head_end + 1] + piece + body[head_end + 1 :]
    wrapped = f"<{header}>".encode(codec) + piece + f"</{header}>".encode(codec)
    return body[:at] + wrapped + body[at:]


def secure(
    plan: IntegrationPlan, request: RequestPlan, body: bytes, ctx: RenderContext, mask: bool
) -> bytes:
    """The body as sent: with this send's WS-Security header when the buyer logs in that way
    (unchanged otherwise). Raises MappingError when a secret is not set."""
    auth = plan.auth
    if not isinstance(auth, WsseAuth) or request.envelope is None:
        return body
    stamp = ctx.stamp if ctx.stamp is not None else SYSTEM_STAMP
    element = security_header(auth, request.envelope, ctx.environ, stamp, mask=mask)
    return insert_header(body, request.envelope, element)


_PASSWORD: Final = re.compile(rb"(<wsse:Password\b[^>]*>)[^<]*(</wsse:Password>)")
_SECURITY: Final = re.compile(rb"<wsse:Security\b.*?</wsse:Security>", re.DOTALL)


def shown(plan: IntegrationPlan, stage: StagePlan, sent: bytes, logged: bytes) -> bytes:
    """The body to log, with the WS-Security password (or digest) hidden. ``sent`` is the body
    as sent; ``logged`` the body about to be logged: the same, or the fields encoded again with
    personal data masked, which lack the header (it is put back, hidden). Never raises."""
    envelope = stage.request.envelope
    if not isinstance(plan.auth, WsseAuth) or envelope is None:
        return logged
    found = _SECURITY.search(sent)
    if found is None:
        return logged
    header = _PASSWORD.sub(rb"\1" + HIDDEN.encode() + rb"\2", found.group(0))
    if logged == sent:
        return sent[: found.start()] + header + sent[found.end() :]
    try:
        return insert_header(logged, envelope, header.decode(envelope.codec))
    except (MappingError, UnicodeDecodeError):
        return logged  # not an envelope (a note that the body was hidden): nothing to show

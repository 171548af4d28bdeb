"""A simulated SOAP buyer behind WS-Security: Evergreen Life checks a UsernameToken.

The check is written here from the OASIS UsernameToken Profile, apart from leadpost's own header
code (``engine.runtime.wsse``), so the sandbox is a second opinion: the user name must match;
a ``#PasswordDigest`` must equal ``Base64(SHA-1(nonce + created + password))``, its ``Created``
must be within five minutes of the sandbox's clock and its nonce never seen before (a replay);
a ``#PasswordText`` must equal the password. Failures answer a SOAP fault
``wsse:FailedAuthentication`` with status 500, as WS-Security services do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import ClassVar
from xml.sax.saxutils import escape

from lxml import etree

from engine.sandbox.base import Answer, Buyer, Dialect, Incoming, Route
from engine.sandbox.dice import Roll
from engine.sandbox.markup_buyers import SOAP, parse_xml

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
EG = "http://evergreenlife.com/quote"
#: How far a token's creation time may be from the buyer's clock.
FRESH = timedelta(minutes=5)
#: Nonces remembered per buyer, to refuse a replayed token.
NONCES = 10_000


def _created(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def token_problem(
    security: etree._Element | None, user: str, password: str, now: datetime
) -> str | None:
    """Why the UsernameToken in ``security`` is refused, or None when it proves the login."""
    token = security.find(f"{{{WSSE}}}UsernameToken") if security is not None else None
    if token is None:
        return "The security token could not be authenticated: no UsernameToken"
    if (token.findtext(f"{{{WSSE}}}Username") or "") != user:
        return "The security token could not be authenticated: unknown user"
    sent = token.find(f"{{{WSSE}}}Password")
    if sent is None:
        return "The security token could not be authenticated: no password"
    kind = sent.get("Type", _PROFILE + "#PasswordText")
    if kind == _PROFILE + "#PasswordText":
        ok = hmac.compare_digest((sent.text or "").encode(), password.encode())
        return None if ok else "The security token could not be authenticated: wrong password"
    if kind != _PROFILE + "#PasswordDigest":
        return f"The security token could not be authenticated: unknown password type {kind}"
    created_text = token.findtext(f"{{{WSU}}}Created") or ""
    created = _created(created_text)
    if created is None or abs(now - created) > FRESH:
        return "The security token could not be authenticated: Created is missing or stale"
    try:
        nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "", validate=True)
    except (binascii.Error, ValueError):
        return "The security token could not be authenticated: the nonce is not Base64"
    expected = hashlib.sha1(nonce + created_text.encode() + password.encode()).digest()
    if not hmac.compare_digest(base64.b64encode(expected), (sent.text or "").strip().encode()):
        return "The security token could not be authenticated: wrong password digest"
    return None


class Evergreen(Dialect):
    """Evergreen Life: SOAP 1.1 applicant post with a WS-Security UsernameToken."""

    name = "evergreen"
    summary = "SOAP 1.1 post to /ApplicantService.svc; WS-Security UsernameToken (digest)"
    secrets: ClassVar[Mapping[str, str]] = {
        "user": "EVERGREEN_USER",
        "password": "EVERGREEN_PASSWORD",
    }
    reasons = ("Applicant outside underwriting age", "State not licensed")
    server = "Microsoft-IIS/10.0"
    ACTION = "http://evergreenlife.com/quote/SubmitApplicant"
    REQUIRED = ("FirstName", "LastName", "Phone", "State")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nonces: dict[str, OrderedDict[str, None]] = {}

    def routes(self) -> Mapping[str, Route]:
        return {"/ApplicantService.svc": Route("post", self.post)}

    @staticmethod
    def _xml(inner: str, status: int = 200) -> Answer:
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP}">'
            f"<s:Body>{inner}</s:Body></s:Envelope>"
        )
        return Answer(status, body.encode("utf-8"), "text/xml; charset=utf-8")

    def _fault(self, status: int, code: str, message: str) -> Answer:
        return self._xml(
            f'<s:Fault xmlns:wsse="{WSSE}"><faultcode>{code}</faultcode>'
            f"<faultstring>{escape(message)}</faultstring></s:Fault>",
            status,
        )

    def error(self, status: int, message: str) -> Answer:
        return self._fault(status, "s:Server", message)

    def _result(self, status: str, inner: str) -> Answer:
        result = f"<SubmitApplicantResult><Status>{status}</Status>{inner}</SubmitApplicantResult>"
        return self._xml(
            f'<SubmitApplicantResponse xmlns="{EG}">{result}</SubmitApplicantResponse>'
        )

    def _replayed(self, buyer: Buyer, nonce: str) -> bool:
        with self._lock:
            seen = self._nonces.setdefault(buyer.sim.id, OrderedDict())
            if nonce in seen:
                return True
            seen[nonce] = None
            while len(seen) > NONCES:
                seen.popitem(last=False)
        return False

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        action = (call.header("soapaction") or "").strip().strip('"')
        if action != self.ACTION:
            buyer.count("bad_requests")
            return self._fault(500, "s:Client", f"The SOAPAction '{action}' is not known.")
        root = parse_xml(call.body)
        if root is None or root.tag != f"{{{SOAP}}}Envelope":
            buyer.count("bad_requests")
            return self._fault(500, "s:Client", "The message is not a SOAP 1.1 envelope.")
        security = root.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security")
        now = buyer.clock.wall()
        problem = token_problem(security, buyer.secret("user"), buyer.secret("password"), now)
        nonce = root.findtext(f".//{{{WSSE}}}Nonce")
        if problem is None and nonce and self._replayed(buyer, nonce):
            problem = "The security token could not be authenticated: the nonce was used before"
        if problem is not None:
            buyer.count("auth_failures")
            return self._fault(500, "wsse:FailedAuthentication", problem)
        applicant = root.find(f"{{{SOAP}}}Body/{{{EG}}}SubmitApplicant")
        if applicant is None:
            buyer.count("bad_requests")
            return self._fault(500, "s:Client", "Expected a SubmitApplicant body.")
        missing = [n for n in self.REQUIRED if not (applicant.findtext(f"{{{EG}}}{n}") or "")]
        if missing:
            buyer.count("bad_requests")
            return self._result("Rejected", f"<Message>Missing {missing[0]}</Message>")
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            return self._result("Accepted", f"<ApplicationId>EG-{roll.serial}</ApplicationId>")
        if verdict == "duplicate":
            return self._result("Duplicate", "<Message>Applicant already on file</Message>")
        return self._result("Rejected", f"<Message>{escape(roll.reason)}</Message>")

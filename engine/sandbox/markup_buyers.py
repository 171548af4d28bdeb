"""Simulated buyers speaking XML, SOAP, HTML and text: Keystone, Lighthouse, Bluewater, Prairie."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import ClassVar
from xml.sax.saxutils import escape

from lxml import etree

from engine.sandbox.base import Answer, Buyer, Dialect, Incoming, Route
from engine.sandbox.dice import Roll

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
LH = "http://lighthousedirect.com/"


def parse_xml(body: bytes) -> etree._Element | None:
    """The document element, or None when the body is not well-formed XML."""
    try:
        return etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _missing(root: etree._Element, paths: tuple[str, ...]) -> list[str]:
    return [p for p in paths if not (root.findtext(p) or "").strip()]


class Keystone(Dialect):
    """Keystone: ISO-8859-1 XML behind HTTP Basic; answers in XML that is sometimes cut short."""

    name = "keystone"
    summary = "ISO-8859-1 XML post to /LeadIntake.aspx; HTTP Basic; <Response><Status>…"
    secrets: ClassVar[Mapping[str, str]] = {
        "user": "KEYSTONE_USER",
        "password": "KEYSTONE_PASSWORD",
    }
    reasons = ("Renter", "Bad ZIP", "Property too old")
    server = "Microsoft-IIS/8.5"
    #: Share of answers whose last '>' is missing (the legacy system's known habit).
    SLOPPY = 0.1
    REQUIRED = (
        "Applicant/FirstName",
        "Applicant/LastName",
        "Applicant/Phone",
        "Applicant/Address/Zip",
    )

    def routes(self) -> Mapping[str, Route]:
        return {"/LeadIntake.aspx": Route("post", self.post)}

    def error(self, status: int, message: str) -> Answer:
        page = f"<html><body><h1>{status} - {escape(message)}</h1></body></html>"
        return Answer(status, page.encode("iso-8859-1", "xmlcharrefreplace"), "text/html")

    def _answer(
        self, roll: Roll, status: str, lead_id: str = "", errors: tuple[str, ...] = ()
    ) -> Answer:
        text = f"<Response><Status>{status}</Status>"
        if lead_id:
            text += f"<LeadId>{lead_id}</LeadId>"
        if errors:
            text += (
                "<Errors>" + "".join(f"<Error>{escape(e)}</Error>" for e in errors) + "</Errors>"
            )
        text += "</Response>"
        if roll.quirk < self.SLOPPY:
            text = text[:-1]
        return Answer(200, text.encode("iso-8859-1", "xmlcharrefreplace"), "text/html")

    def _authorized(self, buyer: Buyer, call: Incoming) -> bool:
        header = call.header("authorization") or ""
        if header[:6].lower() != "basic ":
            return False
        try:
            pair = base64.b64decode(header[6:], validate=True).decode("latin-1")
        except ValueError:
            return False
        return pair == f"{buyer.secret('user')}:{buyer.secret('password')}"

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        if not self._authorized(buyer, call):
            buyer.count("auth_failures")
            denied = self.error(401, "Unauthorized: Access is denied due to invalid credentials.")
            return Answer(
                401,
                denied.body,
                denied.content_type,
                (("WWW-Authenticate", 'Basic realm="LeadIntake"'),),
            )
        declared = _DECLARED.match(call.body)
        encoding = declared.group(1).decode("ascii", "replace").upper() if declared else ""
        root = parse_xml(call.body)
        problem = ""
        if encoding.replace("_", "-") not in ("ISO-8859-1", "LATIN-1", "LATIN1"):
            problem = "Encoding must be ISO-8859-1"
        elif root is None or root.tag != "LeadSubmission":
            problem = "Malformed XML: expected a LeadSubmission document"
        elif missing := _missing(root, self.REQUIRED):
            problem = f"Missing {missing[0]}"
        if problem:
            buyer.count("bad_requests")
            return self._answer(roll, "Rejected", errors=(problem,))
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            return self._answer(roll, "Accepted", f"KS-{roll.serial}")
        if verdict == "duplicate":
            return self._answer(roll, "Duplicate", errors=("Duplicate lead",))
        return self._answer(roll, "Rejected", errors=(roll.reason,))


class Lighthouse(Dialect):
    """Lighthouse: XML ping with an auction token, SOAP 1.1 post, ``X-LH-Key`` header."""

    name = "lighthouse"
    summary = "XML ping to /ping.xml (<PingResponse>), SOAP 1.1 post to /LeadService.asmx; X-LH-Key"
    secrets: ClassVar[Mapping[str, str]] = {"api_key": "LIGHTHOUSE_KEY"}
    reasons = ("Lead does not meet underwriting rules", "Phone number not reachable")
    server = "Microsoft-IIS/10.0"
    ACTION = "http://lighthousedirect.com/PostLead"

    def routes(self) -> Mapping[str, Route]:
        return {
            "/ping.xml": Route("ping", self.ping),
            "/LeadService.asmx": Route("post", self.post),
        }

    def error(self, status: int, message: str) -> Answer:
        return self._fault(status, "soap:Server", message)

    @staticmethod
    def _xml(text: str, status: int = 200) -> Answer:
        body = '<?xml version="1.0" encoding="utf-8"?>' + text
        return Answer(status, body.encode("utf-8"), "text/xml; charset=utf-8")

    def _fault(self, status: int, code: str, message: str) -> Answer:
        text = f"<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        fault = f"<soap:Fault>{text}</soap:Fault>"
        return self._xml(
            f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>{fault}</soap:Body></soap:Envelope>',
            status,
        )

    def _result(self, success: bool, inner: str) -> Answer:
        flag = "true" if success else "false"
        result = f"<PostLeadResult><Success>{flag}</Success>{inner}</PostLeadResult>"
        answer = f'<PostLeadResponse xmlns="{LH}">{result}</PostLeadResponse>'
        return self._xml(
            f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>{answer}</soap:Body></soap:Envelope>'
        )

    def _ping_answer(self, result: str, inner: str, status: int = 200) -> Answer:
        return self._xml(f"<PingResponse><Result>{result}</Result>{inner}</PingResponse>", status)

    def ping(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        if call.header("x-lh-key") != buyer.secret("api_key"):
            buyer.count("auth_failures")
            return self._ping_answer("Error", "<Reason>Invalid key</Reason>", 401)
        root = parse_xml(call.body)
        problem = ""
        if root is None or root.tag != "PingRequest":
            problem = "Malformed request: expected a PingRequest document"
        elif missing := _missing(root, ("Geo/State", "Geo/Zip")):
            problem = f"Missing {missing[0]}"
        elif root.find(".//Contact") is not None or root.find(".//Email") is not None:
            problem = "A ping must not carry contact details"
        if problem:
            buyer.count("bad_requests")
            return self._ping_answer("Error", f"<Reason>{escape(problem)}</Reason>", 400)
        if not roll.bids:
            buyer.count("no_bids")
            return self._ping_answer("Rejected", "<Reason>No coverage in area</Reason>")
        token = f"LH-{roll.token[:8]}"
        buyer.issue_ping(token, roll.price)
        inner = f"<BidAmount>{roll.price}</BidAmount><AuctionToken>{token}</AuctionToken>"
        return self._ping_answer("Accepted", inner)

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        action = (call.header("soapaction") or "").strip().strip('"')
        if action != self.ACTION:
            buyer.count("bad_requests")
            message = f"Server did not recognize the value of HTTP Header SOAPAction: {action}."
            return self._fault(500, "soap:Client", message)
        if call.header("x-lh-key") != buyer.secret("api_key"):
            buyer.count("auth_failures")
            return self._fault(401, "soap:Client", "Invalid key")
        root = parse_xml(call.body)
        lead = root.find(f"{{{SOAP}}}Body/{{{LH}}}PostLead") if root is not None else None
        if lead is None:
            buyer.count("bad_requests")
            return self._fault(500, "soap:Client", "Invalid SOAP request: expected a PostLead body")
        if buyer.take_ping((lead.findtext(f"{{{LH}}}AuctionToken") or "").strip()) is None:
            return self._fault(500, "soap:Client", "Token expired")
        if missing := _missing(
            lead, tuple(f"{{{LH}}}{n}" for n in ("FirstName", "LastName", "Phone"))
        ):
            buyer.count("bad_requests")
            name = etree.QName(missing[0]).localname
            return self._result(False, f"<Message>Missing {name}</Message>")
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            return self._result(True, f"<LeadId>LH-{roll.serial}</LeadId>")
        message = "Duplicate lead" if verdict == "duplicate" else roll.reason
        return self._result(False, f"<Message>{escape(message)}</Message>")


class Bluewater(Dialect):
    """Bluewater: the lead as XML inside the ``xml`` form field, with ``key``; HTML pages back."""

    name = "bluewater"
    summary = "form post to /LeadImport with key, campaign and xml (<Lead>) fields; HTML answers"
    secrets: ClassVar[Mapping[str, str]] = {"key": "BLUEWATER_KEY"}
    reasons = ("ZIP not served", "Home value out of range")
    REQUIRED = ("Contact/First", "Contact/Last", "Contact/Phone", "Contact/Zip")

    def routes(self) -> Mapping[str, Route]:
        return {"/LeadImport": Route("post", self.post)}

    @staticmethod
    def _page(inner: str, status: int = 200) -> Answer:
        page = (
            "<!DOCTYPE html><html><head><title>Bluewater Lead Import</title></head>"
            f"<body>{inner}</body></html>"
        )
        return Answer.text(page, status, "text/html")

    def error(self, status: int, message: str) -> Answer:
        return self._page(f'<div class="result error"><p>{escape(message)}</p></div>', status)

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        form = call.form()
        if form is None or form.get("key") != buyer.secret("key"):
            buyer.count("auth_failures")
            return self.error(403, "Invalid key")
        root = parse_xml(form.get("xml", "").encode("utf-8"))
        problem = ""
        if not form.get("campaign"):
            problem = "Missing campaign"
        elif root is None or root.tag != "Lead":
            problem = "Lead XML could not be read"
        elif missing := _missing(root, self.REQUIRED):
            problem = f"Missing {missing[0]}"
        if problem:
            buyer.count("bad_requests")
            return self.error(200, problem)
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            lead = f'<span class="lead-id">BW-{roll.serial}</span>'
            return self._page(f'<div class="result success">Thanks! Lead {lead} received.</div>')
        if verdict == "duplicate":
            return self._page('<div class="result duplicate"><p>Duplicate lead</p></div>')
        return self.error(200, roll.reason)


class Prairie(Dialect):
    """Prairie: a PHP form handler; key in the query string; ``OK|id`` or ``ERROR|reason``."""

    name = "prairie"
    summary = "form post to /post.php?api_key=…; text answers OK|<id> or ERROR|<reason>"
    secrets: ClassVar[Mapping[str, str]] = {"api_key": "PRAIRIE_API_KEY"}
    reasons = ("Vehicle too old", "State not served", "Driver age out of range")
    server = "Apache/2.4.41 (Ubuntu)"
    REQUIRED = ("fname", "lname", "phone", "state", "zip")
    #: What a broken PHP page looks like instead of an answer.
    WARNING = (
        "<br />\n<b>Warning</b>:  mysqli_connect(): (HY000/1040): Too many connections in"
        " <b>/var/www/html/post.php</b> on line <b>12</b><br />\n"
    )

    def routes(self) -> Mapping[str, Route]:
        return {"/post.php": Route("post", self.post)}

    def error(self, status: int, message: str) -> Answer:
        return Answer.text(f"ERROR|{message}", status)

    def malformed(self, answer: Answer, roll: Roll) -> Answer:
        return Answer.text(self.WARNING, answer.status, "text/html")

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        if call.query.get("api_key") != buyer.secret("api_key"):
            buyer.count("auth_failures")
            return self.error(403, "invalid api_key")
        form = call.form()
        problem = "expected a form post" if form is None else ""
        if form is not None and (missing := [n for n in self.REQUIRED if not form.get(n)]):
            problem = f"missing {missing[0]}"
        elif form is not None and not re.fullmatch(r"\d{10}", form["phone"]):
            problem = "phone must be 10 digits"
        if problem:
            buyer.count("bad_requests")
            return Answer.text(f"ERROR|{problem}")
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            return Answer.text(f"OK|PR-{roll.serial}")
        if verdict == "duplicate":
            return Answer.text("ERROR|duplicate lead within 30 days")
        return Answer.text(f"ERROR|{roll.reason}")

"""WS-Security UsernameToken: the digest, where the header goes, and that secrets stay hidden.

The digest is checked against a computation written here from the OASIS profile and against
zeep, a WS-Security-aware SOAP client; the whole path is checked against a loopback buyer.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from zeep.wsse.username import UsernameToken

from engine.clock import FakeClock
from engine.compiler.integration import compile_document
from engine.dsl.loader import load_yaml_text
from engine.errors import MappingError
from engine.lead import validate_lead
from engine.lead.schema import load_lead_schema
from engine.plan import IntegrationPlan, RenderContext, SoapEnvelope, Template, WsseAuth
from engine.runtime import wsse
from engine.runtime.executor import Runtime
from engine.runtime.render import render_request
from engine.sandbox.soap_buyers import token_problem
from tests.buyer_server import BuyerServer, Reply
from tests.paths import INTEGRATIONS

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "{" + wsse.WSSE_NS + "}"
WSU = "{" + wsse.WSU_NS + "}"
SCHEMA = load_lead_schema(INTEGRATIONS / "lead-schema.yaml")
SAMPLE = validate_lead(SCHEMA, json.loads((INTEGRATIONS / "leads" / "sample.json").read_text()))
MOMENT = datetime(2024, 12, 15, 14, 30, 0, 123000, tzinfo=UTC)
PASSWORD = "s3cret-Pässword&<>"


class FixedStamp:
    """A reproducible nonce and time."""

    def __init__(self, nonce: bytes = b"0123456789abcdef", now: datetime = MOMENT) -> None:
        self._nonce, self._now = nonce, now

    def nonce(self) -> bytes:
        return self._nonce

    def now(self) -> datetime:
        return self._now


def buyer(auth: str = "digest: true", header: str = "", root: str = "soap:Envelope") -> str:
    return f"""\
buyer: wsse-test
name: WSSE test
version: "1"
environments:
  test: {{url: "http://127.0.0.1:9/wsse"}}
auth:
  type: wsse_username_token
  username: ${{env:WS_USER}}
  password: ${{env:WS_PASSWORD}}
  {auth}
stages:
  post:
    format: xml
    xml:
      root: {root}
      namespaces: {{soap: "{SOAP}", q: "urn:quote"}}
    fields:
{header}      soap:Body.q:Apply.q:Name: lead.first_name
      soap:Body.q:Apply.q:Phone: lead.phone
    response:
      rules:
        - outcome: accepted
"""


def compile_buyer(text: str) -> IntegrationPlan:
    plan, issues = compile_document(load_yaml_text(text, "wsse.yaml"), SCHEMA)
    assert plan is not None, [i.render() for i in issues]
    return plan


ENVIRON = {"WS_USER": "partner&7", "WS_PASSWORD": PASSWORD}


def render(plan: IntegrationPlan, *, mask: bool = False, stamp: Any = None) -> bytes:
    ctx = RenderContext(SAMPLE, MOMENT, {}, ENVIRON, stamp=stamp or FixedStamp())
    return render_request(plan, "post", ctx, "test", mask=mask).body


def token(body: bytes) -> etree._Element:
    root = etree.fromstring(body)
    found = root.find(f"{{{SOAP}}}Header/{WSSE}Security/{WSSE}UsernameToken")
    assert found is not None
    return found


def test_the_digest_is_base64_sha1_of_nonce_created_and_password() -> None:
    """The header's digest equals one computed here from the profile's formula, from the
    nonce and Created the header carries."""
    body = render(compile_buyer(buyer()))
    t = token(body)
    nonce = base64.b64decode(t.findtext(f"{WSSE}Nonce") or "")
    created = t.findtext(f"{WSU}Created") or ""
    expected = hashlib.sha1(nonce + created.encode() + PASSWORD.encode()).digest()
    assert nonce == b"0123456789abcdef" and created == "2024-12-15T14:30:00.123Z"
    assert t.findtext(f"{WSSE}Password") == base64.b64encode(expected).decode()
    assert t.findtext(f"{WSSE}Username") == "partner&7"
    password = t.find(f"{WSSE}Password")
    assert password is not None and password.get("Type") == wsse.PASSWORD_DIGEST


@given(
    nonce=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=24),
    password=st.text(max_size=40),
    seconds=st.integers(0, 4_000_000_000),
)
def test_the_digest_agrees_with_zeep(nonce: str, password: str, seconds: int) -> None:
    """For any nonce, password and time, our digest equals zeep's UsernameToken digest."""
    created = datetime.fromtimestamp(seconds, UTC)
    element = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    etree.SubElement(element, f"{{{SOAP}}}Header")
    etree.SubElement(element, f"{{{SOAP}}}Body")
    reference = UsernameToken(  # type: ignore[no-untyped-call]  # zeep has no type hints
        "u", password, use_digest=True, nonce=nonce, created=created, zulu_timestamp=True
    )
    reference.apply(element, {})  # type: ignore[no-untyped-call]
    theirs = element.find(f".//{WSSE}UsernameToken")
    assert theirs is not None
    their_created = theirs.findtext(f"{WSU}Created") or ""
    ours = wsse.password_digest(nonce.encode(), their_created, password)
    assert ours == theirs.findtext(f"{WSSE}Password")


def test_password_text_sends_the_password_itself() -> None:
    """digest: false is #PasswordText: the password as written, XML-escaped, no nonce."""
    body = render(compile_buyer(buyer("digest: false")))
    t = token(body)
    assert t.findtext(f"{WSSE}Password") == PASSWORD
    assert t.find(f"{WSSE}Nonce") is None
    assert t.find(f"{WSSE}Password").get("Type") == wsse.PASSWORD_TEXT  # type: ignore[union-attr]


def test_the_header_goes_first_in_the_envelope_with_its_namespaces() -> None:
    """Security is the first child of a new soap:Header, marked mustUnderstand; a Timestamp
    runs from Created for the configured time."""
    body = render(compile_buyer(buyer("timestamp: 5m")))
    root = etree.fromstring(body)
    assert [etree.QName(c).localname for c in root] == ["Header", "Body"]
    security = root[0][0]
    assert security.tag == f"{WSSE}Security"
    assert security.get(f"{{{SOAP}}}mustUnderstand") == "1"
    assert security.findtext(f"{WSU}Timestamp/{WSU}Created") == "2024-12-15T14:30:00.123Z"
    assert security.findtext(f"{WSU}Timestamp/{WSU}Expires") == "2024-12-15T14:35:00.123Z"


def test_a_header_the_buyer_file_fills_receives_the_security_first() -> None:
    """When the fields put something in soap:Header, Security joins it, first."""
    header = "      soap:Header.q:Partner: {value: P-7}\n"
    body = render(compile_buyer(buyer(header=header)))
    root = etree.fromstring(body)
    assert [c.tag for c in root] == [f"{{{SOAP}}}Header", f"{{{SOAP}}}Body"]
    assert [c.tag for c in root[0]] == [f"{WSSE}Security", "{urn:quote}Partner"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b"<s:Envelope><s:Header/><s:Body/></s:Envelope>",
            b"<s:Envelope><s:Header>X</s:Header><s:Body/></s:Envelope>",
        ),
        (b"<s:Envelope/>", b"<s:Envelope><s:Header>X</s:Header></s:Envelope>"),
        (
            b'<s:Envelope a="1"><s:Header b="2"><y/></s:Header></s:Envelope>',
            b'<s:Envelope a="1"><s:Header b="2">X<y/></s:Header></s:Envelope>',
        ),
        (
            b"<s:Envelope><s:HeaderX/></s:Envelope>",
            b"<s:Envelope><s:Header>X</s:Header><s:HeaderX/></s:Envelope>",
        ),
    ],
    ids=["empty-header", "empty-envelope", "header-with-attributes", "not-a-header"],
)
def test_insert_header_cases(body: bytes, expected: bytes) -> None:
    envelope = SoapEnvelope("s:Envelope", "s", SOAP, "utf-8")
    assert wsse.insert_header(body, envelope, "X") == expected


def test_a_default_namespace_envelope_declares_a_prefix_for_must_understand() -> None:
    envelope = SoapEnvelope("Envelope", "", SOAP, "utf-8")
    auth = WsseAuth(Template(("u",)), Template(("p",)), digest=False)
    header = wsse.security_header(auth, envelope, {}, FixedStamp())
    body = wsse.insert_header(
        f'<Envelope xmlns="{SOAP}"><Body/></Envelope>'.encode(), envelope, header
    )
    security = etree.fromstring(body)[0][0]
    assert security.get(f"{{{SOAP}}}mustUnderstand") == "1"


def test_a_fresh_nonce_and_time_for_every_send() -> None:
    """Without an injected stamp, two renders differ in nonce (and the digest with it)."""
    plan = compile_buyer(buyer())
    ctx = RenderContext(SAMPLE, MOMENT, {}, ENVIRON)
    first = token(render_request(plan, "post", ctx, "test").body)
    second = token(render_request(plan, "post", ctx, "test").body)
    assert first.findtext(f"{WSSE}Nonce") != second.findtext(f"{WSSE}Nonce")
    created = datetime.fromisoformat((first.findtext(f"{WSU}Created") or "").replace("Z", "+00:00"))
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_masked_render_shows_references_never_the_password() -> None:
    """``leadpost render`` and explain show the password as its ${env:NAME} reference."""
    for auth in ("digest: true", "digest: false"):
        body = render(compile_buyer(buyer(auth)), mask=True).decode()
        assert "${env:WS_PASSWORD}" in body and "${env:WS_USER}" in body
        assert PASSWORD not in body and "s3cret" not in body


def test_an_unset_password_refuses_the_request() -> None:
    plan = compile_buyer(buyer())
    ctx = RenderContext(SAMPLE, MOMENT, {}, {"WS_USER": "u"}, stamp=FixedStamp())
    with pytest.raises(MappingError, match="WS_PASSWORD is not set"):
        render_request(plan, "post", ctx, "test")


def test_a_stage_without_a_soap_envelope_is_lp361() -> None:
    text = buyer(root="Lead")
    _, issues = compile_document(load_yaml_text(text, "wsse.yaml"), SCHEMA)
    assert [(i.code, i.span.line if i.span else 0) for i in issues] == [("LP361", 7)]


@pytest.mark.anyio
@pytest.mark.parametrize("digest", [True, False], ids=["digest", "text"])
async def test_the_buyer_gets_a_valid_token_and_logs_show_no_secret(
    buyer_server: BuyerServer, caplog: pytest.LogCaptureFixture, digest: bool
) -> None:
    """Through the runtime to a loopback buyer: the received token verifies (checked by the
    sandbox's own verifier), while the outcome's exchange and the log hide the password."""
    plan = compile_buyer(buyer(f"digest: {str(digest).lower()}"))
    env = dataclasses.replace(plan.environments["test"], url=buyer_server.url + "/wsse")
    plan = dataclasses.replace(plan, environments={"test": env})
    buyer_server.default("/wsse", Reply.json({"ok": True}))
    clock = FakeClock(wall_start=datetime.now(UTC))
    caplog.set_level(logging.DEBUG)
    async with Runtime(clock=clock, environ=ENVIRON) as runtime:
        ctx = RenderContext(SAMPLE, MOMENT)
        outcome = await runtime.send(plan, "post", ctx, env="test", lead_id="L-1")
    assert outcome.kind == "accepted", outcome.reason
    received = buyer_server.received("/wsse")[0].body
    security = etree.fromstring(received).find(f"{{{SOAP}}}Header/{WSSE}Security")
    assert token_problem(security, "partner&7", PASSWORD, datetime.now(UTC)) is None
    assert outcome.exchange is not None
    shown = outcome.exchange.request_body
    assert "<wsse:Password" in shown and ">***</wsse:Password>" in shown
    sent_password = token(received).findtext(f"{WSSE}Password") or ""
    for text in (shown, caplog.text):
        assert PASSWORD not in text and sent_password not in text
        assert "s3cret" not in text


async def _received_through_runtime(buyer_server: BuyerServer, runtime: Runtime) -> bytes:
    plan = compile_buyer(buyer())
    env = dataclasses.replace(plan.environments["test"], url=buyer_server.url + "/wsse")
    plan = dataclasses.replace(plan, environments={"test": env})
    buyer_server.default("/wsse", Reply.json({"ok": True}))
    ctx = RenderContext(SAMPLE, MOMENT)
    outcome = await runtime.send(plan, "post", ctx, env="test", lead_id="L-1")
    assert outcome.kind == "accepted", outcome.reason
    received: bytes = buyer_server.received("/wsse")[-1].body
    return received


@pytest.mark.anyio
async def test_the_runtime_stamps_with_its_clock_and_random_source(
    buyer_server: BuyerServer,
) -> None:
    """A runtime makes Created (and the Timestamp) from its own clock, not the system's, and
    the nonce from the random source it was given: a test pins both and knows the digest."""
    clock = FakeClock(wall_start=MOMENT - timedelta(days=400))
    clock.advance(60.5)
    moment = MOMENT - timedelta(days=400) + timedelta(seconds=60.5)
    drawn: list[int] = []

    def pinned(n: int) -> bytes:
        drawn.append(n)
        return b"\x07" * n

    async with Runtime(clock=clock, environ=ENVIRON, random_bytes=pinned) as runtime:
        received = await _received_through_runtime(buyer_server, runtime)
    t = token(received)
    assert t.findtext(f"{WSU}Created") == wsse.created_text(moment)
    assert t.findtext(f"{WSSE}Nonce") == base64.b64encode(b"\x07" * 16).decode()
    assert drawn == [16]
    expected = wsse.password_digest(b"\x07" * 16, wsse.created_text(moment), PASSWORD)
    assert t.findtext(f"{WSSE}Password") == expected
    security = etree.fromstring(received).find(f"{{{SOAP}}}Header/{WSSE}Security")
    assert token_problem(security, "partner&7", PASSWORD, moment) is None


@pytest.mark.anyio
async def test_by_default_the_runtime_nonce_is_cryptographically_random(
    buyer_server: BuyerServer,
) -> None:
    """Without a random source the runtime draws ``secrets.token_bytes``: every send a new
    16-byte nonce, while Created still follows the runtime's (fake) clock."""
    clock = FakeClock(wall_start=MOMENT)
    async with Runtime(clock=clock, environ=ENVIRON) as runtime:
        first = token(await _received_through_runtime(buyer_server, runtime))
        second = token(await _received_through_runtime(buyer_server, runtime))
    nonces = [base64.b64decode(t.findtext(f"{WSSE}Nonce") or "") for t in (first, second)]
    assert len(nonces[0]) == len(nonces[1]) == 16 and nonces[0] != nonces[1]
    assert {t.findtext(f"{WSU}Created") for t in (first, second)} == {wsse.created_text(MOMENT)}


def test_a_random_source_giving_the_wrong_length_is_refused() -> None:
    """A pinned source must give the 16 bytes asked for: a short nonce would weaken the token."""
    stamp = wsse.ClockStamp(FakeClock(), lambda n: b"x")
    with pytest.raises(ValueError, match=r"random_bytes\(16\) gave 1 bytes"):
        stamp.nonce()


def test_the_sandbox_refuses_a_wrong_digest_a_stale_time_and_other_users() -> None:
    """The simulated buyer's verifier (written apart from leadpost's header code)."""
    body = render(compile_buyer(buyer()))
    security = etree.fromstring(body).find(f"{{{SOAP}}}Header/{WSSE}Security")
    assert token_problem(security, "partner&7", PASSWORD, MOMENT) is None
    assert "wrong password digest" in (token_problem(security, "partner&7", "nope", MOMENT) or "")
    assert "stale" in (
        token_problem(security, "partner&7", PASSWORD, MOMENT + timedelta(hours=1)) or ""
    )
    assert "unknown user" in (token_problem(security, "other", PASSWORD, MOMENT) or "")


def test_shown_hides_the_password_in_the_body_as_sent_and_puts_it_back_when_re_encoded() -> None:
    """A body logged as sent keeps its header with the password hidden; a body encoded again
    (personal data masked) gets the hidden header back; other buyers' bodies are untouched."""
    plan = compile_buyer(buyer("digest: false"))
    stage = plan.stages["post"]
    sent = render(plan)
    as_sent = wsse.shown(plan, stage, sent, sent)
    assert PASSWORD.encode() not in as_sent and b">***</wsse:Password>" in as_sent
    assert as_sent.replace(b"***", b"") == sent.replace(_escaped(PASSWORD), b"")
    bare = b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="' + SOAP.encode()
    bare += b'"><soap:Body/></soap:Envelope>'
    again = wsse.shown(plan, stage, sent, bare)
    assert b"<soap:Header><wsse:Security" in again and PASSWORD.encode() not in again
    note = b"(120 bytes hidden: they contain personal data)"
    assert wsse.shown(plan, stage, sent, note) == note


def _escaped(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


@given(
    user=st.text(max_size=30),
    password=st.text(max_size=30),
    name=st.text(max_size=30),
    digest=st.booleans(),
)
def test_any_credentials_and_lead_give_one_well_formed_header_or_our_error(
    user: str, password: str, name: str, digest: bool
) -> None:
    """Whatever the credentials and the lead hold, the body is well-formed XML with exactly one
    Security header, first in soap:Header, and a digest that verifies (or MappingError)."""
    plan = compile_buyer(buyer(f"digest: {str(digest).lower()}"))
    lead = {**SAMPLE, "lead": {**SAMPLE["lead"], "first_name": name}}
    ctx = RenderContext(lead, MOMENT, {}, {"WS_USER": user, "WS_PASSWORD": password},
                        stamp=FixedStamp())  # fmt: skip
    try:
        body = render_request(plan, "post", ctx, "test").body
    except MappingError:
        return
    root = etree.fromstring(body)
    assert len(root.findall(f".//{WSSE}Security")) == 1
    assert root[0][0].tag == f"{WSSE}Security"
    sent_user = root[0][0].findtext(f"{WSSE}UsernameToken/{WSSE}Username") or ""
    if digest:  # the digest is made from the password as set, whatever XML can carry
        assert token_problem(root[0][0], sent_user, password, MOMENT) is None

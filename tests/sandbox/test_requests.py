"""Requests built by hand: malformed requests to every buyer, and the generic-json buyer."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from engine.sandbox import (
    SandboxThread,
    load_config,
    parse_config,
    sandbox_environ,
    start_in_thread,
)
from tests.examples import example_plan

ENV = sandbox_environ(load_config("integrations/sandbox.yaml"))
BASIC = base64.b64encode(f"{ENV['KEYSTONE_USER']}:{ENV['KEYSTONE_PASSWORD']}".encode()).decode()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SOAP_ACTION = {"SOAPAction": '"http://lighthousedirect.com/PostLead"'}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    config = load_config("integrations/sandbox.yaml").steady()
    config = replace(config, buyers=tuple(replace(b, accept_rate=1.0) for b in config.buyers))
    with start_in_thread(config, port=0) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def summit_token(sandbox: SandboxThread, client: httpx.Client) -> str:
    form = {"grant_type": "client_credentials", "client_id": ENV["SUMMIT_CLIENT_ID"]}
    form["client_secret"] = ENV["SUMMIT_CLIENT_SECRET"]
    answer = client.post(sandbox.url + "/summit-crm/services/oauth2/token", data=form)
    return str(answer.json()["access_token"])


# (buyer, path after the buyer, headers, body, expected status, text in the answer)
MALFORMED: list[tuple[str, str, dict[str, str], bytes, int, str]] = [
    ("harbor-mutual", "/v2/leads", {"X-Api-Key": ENV["HARBOR_API_KEY"]}, b"{oops", 400,
     "must be a JSON object"),
    ("harbor-mutual", "/v2/leads", {"X-Api-Key": ENV["HARBOR_API_KEY"]}, b"{}", 422,
     "contact.first_name is required"),
    ("keystone-legacy", "/LeadIntake.aspx", {"Authorization": f"Basic {BASIC}"},
     b'<?xml version="1.0" encoding="ISO-8859-1"?><LeadSubmission><oops', 200, "Malformed XML"),
    ("keystone-legacy", "/LeadIntake.aspx", {"Authorization": f"Basic {BASIC}"},
     b'<?xml version="1.0" encoding="UTF-8"?><LeadSubmission/>', 200,
     "Encoding must be ISO-8859-1"),
    ("prairie-form", f"/post.php?api_key={ENV['PRAIRIE_API_KEY']}", {}, b"garbage", 200,
     "ERROR|expected a form post"),
    ("prairie-form", f"/post.php?api_key={ENV['PRAIRIE_API_KEY']}", FORM,
     b"fname=A&lname=B&phone=555&state=TX&zip=78701", 200, "ERROR|phone must be 10 digits"),
    ("beacon-ping", "/api/ping", {"Authorization": f"Bearer {ENV['BEACON_TOKEN']}"},
     b'{"state": "TX", "zip5": "78701", "email": "a@b.co"}', 400, "personal data (email)"),
    ("beacon-ping", "/api/post", {"Authorization": f"Bearer {ENV['BEACON_TOKEN']}"},
     b'{"ping_id": 98765}', 400, "ping_id as text"),
    ("lighthouse-xml", "/ping.xml", {"X-LH-Key": ENV["LIGHTHOUSE_KEY"]}, b"<PingRequest>", 400,
     "expected a PingRequest document"),
    ("lighthouse-xml", "/LeadService.asmx", {"X-LH-Key": ENV["LIGHTHOUSE_KEY"]}, b"<x/>", 500,
     "did not recognize the value of HTTP Header SOAPAction"),
    ("lighthouse-xml", "/LeadService.asmx", {"X-LH-Key": ENV["LIGHTHOUSE_KEY"], **SOAP_ACTION},
     b"<x/>", 500, "Invalid SOAP request"),
    ("bluewater-agents", "/LeadImport", FORM,
     f"key={ENV['BLUEWATER_KEY']}&campaign=C1&xml=%3CLead%3E".encode(), 200,
     "Lead XML could not be read"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("buyer", "path", "headers", "body", "status", "text"),
    MALFORMED,
    ids=[f"{m[0]}-{m[5][:24]}" for m in MALFORMED],
)
def test_a_malformed_request_gets_the_buyers_error_answer(
    sandbox: SandboxThread,
    client: httpx.Client,
    buyer: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    status: int,
    text: str,
) -> None:
    """A request the buyer cannot read is answered the way that buyer answers such requests."""
    before = sandbox.stats(buyer).bad_requests
    answer = client.post(sandbox.url_for(buyer) + path, headers=headers, content=body)
    assert answer.status_code == status
    assert text in answer.text
    assert sandbox.stats(buyer).bad_requests == before + 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "The request body is not a JSON object"),
        (b'{"LastName": "Ruiz", "Company": "Ruiz", "Shoe_Size": 9}', "No such column 'Shoe_Size'"),
        (b'{"LastName": "Ruiz"}', "Required fields are missing: [Company]"),
        (b'{"LastName": "R", "Company": "R", "Email": "nope"}', "Email: invalid email address"),
    ],
)
def test_summit_answers_bad_leads_with_salesforce_errors_its_rules_reject(
    sandbox: SandboxThread, client: httpx.Client, body: bytes, reason: str
) -> None:
    """Salesforce's 400 error arrays are read by Summit's rules as rejections with the message."""
    headers = {"Authorization": f"Bearer {summit_token(sandbox, client)}"}
    url = sandbox.url_for("summit-crm") + "/services/data/v60.0/sobjects/Lead"
    answer = client.post(url, headers=headers, content=body)
    assert answer.status_code == 400
    plan = example_plan("summit-crm")
    found = plan.stages["post"].response.interpret(400, {}, answer.content)
    assert found.decision == "rejected"
    assert found.reason is not None and found.reason.startswith(reason)


GENERIC = """\
seed: 7
credentials: {APEX_PING_KEY: k1}
buyers:
  apex-ping: {dialect: generic-json, no_bid_rate: 0, accept_rate: 1, bid: {min: 10.00, max: 10.00}}
"""


@pytest.fixture
def generic() -> Iterator[SandboxThread]:
    with start_in_thread(parse_config(GENERIC), port=0) as running:
        yield running


def post(
    client: httpx.Client, sandbox: SandboxThread, route: str, data: Any, key: str = "k1"
) -> Any:
    answer = client.post(
        sandbox.url_for("apex-ping") + route, json=data, headers={"X-Api-Key": key}
    )
    return answer.status_code, answer.json()


def test_generic_json_ping_then_post(generic: SandboxThread, client: httpx.Client) -> None:
    """A generic buyer bids on a ping and buys the post that carries the ping id it issued."""
    status, bid = post(client, generic, "/ping", {"state": "TX", "zip": "78701"})
    assert status == 200
    assert bid == {"status": "bid", "bid": "10.00", "ping_id": bid["ping_id"], "expires_in": 300}
    assert bid["ping_id"].startswith("APEX-")
    lead = {
        "ping_id": bid["ping_id"],
        "first_name": "Ana",
        "last_name": "Ruiz",
        "phone": "5125550142",
    }
    status, sold = post(client, generic, "/post", lead)
    assert (status, sold["status"], sold["price"]) == (200, "accepted", "10.00")
    assert sold["lead_id"].startswith("APEX-")
    status, again = post(client, generic, "/post", lead)
    assert again == {"status": "rejected", "reason": "unknown or expired ping_id"}
    stats = generic.stats("apex-ping")
    counted = (stats.pings, stats.bids, stats.posts, stats.accepted, stats.unknown_pings)
    assert counted == (1, 1, 2, 1, 1)


@pytest.mark.parametrize(
    ("route", "data", "key", "status", "reason"),
    [
        ("/ping", {"state": "TX", "zip": "78701"}, "wrong", 401, "invalid or missing API key"),
        ("/ping", {"state": "TX"}, "k1", 400, "missing zip"),
        (
            "/ping",
            {"state": "TX", "zip": "78701", "phone": "5125550142"},
            "k1",
            400,
            "a ping must not carry personal data (phone)",
        ),
        ("/ping", ["not", "an", "object"], "k1", 400, "the request body must be a JSON object"),
        (
            "/post",
            {"ping_id": "APEX-nope", "first_name": "A"},
            "k1",
            200,
            "unknown or expired ping_id",
        ),
    ],
)
def test_generic_json_refusals(
    generic: SandboxThread,
    client: httpx.Client,
    route: str,
    data: Any,
    key: str,
    status: int,
    reason: str,
) -> None:
    """Wrong key, missing fields, personal data in a ping and unknown ping ids are refused."""
    got_status, body = post(client, generic, route, data, key)
    assert (got_status, body["reason"]) == (status, reason)


def test_routing_errors(generic: SandboxThread, client: httpx.Client) -> None:
    """Unknown buyers and endpoints are 404s, other methods than POST are 405s."""
    assert client.post(generic.url + "/nobody/ping").status_code == 404
    missing = client.post(generic.url_for("apex-ping") + "/bid", headers={"X-Api-Key": "k1"})
    assert (missing.status_code, missing.json()["status"]) == (404, "error")
    assert client.get(generic.url_for("apex-ping") + "/ping").status_code == 405
    assert generic.stats("apex-ping").not_found == 1

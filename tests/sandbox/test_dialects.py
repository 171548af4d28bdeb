"""Each dialect answers the example integration's real requests the way its response rules read."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.clock import FakeClock
from engine.lead.validate import validate_lead
from engine.loading import schema_for
from engine.plan import IntegrationPlan, Interpretation, RenderContext
from engine.runtime.render import render_request
from engine.sandbox import (
    SandboxConfig,
    SandboxThread,
    load_config,
    sandbox_environ,
    start_in_thread,
)
from tests.examples import example_plan

BUYERS = Path("integrations/buyers")
SAMPLE = json.loads(Path("integrations/leads/sample.json").read_text())
TEST_ORIGIN = "http://127.0.0.1:8701"
EXAMPLES = [
    "harbor-mutual",
    "keystone-legacy",
    "prairie-form",
    "summit-crm",
    "beacon-ping",
    "lighthouse-xml",
    "bluewater-agents",
    "evergreen-life",
]
ENV = sandbox_environ(load_config("integrations/sandbox.yaml"))


def sandbox_config(**changes: Any) -> SandboxConfig:
    """The real sandbox file, steady (no latency, no faults), with ``changes`` on every buyer."""
    config = load_config("integrations/sandbox.yaml").steady()
    return replace(config, buyers=tuple(replace(b, **changes) for b in config.buyers))


@pytest.fixture(scope="module")
def plans() -> dict[str, IntegrationPlan]:
    return {name: example_plan(name) for name in EXAMPLES}


class Caller:
    """Sends an example integration's rendered requests to the sandbox and reads the answers
    with the integration's own response rules."""

    def __init__(self, sandbox: SandboxThread, plan: IntegrationPlan, environ: Mapping[str, str]):
        self.sandbox = sandbox
        self.plan = plan
        self.environ = dict(environ)
        self.client = httpx.Client(timeout=5)
        schema = schema_for(BUYERS / "x.yaml")
        assert schema is not None
        self.lead = validate_lead(schema, SAMPLE)

    def token(self) -> str:
        form = {"grant_type": "client_credentials", "scope": "api"}
        form |= {"client_id": self.environ["SUMMIT_CLIENT_ID"]}
        form |= {"client_secret": self.environ["SUMMIT_CLIENT_SECRET"]}
        answer = self.client.post(self.sandbox.url + "/summit-crm/services/oauth2/token", data=form)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def send(
        self, stage: str, prior: Mapping[str, Mapping[str, Any]] | None = None
    ) -> httpx.Response:
        now = datetime.fromisoformat(self.lead["timestamp"])
        ctx = RenderContext(self.lead, now, dict(prior or {}), self.environ)
        request = render_request(self.plan, stage, ctx, "test", with_auth=True, lead_id="L-1")
        assert request.url.startswith(TEST_ORIGIN + "/")
        headers = dict(request.headers)
        if headers.get("Authorization", "").startswith("Bearer <"):
            headers["Authorization"] = "Bearer " + self.token()
        url = self.sandbox.url + request.url.removeprefix(TEST_ORIGIN)
        return self.client.request(request.method, url, headers=headers, content=request.body)

    def read(self, stage: str, answer: httpx.Response) -> Interpretation:
        headers = {k.lower(): v for k, v in answer.headers.items()}
        return self.plan.stages[stage].response.interpret(
            answer.status_code, headers, answer.content
        )

    def run(self) -> dict[str, Interpretation]:
        """Every stage in order (ping, then post with the ping's values)."""
        prior: dict[str, Mapping[str, Any]] = {}
        found: dict[str, Interpretation] = {}
        for stage in self.plan.stages:
            found[stage] = self.read(stage, self.send(stage, prior))
            prior[stage] = found[stage].values
        return found


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    """Starts sandboxes from the real file with changes on every buyer; stops them afterwards."""
    started: list[SandboxThread] = []

    def make(clock: FakeClock | None = None, **changes: Any) -> SandboxThread:
        started.append(start_in_thread(sandbox_config(**changes), port=0, clock=clock))
        return started[-1]

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def caller() -> Iterator[Any]:
    """Makes Callers (each with its own HTTP client); closes their clients afterwards."""
    made: list[Caller] = []

    def make(
        sandbox: SandboxThread, plan: IntegrationPlan, environ: Mapping[str, str] = ENV
    ) -> Caller:
        made.append(Caller(sandbox, plan, environ))
        return made[-1]

    yield make
    for one in made:
        one.client.close()


VERDICTS = {
    "accepted": {"accept_rate": 1.0},
    "duplicate": {"accept_rate": 0.0, "duplicate_rate": 1.0},
    "rejected": {"accept_rate": 0.0, "duplicate_rate": 0.0},
}
#: Lighthouse's rules have no duplicate outcome: its "Duplicate lead" answer is a rejection.
NO_DUPLICATE_RULE = {"lighthouse-xml"}


@pytest.mark.parametrize("verdict", list(VERDICTS))
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_requests_get_the_outcome_the_rules_read(
    name: str, verdict: str, plans: dict[str, IntegrationPlan], make_sandbox: Any, caller: Any
) -> None:
    """The sample lead, rendered by the integration file, is answered so that the file's own
    rules read the verdict the sandbox drew; pings bid and the post uses the ping's id."""
    sandbox = make_sandbox(no_bid_rate=0.0, **VERDICTS[verdict])
    found = caller(sandbox, plans[name]).run()
    if "ping" in found:
        assert found["ping"].decision == "accepted"
        assert found["ping"].price is not None and found["ping"].price >= 5
    post = found["post"]
    expected = "rejected" if verdict == "duplicate" and name in NO_DUPLICATE_RULE else verdict
    assert post.decision == expected, (post.reason, post.values)
    if verdict == "accepted":
        assert post.values.get("buyer_lead_id")
    if verdict == "rejected":
        assert post.reason
    stats = sandbox.stats(name)
    assert stats.auth_failures == stats.bad_requests == stats.unknown_pings == 0
    assert stats.posts == 1 and stats.pings == len(found) - 1


@pytest.mark.parametrize("name", ["beacon-ping", "lighthouse-xml"])
def test_a_ping_without_a_bid_is_rejected(
    name: str, plans: dict[str, IntegrationPlan], make_sandbox: Any, caller: Any
) -> None:
    """With no_bid_rate 1 every ping is answered as the buyer's "no bid"."""
    sandbox = make_sandbox(no_bid_rate=1.0)
    talk = caller(sandbox, plans[name])
    assert talk.read("ping", talk.send("ping")).decision == "rejected"
    assert sandbox.stats(name).no_bids == 1


WRONG = dict.fromkeys(ENV, "wrong-secret")
#: What each buyer answers when the credentials are wrong.
DENIED = {
    "harbor-mutual": 401,
    "keystone-legacy": 401,
    "prairie-form": 403,
    "summit-crm": 400,  # the token endpoint refuses the client (invalid_client)
    "beacon-ping": 401,
    "lighthouse-xml": 401,
    "bluewater-agents": 403,
    "evergreen-life": 500,  # a SOAP fault wsse:FailedAuthentication
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_wrong_credentials_are_refused(
    name: str, plans: dict[str, IntegrationPlan], make_sandbox: Any, caller: Any
) -> None:
    """Each buyer checks its credentials where the real one does and refuses wrong ones."""
    sandbox = make_sandbox()
    talk = caller(sandbox, plans[name], WRONG)
    stage = next(iter(plans[name].stages))
    if name == "summit-crm":
        with pytest.raises(AssertionError, match="invalid_client"):
            talk.send(stage)
    else:
        assert talk.send(stage).status_code == DENIED[name]
    assert sandbox.stats(name).auth_failures == 1
    assert sandbox.stats(name).accepted == 0


def test_summit_refuses_unknown_and_expired_tokens(
    make_sandbox: Any, plans: Any, caller: Any
) -> None:
    """Summit's lead endpoint wants a token from its token endpoint that has not expired;
    otherwise it answers 401 INVALID_SESSION_ID, Salesforce's wording."""
    clock = FakeClock()
    sandbox = make_sandbox(clock, accept_rate=1.0)
    talk = caller(sandbox, plans["summit-crm"])
    url = sandbox.url + "/summit-crm/services/data/v60.0/sobjects/Lead"
    lead = {"LastName": "Smith", "Company": "Smith, John"}
    unknown = talk.client.post(url, json=lead, headers={"Authorization": "Bearer made-up"})
    assert unknown.status_code == 401
    assert unknown.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    token = talk.token()
    auth = {"Authorization": f"Bearer {token}"}
    assert talk.client.post(url, json=lead, headers=auth).status_code == 201
    clock.advance(sandbox.sandbox.config.buyer("summit-crm").token_ttl)
    assert talk.client.post(url, json=lead, headers=auth).status_code == 401
    assert sandbox.stats("summit-crm").tokens_issued == 1


def test_summit_token_answer_is_salesforce_shaped(
    make_sandbox: Any, plans: Any, caller: Any
) -> None:
    """The token answer carries access_token, instance_url and the configured lifetime."""
    sandbox = make_sandbox(token_ttl=90.0)
    talk = caller(sandbox, plans["summit-crm"])
    form = {"grant_type": "client_credentials", "client_id": ENV["SUMMIT_CLIENT_ID"]}
    form["client_secret"] = ENV["SUMMIT_CLIENT_SECRET"]
    body = talk.client.post(sandbox.url + "/summit-crm/services/oauth2/token", data=form).json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 90
    assert body["instance_url"] == sandbox.url + "/summit-crm"
    form["grant_type"] = "password"
    refused = talk.client.post(sandbox.url + "/summit-crm/services/oauth2/token", data=form)
    assert (refused.status_code, refused.json()["error"]) == (400, "unsupported_grant_type")


@pytest.mark.parametrize(
    ("name", "prior", "reason"),
    [
        ("beacon-ping", {"ping": {"ping_id": "123"}}, "unknown or expired ping_id"),
        ("lighthouse-xml", {"ping": {"token": "LH-made-up"}}, "Token expired"),
    ],
)
def test_a_post_needs_the_ping_id_the_buyer_issued(
    name: str,
    prior: Any,
    reason: str,
    plans: dict[str, IntegrationPlan],
    make_sandbox: Any,
    caller: Any,
) -> None:
    """A post carrying a ping id or auction token the buyer never issued is a rejection."""
    sandbox = make_sandbox()
    talk = caller(sandbox, plans[name])
    found = talk.read("post", talk.send("post", prior))
    assert (found.decision, found.reason) == ("rejected", reason)
    assert sandbox.stats(name).unknown_pings == 1


def test_a_ping_id_is_used_once(
    plans: dict[str, IntegrationPlan], make_sandbox: Any, caller: Any
) -> None:
    """Posting twice with one ping id sells the lead once; the second post is refused."""
    sandbox = make_sandbox(no_bid_rate=0.0)
    talk = caller(sandbox, plans["beacon-ping"])
    ping = talk.read("ping", talk.send("ping"))
    first = talk.read("post", talk.send("post", {"ping": ping.values}))
    second = talk.read("post", talk.send("post", {"ping": ping.values}))
    assert (first.decision, second.decision) == ("accepted", "rejected")


def test_harbor_replays_the_answer_for_a_repeated_idempotency_key(
    plans: dict[str, IntegrationPlan], make_sandbox: Any, caller: Any
) -> None:
    """A retried post with the same Idempotency-Key gets the first answer again."""
    sandbox = make_sandbox(accept_rate=0.5)
    talk = caller(sandbox, plans["harbor-mutual"])
    first, second = talk.send("post"), talk.send("post")
    assert first.content == second.content
    stats = sandbox.stats("harbor-mutual")
    assert (stats.posts, stats.replays, stats.accepted + stats.rejected) == (2, 1, 1)


def test_evergreen_refuses_a_replayed_ws_security_token(
    plans: dict[str, IntegrationPlan], make_sandbox: Any, caller: Any
) -> None:
    """The same request sent twice carries the same nonce: the second is a failed login, read
    by the buyer file's rules as an error (not a rejection of the lead)."""
    sandbox = make_sandbox(accept_rate=1.0)
    talk = caller(sandbox, plans["evergreen-life"])
    now = datetime.fromisoformat(talk.lead["timestamp"])
    ctx = RenderContext(talk.lead, now, {}, talk.environ)
    request = render_request(talk.plan, "post", ctx, "test")
    url = sandbox.url + request.url.removeprefix(TEST_ORIGIN)
    first, second = (
        talk.client.post(url, headers=dict(request.headers), content=request.body) for _ in range(2)
    )
    assert talk.read("post", first).decision == "accepted"
    again = talk.read("post", second)
    assert (second.status_code, again.decision) == (500, "error")
    assert "the nonce was used before" in second.text
    assert sandbox.stats("evergreen-life").auth_failures == 1

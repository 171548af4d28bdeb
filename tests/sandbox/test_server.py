"""The sandbox server: failure modes, seeded reproducibility, clean shutdown and the command."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from engine.cli import build_parser
from engine.commands.sandbox import run_sandbox
from engine.sandbox import (
    Burst,
    Faults,
    SandboxConfig,
    SandboxThread,
    parse_config,
    serve,
    start_in_thread,
)

CONFIG = """\
seed: 11
credentials: {APEX_PING_KEY: k1, PRAIRIE_API_KEY: k2, SUMMIT_CLIENT_ID: id, SUMMIT_CLIENT_SECRET: s}
buyers:
  apex-ping: {dialect: generic-json, no_bid_rate: 0.3, accept_rate: 0.7, duplicate_rate: 0.1}
  prairie-form: {dialect: prairie}
  summit-crm: {dialect: salesforce}
"""
PING = {"state": "TX", "zip": "78701"}
KEY = {"X-Api-Key": "k1"}


def faulty(**faults: Any) -> SandboxConfig:
    """The test config with the same faults on every buyer."""
    config = parse_config(CONFIG)
    return replace(config, buyers=tuple(replace(b, faults=Faults(**faults)) for b in config.buyers))


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def ping(client: httpx.Client, sandbox: SandboxThread) -> httpx.Response:
    return client.post(sandbox.url_for("apex-ping") + "/ping", json=PING, headers=KEY)


def test_server_errors(client: httpx.Client) -> None:
    """server_error_rate 1: every request is refused with the configured 5xx, unprocessed."""
    with start_in_thread(faulty(server_error_rate=1.0, server_error_status=502), port=0) as sb:
        answer = ping(client, sb)
        assert answer.status_code == 502
        assert answer.json() == {
            "status": "error",
            "reason": "the service is temporarily unavailable",
        }
        stats = sb.stats("apex-ping")
        assert (stats.server_errors, stats.bids, stats.no_bids) == (1, 0, 0)


def test_a_burst_of_503s_every_n_requests(client: httpx.Client) -> None:
    """burst {every: 3, length: 1}: the third request of every three is a 503."""
    with start_in_thread(faulty(burst=Burst(every=3, length=1, status=503)), port=0) as sb:
        statuses = [ping(client, sb).status_code for _ in range(6)]
    assert statuses == [200, 200, 503, 200, 200, 503]


def test_rate_limits_say_when_to_retry(client: httpx.Client) -> None:
    """rate_limit_rate 1: 429 with a Retry-After header in seconds."""
    with start_in_thread(faulty(rate_limit_rate=1.0, retry_after=3), port=0) as sb:
        answer = ping(client, sb)
        assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")
        assert sb.stats("apex-ping").rate_limited == 1


def test_a_timeout_hangs_past_the_deadline_and_stop_releases_it(client: httpx.Client) -> None:
    """timeout_rate 1: the request is processed but the answer does not come in time; stopping
    the sandbox does not wait for the hang."""
    sb = start_in_thread(faulty(timeout_rate=1.0, hang=300.0), port=0)
    with pytest.raises(httpx.ReadTimeout):
        client.post(sb.url_for("apex-ping") + "/ping", json=PING, headers=KEY, timeout=0.2)
    stats = sb.stats("apex-ping")
    assert stats.timeouts == 1 and stats.bids + stats.no_bids == 1
    sb.stop()
    assert not sb.running


def test_a_reset_cuts_the_answer(client: httpx.Client) -> None:
    """reset_rate 1: the connection is reset in the middle of the answer."""
    with start_in_thread(faulty(reset_rate=1.0), port=0) as sb:
        with pytest.raises(httpx.TransportError):
            ping(client, sb)
        assert sb.stats("apex-ping").resets == 1


def test_malformed_answers(client: httpx.Client) -> None:
    """malformed_rate 1: JSON answers are cut short; Prairie's PHP shows a warning page."""
    with start_in_thread(faulty(malformed_rate=1.0), port=0) as sb:
        answer = ping(client, sb)
        assert answer.status_code == 200
        with pytest.raises(ValueError):
            json.loads(answer.content)
        url = sb.url_for("prairie-form") + "/post.php?api_key=k2"
        php = client.post(url, data={"fname": "A", "lname": "B", "phone": "5125550142"})
        assert "<b>Warning</b>:  mysqli_connect()" in php.text
        assert sb.stats("apex-ping").malformed == sb.stats("prairie-form").malformed == 1


def test_the_token_endpoint_is_spared_by_faults(client: httpx.Client) -> None:
    """Faults hit pings and posts, not the OAuth token endpoint."""
    with start_in_thread(faulty(server_error_rate=1.0), port=0) as sb:
        form = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "s"}
        token = client.post(sb.url_for("summit-crm") + "/services/oauth2/token", data=form)
        assert token.status_code == 200
        url = sb.url_for("summit-crm") + "/services/data/v60.0/sobjects/Lead"
        auth = {"Authorization": "Bearer " + token.json()["access_token"]}
        lead = client.post(url, json={"LastName": "R", "Company": "R"}, headers=auth)
        assert lead.status_code == 500
        assert lead.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"


def session(config: SandboxConfig, client: httpx.Client, *, noise: bool = False) -> list[Any]:
    """Twenty pings and a post after each bid: every answer, in order. With ``noise``, a HEAD
    and a POST to an unknown endpoint before each ping."""
    answers: list[Any] = []
    with start_in_thread(config, port=0) as sb:
        for _ in range(20):
            if noise:
                client.head(sb.url_for("apex-ping") + "/ping")
                client.post(sb.url_for("apex-ping") + "/bid")
            bid = ping(client, sb).json()
            answers.append(bid)
            if bid["status"] == "bid":
                lead = {
                    "ping_id": bid["ping_id"],
                    "first_name": "A",
                    "last_name": "B",
                    "phone": "1",
                }
                answers.append(
                    client.post(sb.url_for("apex-ping") + "/post", json=lead, headers=KEY).json()
                )
    return answers


def test_a_seed_makes_answers_reproducible(client: httpx.Client) -> None:
    """Same seed and same requests: the same bids, ids and verdicts; another seed differs.
    Requests that are not POSTs to an endpoint (prewarming HEADs, typos) do not move the dice."""
    config = parse_config(CONFIG)
    first = session(config, client)
    assert session(config, client, noise=True) == first
    assert session(config, client) == first
    assert session(config.with_seed(12), client) != first
    assert {a["status"] for a in first} >= {"bid", "no_bid", "accepted"}


def test_stop_closes_everything(client: httpx.Client) -> None:
    """After stop: the thread is gone, kept-alive connections are closed, the port is free.
    (Other sandboxes may be serving meanwhile, e.g. the session's shared one.)"""

    def sandbox_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "leadpost-sandbox"}

    before = sandbox_threads()
    sb = start_in_thread(parse_config(CONFIG), port=0)
    assert len(sandbox_threads() - before) == 1
    assert ping(client, sb).status_code == 200
    port = sb.port
    sb.stop()
    assert not sb.running
    assert sandbox_threads() <= before
    with pytest.raises(httpx.TransportError):
        ping(client, sb)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    sb.stop()  # stopping twice is harmless


def test_a_busy_port_is_reported_to_the_caller() -> None:
    """start_in_thread raises the listening error instead of hanging."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            start_in_thread(parse_config(CONFIG), port=taken.getsockname()[1])


def test_only_loopback_addresses() -> None:
    """The sandbox refuses to listen anywhere but on this machine."""
    with pytest.raises(ValueError, match="only listens on this machine"):
        start_in_thread(parse_config(CONFIG), port=0, host="0.0.0.0")


@pytest.mark.anyio
async def test_serve_runs_until_cancelled() -> None:
    """serve() calls ready(port) once listening and stops cleanly when cancelled."""
    ports: list[int] = []
    listening = anyio.Event()

    def ready(port: int) -> None:
        ports.append(port)
        listening.set()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve(parse_config(CONFIG), "127.0.0.1", 0, ready=ready))
        await listening.wait()
        async with httpx.AsyncClient() as c:
            url = f"http://127.0.0.1:{ports[0]}/apex-ping/ping"
            assert (await c.post(url, json=PING, headers=KEY)).status_code == 200
        group.cancel_scope.cancel()


def test_run_sandbox_reports_a_bad_file(tmp_path: Path) -> None:
    """A file with problems: exit status 1 and every problem with its position."""
    bad = tmp_path / "sandbox.yaml"
    bad.write_text("buyers:\n  apex-ping: {dialect: jsonish}\n")
    err = io.StringIO()
    assert run_sandbox(bad, 0, out=io.StringIO(), err=err) == 1
    assert "sandbox.yaml:2:24: LP205 unknown dialect 'jsonish'" in err.getvalue()


def test_run_sandbox_reports_a_busy_port(tmp_path: Path) -> None:
    """A port in use: exit status 1 and a hint to choose another."""
    good = tmp_path / "sandbox.yaml"
    good.write_text(CONFIG)
    err = io.StringIO()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert run_sandbox(good, taken.getsockname()[1], out=io.StringIO(), err=err) == 1
    assert "choose another with --port" in err.getvalue()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_command_serves_until_interrupted(tmp_path: Path, signum: int) -> None:
    """`leadpost sandbox FILE --port 0`: a banner with the secrets, then on Ctrl-C (or SIGTERM)
    a summary of what each buyer saw."""
    good = tmp_path / "sandbox.yaml"
    good.write_text(CONFIG)
    code = (
        "import sys; from engine.commands.sandbox import run_sandbox;"
        " sys.exit(run_sandbox(sys.argv[1], 0))"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(good)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(9)]
        assert banner[0].startswith("leadpost sandbox: 3 simulated buyers on http://127.0.0.1:")
        assert "  export APEX_PING_KEY=k1\n" in banner
        url = banner[0].split(" on ")[1].split(" ")[0]
        with httpx.Client() as c:
            assert c.post(url + "/apex-ping/ping", json=PING, headers=KEY).status_code == 200
        proc.send_signal(signum)
        out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "sandbox stopped; what each buyer saw:" in out
    assert any(line.split()[:2] == ["apex-ping", "1"] for line in out.splitlines())


def test_sandbox_command_arguments() -> None:
    """The subcommand takes an optional file, --port and --seed."""
    parser, _ = build_parser(["sandbox"])
    args = parser.parse_args(["sandbox", "--port", "0", "--seed", "5"])
    assert (args.config, args.port, args.seed) == ("integrations/sandbox.yaml", 0, 5)

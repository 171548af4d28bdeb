"""Serve the simulated buyers over HTTP on loopback: routing, latency, faults, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from engine.clock import Clock, SystemClock
from engine.sandbox.base import Answer, Buyer, BuyerStats, Event, Incoming, Kind, Route
from engine.sandbox.config import SandboxConfig, load_config
from engine.sandbox.dialects import DIALECTS
from engine.sandbox.dice import Roll
from engine.sandbox.force import FORCE_HEADER, FORCE_QUERY, FORCED_HANG, parse_force

#: Seconds the server waits for answers in flight when it stops (hung answers are released).
SHUTDOWN_GRACE = 2.0
_REFUSING = ("burst", "server_error", "rate_limit")
_KIND_EVENTS: dict[Kind, Event] = {"ping": "pings", "post": "posts", "token": "token_requests"}


class Sandbox:
    """Every simulated buyer of one config, answering through one aiohttp application."""

    def __init__(self, config: SandboxConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.buyers: dict[str, Buyer] = {}
        for sim in config.buyers:
            secrets = {role: config.credentials[env] for role, env in sim.secrets.items()}
            dialect = DIALECTS[sim.dialect]
            self.buyers[sim.id] = Buyer(sim, dialect, secrets, config.seed, self.clock)
        self._stopping: asyncio.Event | None = None

    def stats(self) -> dict[str, BuyerStats]:
        return {buyer_id: buyer.stats() for buyer_id, buyer in self.buyers.items()}

    def application(self) -> web.Application:
        app = web.Application(client_max_size=2**20)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def run(
        self,
        host: str,
        port: int,
        *,
        ready: Callable[[int], None] | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Listen on ``host:port`` (0: any free port), call ``ready(port)``, serve until ``stop``
        is set or the task is cancelled, then close every connection."""
        if not _loopback(host):
            raise ValueError(f"the sandbox only listens on this machine (127.0.0.1), not on {host}")
        self._stopping = asyncio.Event()
        runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port, reuse_address=True)
            await site.start()
            if ready is not None:
                ready(int(runner.addresses[0][1]))
            await (stop or asyncio.Event()).wait()
        finally:
            self._stopping.set()
            await runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        buyer_id, _, rest = request.path.lstrip("/").partition("/")
        buyer = self.buyers.get(buyer_id)
        if buyer is None:
            known = ", ".join(self.buyers)
            return web.Response(
                status=404, text=f"no simulated buyer '{buyer_id}' here; try {known}"
            )
        body = await request.read()
        buyer.count("requests")
        dialect = buyer.dialect
        route = dialect.routes().get("/" + rest)
        if route is None:
            buyer.count("not_found")
            return self._respond(buyer, dialect.error(404, f"no such endpoint: /{rest}"))
        if request.method != "POST":
            return self._respond(buyer, dialect.error(405, "only POST is accepted here"))
        roll = buyer.roll()  # only here: HEADs (connection prewarming) and typos keep the dice
        buyer.count(_KIND_EVENTS[route.kind])
        force = parse_force(request.headers.get(FORCE_HEADER) or request.query.get(FORCE_QUERY))
        if isinstance(force, str):
            buyer.count("bad_requests")
            return self._respond(buyer, dialect.error(400, force))
        await self._pause(roll.latency)
        hang = buyer.sim.faults.hang
        if force is not None and route.kind != "token":
            if force.status is not None:
                return self._respond(buyer, self._forced(buyer, force.status))
            roll = force.apply(roll)
            hang = max(hang, FORCED_HANG)
        faulty = route.kind != "token" and roll.fault is not None
        if faulty and roll.fault in _REFUSING:
            return self._respond(buyer, self._refusal(buyer, roll))
        call = Incoming(
            method=request.method,
            route="/" + rest,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            base_url=f"{request.scheme}://{request.host}/{buyer_id}",
        )
        return await self._answer(request, buyer, route, call, roll, faulty, hang)

    async def _answer(
        self,
        request: web.Request,
        buyer: Buyer,
        route: Route,
        call: Incoming,
        roll: Roll,
        faulty: bool,
        hang: float,
    ) -> web.StreamResponse:
        answer = route.handler(buyer, call, roll)
        if not faulty:
            return self._respond(buyer, answer)
        if roll.fault == "timeout":
            buyer.count("timeouts")
            await self._pause(hang)
        elif roll.fault == "reset":
            buyer.count("resets")
            return await self._reset(request, buyer, answer)
        elif roll.fault == "malformed":
            buyer.count("malformed")
            answer = buyer.dialect.malformed(answer, roll)
        return self._respond(buyer, answer)

    def _refusal(self, buyer: Buyer, roll: Roll) -> Answer:
        faults, dialect = buyer.sim.faults, buyer.dialect
        if roll.fault == "rate_limit":
            buyer.count("rate_limited")
            answer = dialect.error(429, "too many requests, slow down")
            retry = (("Retry-After", str(faults.retry_after)),)
            return Answer(answer.status, answer.body, answer.content_type, answer.headers + retry)
        buyer.count("server_errors")
        status = (
            faults.burst.status
            if roll.fault == "burst" and faults.burst
            else faults.server_error_status
        )
        return dialect.error(status, "the service is temporarily unavailable")

    @staticmethod
    def _forced(buyer: Buyer, status: int) -> Answer:
        """The buyer's error answer with ``status``, asked for with X-Sandbox-Force."""
        event: Event = "bad_requests"
        if status >= 500:
            event = "server_errors"
        elif status in (401, 429):
            event = "auth_failures" if status == 401 else "rate_limited"
        buyer.count(event)
        answer = buyer.dialect.error(status, f"failure forced with {FORCE_HEADER}")
        if status != 429:
            return answer
        retry = (("Retry-After", str(buyer.sim.faults.retry_after)),)
        return Answer(answer.status, answer.body, answer.content_type, answer.headers + retry)

    @staticmethod
    def _headers(buyer: Buyer, answer: Answer) -> dict[str, str]:
        return {
            "Content-Type": answer.content_type,
            "Server": buyer.dialect.server,
            **dict(answer.headers),
        }

    def _respond(self, buyer: Buyer, answer: Answer) -> web.Response:
        return web.Response(
            status=answer.status, body=answer.body, headers=self._headers(buyer, answer)
        )

    async def _reset(
        self, request: web.Request, buyer: Buyer, answer: Answer
    ) -> web.StreamResponse:
        """Send the head and half the body, then reset the connection (TCP RST)."""
        headers = {**self._headers(buyer, answer), "Content-Length": str(len(answer.body))}
        response = web.StreamResponse(status=answer.status, headers=headers)
        await response.prepare(request)
        await response.write(answer.body[: len(answer.body) // 2])
        await asyncio.sleep(0.01)
        transport = request.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        return response

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the server is stopping."""
        if seconds <= 0 or self._stopping is None or self._stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def serve(
    config: SandboxConfig,
    host: str = "127.0.0.1",
    port: int | None = None,
    *,
    ready: Callable[[int], None] | None = None,
    clock: Clock | None = None,
) -> None:
    """Serve ``config``'s buyers until cancelled; ``port`` None means the file's port (8701)."""
    sandbox = Sandbox(config, clock=clock)
    await sandbox.run(host, config.port if port is None else port, ready=ready)


class SandboxThread:
    """A sandbox served from its own thread and event loop (tests, the demo)."""

    def __init__(self, config: SandboxConfig, clock: Clock | None = None) -> None:
        self.sandbox = Sandbox(config, clock=clock)
        self.port = 0
        self.url = ""
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def url_for(self, buyer_id: str) -> str:
        """``http://127.0.0.1:<port>/<buyer_id>``: where that buyer's endpoints live."""
        return f"{self.url}/{buyer_id}"

    def stats(self, buyer_id: str) -> BuyerStats:
        return self.sandbox.buyers[buyer_id].stats()

    def all_stats(self) -> dict[str, BuyerStats]:
        return self.sandbox.stats()

    def buyer(self, buyer_id: str) -> Buyer:
        return self.sandbox.buyers[buyer_id]

    def start(self, host: str, port: int) -> SandboxThread:
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._main(host, port),), name="leadpost-sandbox", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise RuntimeError("the sandbox did not start within 10 seconds")
        if self._error is not None:
            self._thread.join(timeout=10)
            raise self._error
        return self

    async def _main(self, host: str, port: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.sandbox.run(host, port, ready=self._started, stop=self._stop)
        except BaseException as exc:  # reported to the starting thread, which raises it
            self._error = exc
        finally:
            self._ready.set()

    def _started(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()

    def stop(self) -> None:
        """Stop serving, release hung answers, close every connection, end the thread."""
        if self._thread is None or not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=SHUTDOWN_GRACE + 10)

    def __enter__(self) -> SandboxThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    config: SandboxConfig | str | os.PathLike[str],
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    clock: Clock | None = None,
) -> SandboxThread:
    """Serve ``config`` (or the sandbox file at that path) from a background thread.

    ``port`` None means the file's port (8701, where the example integrations' test
    environments point); pass 0 for any free port. Use as a context manager, or call ``stop()``.
    """
    if isinstance(config, str | os.PathLike):
        config = load_config(Path(config))
    return SandboxThread(config, clock).start(host, config.port if port is None else port)

"""A scriptable test buyer: a real HTTP/1.1 server on 127.0.0.1, run in a background thread.

Works from sync tests and from anyio tests alike (it has its own event loop in its own thread).

    server.script("/post", Reply(500), Reply.json({"status": "accepted"}))   # answered in order
    server.default("/post", Reply(200, b"ok"))       # answered once the queue is empty
    server.received("/post")[0].json()               # what the buyer got

A :class:`Reply` can wait before answering (``delay``), send its body one byte at a time
(``trickle``), reset the connection before answering or in the middle of the body (``reset``),
never answer (``hang``), or send arbitrary bytes instead of a response (``raw``).

OAuth: ``enable_oauth()`` adds a client-credentials token endpoint (counting requests in
``token_requests``) and ``protect(path)`` makes a path answer 401 unless it gets a bearer token
the endpoint issued and that has not expired on the server's clock (``clock``, settable).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

_PHRASES = {s.value: s.phrase for s in HTTPStatus}


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before the status line."""
    trickle: float = 0.0
    """Seconds to wait between body bytes (the body is sent one byte at a time)."""
    reset: Literal["before", "mid_body"] | None = None
    """Abort the connection with a TCP reset before answering, or after half the body."""
    hang: bool = False
    """Accept the request and never answer (until the server stops)."""
    raw: bytes | None = None
    """Send exactly these bytes instead of a response, then close the connection."""

    @classmethod
    def json(cls, data: Any, status: int = 200, **kw: Any) -> Reply:
        headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
        return cls(status, json.dumps(data).encode(), headers, **kw)


@dataclass(frozen=True)
class Received:
    """One request as the buyer received it. Header names are lower-case."""

    method: str
    target: str
    """The request target as sent: a path, or a full URL when sent through a proxy."""
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    connection: int
    """Which TCP connection carried it (numbered from 1), to check connection reuse."""
    token_client: str | None = None
    """The client id of the OAuth token it carried, on protected paths."""

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Issued:
    client_id: str
    scope: str
    expires_at: float


class BuyerServer:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        """Server-side time for token expiry (may be a FakeClock's ``now``)."""
        self.url = ""
        self.port = 0
        self.token_requests = 0
        self.tokens: dict[str, Issued] = {}
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._defaults: dict[str, Reply] = {}
        self._requests: list[Received] = []
        self._protected: set[str] = set()
        self._oauth: tuple[str, dict[str, str], float | None, float | None] | None = None
        self._connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._stopping: asyncio.Event | None = None

    # -- control (called from the test's thread) ---------------------------------------------

    def start(self) -> BuyerServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=5)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def script(self, path: str, *replies: Reply) -> None:
        """Queue replies for ``path``; each request takes the next one."""
        with self._lock:
            self._scripts[path].extend(replies)

    def default(self, path: str, reply: Reply) -> None:
        """The reply for ``path`` when its queue is empty (otherwise ``200 ok``)."""
        with self._lock:
            self._defaults[path] = reply

    def received(self, path: str | None = None) -> list[Received]:
        """Requests received so far (to ``path`` only, when given), in arrival order."""
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def enable_oauth(
        self,
        path: str = "/oauth/token",
        clients: Mapping[str, str] | None = None,
        expires_in: float | None = 3600,
        lifetime: float | None = None,
    ) -> str:
        """Serve a token endpoint at ``path`` for ``clients`` (id -> secret). Tokens advertise
        ``expires_in`` (left out when None) and die after ``lifetime`` server seconds (default:
        ``expires_in``, or 3600). Returns the token URL."""
        with self._lock:
            self._oauth = (path, dict(clients or {"client": "secret"}), expires_in, lifetime)
        return self.url + path

    def protect(self, *paths: str) -> None:
        """Make ``paths`` answer 401 without a valid, unexpired bearer token."""
        with self._lock:
            self._protected.update(paths)

    def expire_tokens(self) -> None:
        """Every token issued so far is expired from now on."""
        with self._lock:
            for issued in self.tokens.values():
                issued.expires_at = float("-inf")

    def __enter__(self) -> BuyerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving (runs in the server's thread) -------------------------------------------------

    async def _start(self) -> None:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    async def _stop(self) -> None:
        assert self._server is not None and self._stopping is not None
        self._stopping.set()
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self._connections += 1
            conn = self._connections
        try:
            while await self._one(reader, writer, conn):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.transport.abort()

    async def _one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: int
    ) -> bool:
        line = await reader.readline()
        if not line.strip():
            return False
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = h.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self._body(reader, headers)
        parts = urlsplit(target)
        request = Received(method, target, parts.path, parts.query, headers, body, conn)
        reply, request = self._decide(request)
        with self._lock:
            self._requests.append(request)
        await self._send(writer, reply, head=method == "HEAD")
        return reply.raw is None and headers.get("connection", "").lower() != "close"

    @staticmethod
    async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                chunks.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            return b"".join(chunks)
        return await reader.readexactly(int(headers.get("content-length", "0")))

    def _decide(self, request: Received) -> tuple[Reply, Received]:
        with self._lock:
            queue = self._scripts.get(request.path)
            scripted = queue.popleft() if queue else None
            oauth = self._oauth
            if oauth is not None and request.path == oauth[0]:
                self.token_requests += 1
                return scripted or self._issue(request, oauth), request
            if request.path in self._protected:
                auth = request.headers.get("authorization", "")
                issued = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
                if issued is None or issued.expires_at <= self.clock():
                    fail = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                    return Reply.json({"error": "invalid_token"}, 401, headers=fail), request
                request = replace(request, token_client=issued.client_id)
            return scripted or self._defaults.get(request.path, Reply(200, b"ok")), request

    def _issue(
        self, request: Received, oauth: tuple[str, dict[str, str], float | None, float | None]
    ) -> Reply:
        _path, clients, expires_in, lifetime = oauth
        form = request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return Reply.json({"error": "unsupported_grant_type"}, 400)
        if client_id is None or clients.get(client_id) != secret:
            return Reply.json({"error": "invalid_client"}, 401)
        token = secrets.token_urlsafe(16)
        life = lifetime if lifetime is not None else (expires_in or 3600)
        self.tokens[token] = Issued(client_id, form.get("scope", ""), self.clock() + life)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if expires_in is not None:
            answer["expires_in"] = expires_in
        return Reply.json(answer)

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply, *, head: bool) -> None:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.hang:
            assert self._stopping is not None
            await self._stopping.wait()
            raise ConnectionError("server stopping")
        if reply.reset == "before":
            self._reset(writer)
        if reply.raw is not None:
            writer.write(reply.raw)
            await writer.drain()
            raise ConnectionError("raw reply sent")
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        headers = {"Content-Length": str(len(body)), **reply.headers}
        phrase = _PHRASES.get(reply.status, "Unknown")
        head_text = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write(head_text.encode("latin-1") + b"\r\n")
        if head:
            body = b""
        if reply.reset == "mid_body":
            writer.write(body[: len(body) // 2])
            await writer.drain()
            await asyncio.sleep(0.01)
            self._reset(writer)
        if reply.trickle:
            for i in range(len(body)):
                writer.write(body[i : i + 1])
                await writer.drain()
                await asyncio.sleep(reply.trickle)
        else:
            writer.write(body)
        await writer.drain()

    @staticmethod
    def _reset(writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        raise ConnectionResetError("reset by script")

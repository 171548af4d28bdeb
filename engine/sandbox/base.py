"""What every simulated buyer shares: a request as received, an answer, the dice, the memory."""

from __future__ import annotations

import json
import random
import threading
from abc import ABC, abstractmethod
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl

from engine.clock import Clock
from engine.sandbox.dice import Roll, Verdict, draw

if TYPE_CHECKING:
    from engine.sandbox.config import BuyerSim

Kind = Literal["ping", "post", "token"]
#: How many issued ping ids, OAuth tokens and idempotent answers one buyer remembers.
MEMORY = 100_000


@dataclass(frozen=True, slots=True)
class Incoming:
    """One request as the buyer received it; header names are lower-case."""

    method: str
    route: str
    """The path after the buyer's prefix: ``/v2/leads`` for ``/harbor-mutual/v2/leads``."""
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    base_url: str
    """Scheme, host and buyer prefix, e.g. ``http://127.0.0.1:8701/summit-crm``."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            data = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def form(self) -> dict[str, str] | None:
        """The body as an HTML form (``a=1&b=2``), or None when it is not one."""
        if self.content_type() != "application/x-www-form-urlencoded":
            return None
        try:
            text = self.body.decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        except (UnicodeDecodeError, ValueError):
            return None
        return dict(pairs)


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Answer:
        return cls(status, json.dumps(data).encode(), "application/json; charset=utf-8")

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Answer:
        return cls(status, text.encode("utf-8"), f"{content_type}; charset=utf-8")


@dataclass(frozen=True, slots=True)
class BuyerStats:
    """What one simulated buyer has seen and answered so far."""

    requests: int = 0
    pings: int = 0
    posts: int = 0
    token_requests: int = 0
    bids: int = 0
    no_bids: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unknown_pings: int = 0
    replays: int = 0
    tokens_issued: int = 0
    auth_failures: int = 0
    bad_requests: int = 0
    not_found: int = 0
    server_errors: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    resets: int = 0
    malformed: int = 0


Event = Literal[
    "requests",
    "pings",
    "posts",
    "token_requests",
    "bids",
    "no_bids",
    "accepted",
    "duplicates",
    "rejected",
    "unknown_pings",
    "replays",
    "tokens_issued",
    "auth_failures",
    "bad_requests",
    "not_found",
    "server_errors",
    "rate_limited",
    "timeouts",
    "resets",
    "malformed",
]
_EVENTS = frozenset(f.name for f in fields(BuyerStats))
_COUNTED: dict[Verdict, Event] = {
    "accepted": "accepted",
    "duplicate": "duplicates",
    "rejected": "rejected",
}


class Buyer:
    """The live state of one simulated buyer: its dice, counters and what it has issued."""

    def __init__(
        self,
        sim: BuyerSim,
        dialect: Dialect,
        secrets: Mapping[str, str],
        seed: int | None,
        clock: Clock,
    ) -> None:
        self.sim = sim
        self.dialect = dialect
        self.secrets = dict(secrets)
        self.clock = clock
        self.rng = random.Random(None if seed is None else f"{seed}/{sim.id}")
        self._serial_base = self.rng.randrange(10_000, 90_000) * 10
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._rolled = 0
        self._pings: OrderedDict[str, tuple[Decimal, float]] = OrderedDict()
        self._tokens: OrderedDict[str, float] = OrderedDict()
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def secret(self, role: str) -> str:
        return self.secrets[role]

    def count(self, event: Event) -> None:
        assert event in _EVENTS
        with self._lock:
            self._counts[event] += 1

    def verdict(self, verdict: Verdict) -> Verdict:
        """Count a post's verdict and return it."""
        self.count(_COUNTED[verdict])
        return verdict

    def stats(self) -> BuyerStats:
        with self._lock:
            return BuyerStats(**self._counts)

    def roll(self) -> Roll:
        """Draw the choices for the next POST to one of this buyer's endpoints."""
        with self._lock:
            self._rolled += 1
            number = self._rolled
        return draw(self.sim, self.rng, number, self._serial_base + number)

    # -- memory: ping ids, OAuth tokens, idempotent answers --------------------------------

    def issue_ping(self, ping_id: str, price: Decimal) -> None:
        with self._lock:
            _remember(self._pings, ping_id, (price, self.clock.now() + self.sim.ping_ttl))
        self.count("bids")

    def take_ping(self, ping_id: str) -> Decimal | None:
        """The price bid for ``ping_id`` if it was issued and has not expired; it is used up."""
        with self._lock:
            found = self._pings.pop(ping_id, None)
        if found is None or found[1] <= self.clock.now():
            self.count("unknown_pings")
            return None
        return found[0]

    def issue_token(self, token: str) -> None:
        with self._lock:
            _remember(self._tokens, token, self.clock.now() + self.sim.token_ttl)
        self.count("tokens_issued")

    def token_valid(self, token: str | None) -> bool:
        with self._lock:
            expires = self._tokens.get(token) if token else None
        return expires is not None and expires > self.clock.now()

    def expire_tokens(self) -> None:
        """Every token issued so far is expired from now on (as if its lifetime had passed)."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = float("-inf")

    def replay(self, key: str | None) -> Answer | None:
        """The answer already given to a request with this idempotency key, if any."""
        with self._lock:
            found = self._answers.get(key) if key else None
        if found is not None:
            self.count("replays")
        return found

    def keep(self, key: str | None, answer: Answer) -> Answer:
        if key:
            with self._lock:
                _remember(self._answers, key, answer)
        return answer


def _remember(memory: OrderedDict[str, Any], key: str, value: Any) -> None:
    memory[key] = value
    while len(memory) > MEMORY:
        memory.popitem(last=False)


Handler = Callable[[Buyer, Incoming, Roll], Answer]


@dataclass(frozen=True, slots=True)
class Route:
    kind: Kind
    handler: Handler


class Dialect(ABC):
    """How one kind of buyer reads requests and words its answers."""

    name: ClassVar[str]
    summary: ClassVar[str]
    secrets: ClassVar[Mapping[str, str]]
    """Credential roles and the environment variable each one is read from by default."""
    reasons: ClassVar[tuple[str, ...]]
    """Rejection reasons to pick from when a buyer file does not list its own."""
    server: ClassVar[str] = "leadpost-sandbox"

    def default_secrets(self, buyer_id: str) -> dict[str, str]:
        return dict(self.secrets)

    @abstractmethod
    def routes(self) -> Mapping[str, Route]:
        """Paths after the buyer's prefix, each with what it is and who answers it."""

    @abstractmethod
    def error(self, status: int, message: str) -> Answer:
        """This buyer's answer for an HTTP error (404, 405, 429, 5xx)."""

    def malformed(self, answer: Answer, roll: Roll) -> Answer:
        """A garbled version of ``answer``: by default the body is cut short."""
        body = answer.body[: max(1, int(len(answer.body) * roll.cut))]
        return Answer(answer.status, body, answer.content_type, answer.headers)

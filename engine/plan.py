"""Compiled plans: frozen values, the only contract between the compile side and the run side.

The compiler turns a validated integration file into an :class:`IntegrationPlan` once; the
runtime executes plans for many leads and never sees YAML, pydantic models or JMESPath text.
Everything per-lead is a plain callable captured here at compile time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from engine.frozen import frozen
from engine.positions import Span


class _Omit:
    """Marker returned by a field that must be left out of the payload."""

    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"

    def __bool__(self) -> bool:
        return False


OMIT: Any = _Omit()

# ----------------------------------------------------------------------------------------------
# Values resolved at run time: secrets and environment references
# ----------------------------------------------------------------------------------------------


#: How a reference to an environment variable is written in a file: ``${env:NAME}``.
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A ``${env:NAME}`` reference; the value is read from the environment only when sending."""

    name: str


@dataclass(frozen=True, slots=True)
class Template:
    """Text made of literal parts and secret references, e.g. ``Bearer ${env:TOKEN}``."""

    parts: tuple[str | SecretRef, ...]

    @property
    def is_secret(self) -> bool:
        return any(isinstance(p, SecretRef) for p in self.parts)

    def resolve(self, environ: Mapping[str, str]) -> str:
        """The real text. Raises KeyError naming the variable when it is not set."""
        out = []
        for p in self.parts:
            if isinstance(p, SecretRef):
                if p.name not in environ:
                    raise KeyError(p.name)
                out.append(environ[p.name])
            else:
                out.append(p)
        return "".join(out)

    def masked(self) -> str:
        """The text with every secret shown as ``${env:NAME}`` (safe to print and log)."""
        return "".join(f"${{env:{p.name}}}" if isinstance(p, SecretRef) else p for p in self.parts)


# ----------------------------------------------------------------------------------------------
# Rendering a request: fields, transforms, encoders
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of one field's computation, recorded only when explaining a lead."""

    field: str
    step: str
    value: Any
    span: Span | None


class Stamp(Protocol):
    """Where per-send values come from: fresh random bytes and the current time. Injected in
    tests so that a WS-Security header (its nonce and creation time) is reproducible."""

    def nonce(self) -> bytes:
        """16 fresh random bytes."""
        ...

    def now(self) -> datetime:
        """The current time (timezone-aware)."""
        ...


@dataclass(slots=True)
class RenderContext:
    """Everything a field may read while rendering one lead for one stage."""

    lead: Mapping[str, Any]
    """The normalized lead document (nested dicts, as validated against the lead schema)."""
    now: datetime
    """The lead's timestamp (timezone-aware): "as of" time for ages and date arithmetic."""
    prior: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Values extracted from earlier stages' responses: ``{"ping": {"ping_id": 123}}``."""
    environ: Mapping[str, str] = field(default_factory=dict)
    """Where ``${env:NAME}`` constants in payload fields are read from."""
    trace: list[TraceStep] | None = None
    """When a list, every field step appends a TraceStep (``leadpost explain``)."""
    stamp: Stamp | None = None
    """Randomness and clock for per-send values (None: the system's)."""


#: A compiled transform step: takes the current value, returns the new one or raises MappingError.
Transform = Callable[[Any, RenderContext], Any]

#: A path in the output document: object keys / XML elements, ``@name`` for an XML attribute,
#: integers for list positions.
OutputPath = tuple[str | int, ...]


class Rows(tuple[Any, ...]):
    """The rendered items of a list field (``each:``), in order: for a list of objects one
    tuple of values per item, aligned with :attr:`ItemsPlan.fields`; for a list of values the
    values themselves. Encoders write them as a JSON array, repeated XML elements or indexed
    form names."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ItemsPlan:
    """What an encoder needs to know about one list field's items."""

    fields: tuple[FieldPlan, ...] = ()
    """The fields of one item (their paths relative to the item); empty for a list of values."""
    names: str | None = None
    """Form and query: the pattern naming each item's fields, e.g. ``driver{n}_{name}``."""


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """One output field: where it goes and how its value is computed from a lead."""

    name: str
    path: OutputPath
    compute: Callable[[RenderContext], Any]
    """Returns the value (str, int, float, Decimal, bool, None) or OMIT; raises MappingError."""
    span: Span
    description: str
    """Plain English, for ``leadpost explain``: e.g. "lead.phone, formatted as 555-123-4567"."""
    reads: tuple[str, ...] = ()
    """Lead fields this field reads (dotted), for lint and for the ping PII check."""
    pii: bool = False
    """True when it reads a field the lead schema marks as PII: masked in logs, never pinged."""
    items: ItemsPlan | None = None
    """A list field (``each:``): its value is :class:`Rows`, shaped as this says."""


class Encoder(Protocol):
    """Turns one lead's rendered values into a request body (or query string).

    Built at compile time for a fixed list of output paths; ``values`` align with those paths
    (file order) and a value that is OMIT is left out.
    """

    content_type: str
    """e.g. ``application/json`` or ``application/xml; charset=ISO-8859-1``."""

    def encode(self, values: Sequence[Any]) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``total`` bounds the whole stage, enforced by a cancel scope."""

    connect: float = 2.0
    read: float = 10.0
    total: float = 15.0


@dataclass(frozen=True, slots=True)
class SoapEnvelope:
    """A SOAP stage's envelope, where leadpost adds a header per send (WS-Security)."""

    root: str
    """The root element as written, e.g. ``soap:Envelope``."""
    prefix: str
    """The envelope's namespace prefix (``soap``), or empty when it is the default namespace."""
    namespace: str
    """The SOAP envelope namespace (1.1 or 1.2)."""
    codec: str
    """Python's name of the document's encoding."""


@dataclass(frozen=True, slots=True)
class RequestPlan:
    method: str
    path: str
    """Appended to the environment's base URL (may be empty)."""
    headers: tuple[tuple[str, Template], ...]
    fields: tuple[FieldPlan, ...]
    encoder: Encoder
    in_query: bool
    """True when the encoded fields form the query string (GET pings) instead of the body."""
    timeouts: Timeouts
    render: Callable[[RenderContext], list[Any]] | None = None
    """Every field's value in one call (the fused renderer); same results as each compute."""
    envelope: SoapEnvelope | None = None
    """Set for a SOAP stage (an XML body whose root is a SOAP envelope)."""


# ----------------------------------------------------------------------------------------------
# Reading a response
# ----------------------------------------------------------------------------------------------

Decision = Literal["accepted", "rejected", "duplicate", "error"]


@frozen
class Interpretation:
    """What the response rules made of one response."""

    decision: Decision | None
    """None when no rule decided (only for non-2xx statuses: the runtime classifies those)."""
    values: Mapping[str, Any]
    """Extracted values: buyer_lead_id, price (Decimal), ping_id, token, redirect_url, reason, …"""
    reason: str | None = None
    rule: Span | None = None
    """The rule that decided, for explain and logs."""

    @property
    def price(self) -> Decimal | None:
        p = self.values.get("price")
        return p if isinstance(p, Decimal) else None


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    interpret: Callable[[int, Mapping[str, str], bytes], Interpretation]
    """(status, headers with lower-case names, body) -> Interpretation. Never raises."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class StagePlan:
    name: str
    request: RequestPlan
    response: ResponsePlan
    span: Span


# ----------------------------------------------------------------------------------------------
# Auth, environments, resilience, eligibility
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoAuth:
    kind: Literal["none"] = "none"


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    location: Literal["header", "query"]
    name: str
    key: Template
    prefix: str = ""
    """Put before the key in a header, e.g. ``"Bearer "``."""
    kind: Literal["api_key"] = "api_key"


@dataclass(frozen=True, slots=True)
class BasicAuth:
    username: Template
    password: Template
    kind: Literal["basic"] = "basic"


@dataclass(frozen=True, slots=True)
class BearerAuth:
    token: Template
    kind: Literal["bearer"] = "bearer"


@dataclass(frozen=True, slots=True)
class OAuth2Auth:
    """OAuth 2.0 client credentials grant."""

    token_url: str
    client_id: Template
    client_secret: Template
    scopes: tuple[str, ...] = ()
    client_auth: Literal["body", "basic"] = "body"
    kind: Literal["oauth2"] = "oauth2"


@dataclass(frozen=True, slots=True)
class WsseAuth:
    """OASIS WS-Security UsernameToken (Profile 1.0/1.1) in the SOAP header of every request.

    The header is made per send (a fresh nonce and creation time) when the body is rendered;
    nothing is added to the HTTP headers.
    """

    username: Template
    password: Template
    digest: bool = True
    """PasswordDigest = Base64(SHA-1(nonce + created + password)); False: PasswordText."""
    timestamp: float | None = None
    """Seconds a ``wsu:Timestamp`` is valid for (Expires = Created + this); None: no Timestamp."""
    must_understand: bool = True
    """Mark the Security header ``mustUnderstand="1"``."""
    kind: Literal["wsse_username_token"] = "wsse_username_token"


AuthPlan = NoAuth | ApiKeyAuth | BasicAuth | BearerAuth | OAuth2Auth | WsseAuth


@dataclass(frozen=True, slots=True)
class ForcedFailure:
    """A failure the buyer's test environment makes on request, checked by ``leadpost
    preflight``: send these headers / query parameters and expect this outcome class."""

    headers: tuple[tuple[str, str], ...]
    query: tuple[tuple[str, str], ...]
    stage: str | None
    """The stage to send it to (None: the post)."""
    expect: str
    """An outcome class (``server_error`` …), or ``timeout``: the buyer does not answer in time."""
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class EnvironmentPlan:
    name: str
    url: str
    tls_verify: bool = True
    http2: bool = False
    proxy: str | None = None
    source_address: str | None = None
    token_url: str | None = None
    """Overrides the OAuth token URL in this environment (e.g. a sandbox identity provider)."""
    force_failure: tuple[ForcedFailure, ...] = ()
    """Failures this environment makes on request (test environments that offer them)."""
    allow_private: bool = False
    """May connect to private and loopback addresses (a test environment on a local network);
    ignored in production (see :mod:`engine.runtime.addresses`)."""


ErrorClass = Literal[
    "transport",  # failed before the request was sent: safe to retry
    "unknown",  # failed after sending (read timeout, reset): the buyer may have the lead
    "client_error",  # 400, 403, 404 and other 4xx
    "auth",  # 401, or the token endpoint failed
    "rate_limited",  # 429
    "server_error",  # 5xx
    "rejected",  # the buyer said no (application level)
    "duplicate",  # the buyer already has this lead
    "bad_response",  # 2xx we could not read or no rule matched
]


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """Step Functions vocabulary: attempts in total, first interval, rate, cap, jitter."""

    max_attempts: int = 6
    interval: float = 2.0
    backoff_rate: float = 2.0
    max_delay: float = 60.0
    jitter: Literal["full", "none"] = "full"
    retry_on: frozenset[str] = frozenset({"transport", "server_error", "rate_limited", "auth"})
    on_timeout: Literal["unknown", "retry", "reject"] = "unknown"
    max_wait: float = 5.0
    """Longest delay awaited in-line; a longer one (e.g. Retry-After: 3600) is scheduled."""
    give_up_after: float = 3600.0
    """Freshness: seconds after the lead's timestamp when no more attempts are made."""


@dataclass(frozen=True, slots=True)
class BreakerPlan:
    consecutive_failures: int = 10
    failure_rate: float = 0.5
    window: float = 300.0
    min_requests: int = 20
    cooldown: float = 60.0


@dataclass(frozen=True, slots=True)
class FilterPlan:
    """Which leads this buyer takes. ``check`` returns None to accept or the reason to exclude."""

    check: Callable[[Mapping[str, Any]], str | None]
    description: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CapsPlan:
    per_hour: int | None = None
    per_day: int | None = None
    per_month: int | None = None
    spend_per_day: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    """Open days (0 = Monday) and hours [start, end) as minutes after midnight, buyer's zone."""

    timezone: str
    days: frozenset[int]
    windows: tuple[tuple[int, int], ...]


# ----------------------------------------------------------------------------------------------
# Embedded test cases
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SampleResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class TestCasePlan:
    __test__ = False  # not a pytest class

    name: str
    span: Span
    stage: str
    lead: Mapping[str, Any] | None
    """The raw lead document (validated by the test runner against the lead schema)."""
    prior: Mapping[str, Mapping[str, Any]]
    env: str
    expect_body: bytes | None
    expect_reject: str | None
    """Expected MappingError reason fragment when the lead must be refused before sending."""
    response: SampleResponse | None
    expect_outcome: str | None
    """A rule's decision (``accepted`` … ``error``) or an outcome class (``client_error`` …)."""
    expect_values: Mapping[str, str | None]
    """Extracted values as text; None: the value must be absent (``reason: null``)."""
    expect_excluded: str | None = None
    """Expected reason fragment when the buyer's filters or schedule must exclude the lead."""


# ----------------------------------------------------------------------------------------------
# The whole integration
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntegrationPlan:
    buyer: str
    name: str
    version: str
    file: str
    environments: Mapping[str, EnvironmentPlan]
    auth: AuthPlan
    stages: Mapping[str, StagePlan]
    """"post" always; "ping" for ping/post buyers. Iteration order is sending order."""
    retry: RetryPlan
    breaker: BreakerPlan
    idempotency_header: str | None
    concurrency: int
    filters: FilterPlan | None
    caps: CapsPlan
    schedule: SchedulePlan | None
    price: Decimal | None
    """Fixed price per accepted lead (direct/waterfall buyers), if contracted."""
    tests: tuple[TestCasePlan, ...]
    source: str = ""
    """The file's text, for excerpts under runtime errors."""
    delivery: Literal["at_most_once", "at_least_once"] = "at_most_once"
    """What happens to a post whose answer was lost (the process stopped while it was on its
    way): at_most_once parks it for an operator; at_least_once resends it with the same
    idempotency key, for buyers that deduplicate on it."""

    @property
    def is_ping_post(self) -> bool:
        return "ping" in self.stages

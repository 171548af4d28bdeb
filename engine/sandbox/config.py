"""The sandbox file: simulated buyers described in YAML, checked with positions, made frozen."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from engine.dsl.issues import validate
from engine.dsl.loader import Document, YamlPath, load_yaml, load_yaml_text
from engine.dsl.suggest import hint_for
from engine.errors import AuthoringError, Issue
from engine.sandbox.dialects import DIALECTS
from engine.sandbox.dice import Burst, Faults, Latency

DEFAULT_PORT = 8701
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_BUYER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# -- the shape of the file (pydantic; durations stay text until _Builder reads them) ---------

Rate = Annotated[float, Field(ge=0, le=1)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatencyShape(_Shape):
    median: str
    p95: str | None = None
    max: str | None = None


class BidShape(_Shape):
    min: Decimal = Field(ge=0, decimal_places=2)
    max: Decimal = Field(ge=0, decimal_places=2)


class BurstShape(_Shape):
    every: int = Field(ge=1)
    length: int = Field(ge=1)
    status: int = Field(503, ge=500, le=599)


class BuyerShape(_Shape):
    dialect: str
    latency: str | LatencyShape = "0ms"
    bid: BidShape = BidShape(min=Decimal("5.00"), max=Decimal("40.00"))
    no_bid_rate: Rate = 0.0
    accept_rate: Rate = 1.0
    duplicate_rate: Rate = 0.0
    server_error_rate: Rate = 0.0
    server_error_status: int = Field(500, ge=500, le=599)
    burst: BurstShape | None = None
    rate_limit_rate: Rate = 0.0
    retry_after: str = "2s"
    timeout_rate: Rate = 0.0
    hang: str = "30s"
    reset_rate: Rate = 0.0
    malformed_rate: Rate = 0.0
    token_ttl: str = "1h"
    ping_ttl: str = "5m"
    secrets: dict[str, str] = Field(default_factory=dict)
    reasons: list[str] | None = Field(None, min_length=1)


class SandboxShape(_Shape):
    seed: int | None = None
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    credentials: dict[str, str] = Field(default_factory=dict)
    buyers: dict[str, BuyerShape] = Field(min_length=1)


# -- the checked, frozen description the server runs ---------------------------------------


@dataclass(frozen=True, slots=True)
class BuyerSim:
    """One simulated buyer: served under ``/<id>/`` in its dialect."""

    id: str
    dialect: str
    latency: Latency = field(default_factory=Latency)
    bid_min: Decimal = Decimal("5.00")
    bid_max: Decimal = Decimal("40.00")
    no_bid_rate: float = 0.0
    accept_rate: float = 1.0
    duplicate_rate: float = 0.0
    faults: Faults = field(default_factory=Faults)
    token_ttl: float = 3600.0
    ping_ttl: float = 300.0
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Credential role -> the environment variable (a key of ``credentials``) holding it."""
    reasons: tuple[str, ...] = ("not accepted",)


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """A checked sandbox file: the buyers, the secrets they accept, the seed and the port."""

    buyers: tuple[BuyerSim, ...]
    credentials: Mapping[str, str] = field(default_factory=dict)
    seed: int | None = None
    port: int = DEFAULT_PORT
    file: str = "<sandbox>"

    def buyer(self, buyer_id: str) -> BuyerSim:
        return next(b for b in self.buyers if b.id == buyer_id)

    def steady(self) -> SandboxConfig:
        """The same buyers answering at once and never failing (bids and verdicts unchanged)."""
        calm = [replace(b, latency=Latency(), faults=Faults()) for b in self.buyers]
        return replace(self, buyers=tuple(calm))

    def with_seed(self, seed: int | None) -> SandboxConfig:
        return replace(self, seed=seed)


def load_config(path: str | os.PathLike[str]) -> SandboxConfig:
    """Read a sandbox file; raises AuthoringError listing every problem, with positions."""
    return build_config(load_yaml(path))


def parse_config(text: str, file: str = "<sandbox>") -> SandboxConfig:
    """Like :func:`load_config`, from text (tests, generated files)."""
    return build_config(load_yaml_text(text, file))


def build_config(doc: Document) -> SandboxConfig:
    """Check a loaded sandbox file: its shape first, then its meaning."""
    shape, issues = validate(SandboxShape, doc)
    if shape is None:
        raise AuthoringError(issues, doc.source.text)
    builder = _Builder(doc)
    config = builder.config(shape)
    if builder.issues:
        found = sorted(
            builder.issues, key=lambda i: (i.span.line, i.span.col) if i.span else (0, 0)
        )
        raise AuthoringError(found, doc.source.text)
    return config


def sandbox_environ(config: SandboxConfig) -> dict[str, str]:
    """The environment variables the example integrations read their secrets from."""
    return dict(config.credentials)


def default_config_path() -> Path:
    """``integrations/sandbox.yaml`` under the working folder."""
    return Path("integrations") / "sandbox.yaml"


class _Builder:
    """Reads meaning (durations, dialects, credentials) and reports positioned issues."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.issues: list[Issue] = []

    def error(
        self, code: str, message: str, at: YamlPath, hint: str | None = None, *, key: bool = False
    ) -> None:
        span = self.doc.source.key_at(at) if key else self.doc.source.at(at)
        self.issues.append(Issue(code, message, span, hint))

    def config(self, shape: SandboxShape) -> SandboxConfig:
        for name in shape.credentials:
            if not _ENV_NAME.match(name):
                hint = "use letters, digits and '_' only"
                message = f"'{name}' is not a valid environment variable name"
                self.error("LP309", message, ("credentials", name), hint, key=True)
        buyers = tuple(self.buyer(i, b, shape.credentials) for i, b in shape.buyers.items())
        file = self.doc.source.file
        return SandboxConfig(buyers, dict(shape.credentials), shape.seed, shape.port, file)

    def duration(self, text: str, at: YamlPath) -> float | None:
        m = _DURATION.match(text)
        if m is None:
            hint = "write a number with a unit: 40ms, 2s, 5m, 1h"
            self.error("LP310", f"'{text}' is not a duration", at, hint)
            return None
        return float(m.group(1)) * _UNIT[m.group(2)]

    def seconds(self, text: str, at: YamlPath) -> float:
        return self.duration(text, at) or 0.0

    def latency(self, spec: str | LatencyShape, at: YamlPath) -> Latency:
        if isinstance(spec, str):
            fixed = self.seconds(spec, at)
            return Latency(fixed, fixed)
        median = self.duration(spec.median, (*at, "median"))
        p95 = median if spec.p95 is None else self.duration(spec.p95, (*at, "p95"))
        cap = 60.0 if spec.max is None else self.duration(spec.max, (*at, "max"))
        if median is None or p95 is None or cap is None:
            return Latency()
        if p95 < median:
            self.error("LP204", "p95 must not be smaller than the median", (*at, "p95"))
        return Latency(median, p95, cap)

    def secrets(
        self, buyer_id: str, b: BuyerShape, credentials: Mapping[str, str]
    ) -> dict[str, str]:
        at: YamlPath = ("buyers", buyer_id)
        dialect = DIALECTS.get(b.dialect)
        if dialect is None:
            return {}
        secrets = dialect.default_secrets(buyer_id)
        for role, env in b.secrets.items():
            if role in secrets:
                secrets[role] = env
                continue
            hint = hint_for(role, secrets) or "this dialect uses: " + ", ".join(secrets)
            message = f"the {b.dialect} dialect has no secret '{role}'"
            self.error("LP201", message, (*at, "secrets", role), hint, key=True)
        for role, env in secrets.items():
            if env not in credentials:
                where, key = ((*at, "secrets", role), False) if role in b.secrets else (at, True)
                message = (
                    f"the {role} of '{buyer_id}' is read from {env},"
                    " which is not listed under credentials"
                )
                hint = f"add '{env}: some-value' under credentials"
                self.error("LP309", message, where, hint, key=key)
        return secrets

    def buyer(self, buyer_id: str, b: BuyerShape, credentials: Mapping[str, str]) -> BuyerSim:
        at: YamlPath = ("buyers", buyer_id)
        if not _BUYER_ID.match(buyer_id):
            message = f"'{buyer_id}' cannot be a buyer id (it is the buyer's URL prefix)"
            hint = "use lower-case letters, digits and '-', like apex-ping"
            self.error("LP204", message, at, hint, key=True)
        dialect = DIALECTS.get(b.dialect)
        if dialect is None:
            hint = hint_for(b.dialect, DIALECTS) or "choose one of: " + ", ".join(DIALECTS)
            self.error("LP205", f"unknown dialect '{b.dialect}'", (*at, "dialect"), hint)
        if b.accept_rate + b.duplicate_rate > 1:
            message = "accept_rate and duplicate_rate add up to more than 1"
            self.error("LP312", message, (*at, "duplicate_rate"), "lower one of them")
        if b.bid.min > b.bid.max:
            self.error("LP204", "the lowest bid is above the highest", (*at, "bid", "min"))
        reasons = tuple(b.reasons or (dialect.reasons if dialect else ("not accepted",)))
        return BuyerSim(
            id=buyer_id,
            dialect=b.dialect,
            latency=self.latency(b.latency, (*at, "latency")),
            bid_min=b.bid.min,
            bid_max=b.bid.max,
            no_bid_rate=b.no_bid_rate,
            accept_rate=b.accept_rate,
            duplicate_rate=b.duplicate_rate,
            faults=self.faults(b, at),
            token_ttl=self.seconds(b.token_ttl, (*at, "token_ttl")),
            ping_ttl=self.seconds(b.ping_ttl, (*at, "ping_ttl")),
            secrets=self.secrets(buyer_id, b, credentials),
            reasons=reasons,
        )

    def faults(self, b: BuyerShape, at: YamlPath) -> Faults:
        rates = (b.server_error_rate, b.rate_limit_rate, b.timeout_rate, b.reset_rate)
        if sum(rates) + b.malformed_rate > 1:
            hint = (
                "server_error_rate, rate_limit_rate, timeout_rate, reset_rate and"
                " malformed_rate are shares of all requests"
            )
            self.error("LP312", "the failure rates add up to more than 1", at, hint, key=True)
        burst = None
        if b.burst is not None:
            if b.burst.length > b.burst.every:
                message = "a burst cannot be longer than its period ('every')"
                self.error("LP204", message, (*at, "burst", "length"))
            burst = Burst(b.burst.every, b.burst.length, b.burst.status)
        return Faults(
            server_error_rate=b.server_error_rate,
            server_error_status=b.server_error_status,
            burst=burst,
            rate_limit_rate=b.rate_limit_rate,
            retry_after=math.ceil(self.seconds(b.retry_after, (*at, "retry_after"))),
            timeout_rate=b.timeout_rate,
            hang=self.seconds(b.hang, (*at, "hang")),
            reset_rate=b.reset_rate,
            malformed_rate=b.malformed_rate,
        )

"""The dice of the simulated buyers: latency, faults and every other choice one request gets."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from engine.sandbox.config import BuyerSim

Verdict = Literal["accepted", "duplicate", "rejected"]
Fault = Literal["burst", "server_error", "rate_limit", "timeout", "reset", "malformed"]
_Z95 = NormalDist().inv_cdf(0.95)


@dataclass(frozen=True, slots=True)
class Latency:
    """Lognormal delay with the given median and 95th percentile (equal: a fixed delay)."""

    median: float = 0.0
    p95: float = 0.0
    cap: float = 60.0

    def sample(self, u: float) -> float:
        """The delay at quantile ``u`` of the distribution (u drawn uniformly in [0, 1))."""
        if self.median <= 0 or self.p95 <= self.median:
            return min(self.median, self.cap)
        sigma = math.log(self.p95 / self.median) / _Z95
        z = NormalDist().inv_cdf(min(max(u, 1e-9), 1 - 1e-9))
        return min(self.median * math.exp(sigma * z), self.cap)


@dataclass(frozen=True, slots=True)
class Burst:
    """In every run of ``every`` requests the last ``length`` are answered with ``status``."""

    every: int
    length: int
    status: int = 503

    def hits(self, number: int) -> bool:
        return (number - 1) % self.every >= self.every - self.length


@dataclass(frozen=True, slots=True)
class Faults:
    """How often a buyer fails, and how."""

    server_error_rate: float = 0.0
    server_error_status: int = 500
    burst: Burst | None = None
    rate_limit_rate: float = 0.0
    retry_after: int = 2
    timeout_rate: float = 0.0
    hang: float = 30.0
    reset_rate: float = 0.0
    malformed_rate: float = 0.0

    def pick(self, number: int, u: float) -> Fault | None:
        """The fault for request ``number``, given a uniform draw ``u``, or None."""
        if self.burst is not None and self.burst.hits(number):
            return "burst"
        rates: list[tuple[Fault, float]] = [
            ("server_error", self.server_error_rate),
            ("rate_limit", self.rate_limit_rate),
            ("timeout", self.timeout_rate),
            ("reset", self.reset_rate),
            ("malformed", self.malformed_rate),
        ]
        edge = 0.0
        for fault, rate in rates:
            edge += rate
            if u < edge:
                return fault
        return None


@dataclass(frozen=True, slots=True)
class Roll:
    """Every random choice for one request, drawn when it arrives, so that the answers of a
    seeded sandbox depend only on the order in which each buyer receives its requests."""

    number: int
    """This request's number among the POSTs to this buyer's endpoints, from 1."""
    latency: float
    fault: Fault | None
    bids: bool
    price: Decimal
    verdict: Verdict
    reason: str
    serial: int
    """A number unique to this request at this buyer: lead ids and numeric ping ids."""
    token: str
    """12 random hex digits: auction tokens and OAuth tokens."""
    quirk: float
    """A uniform draw in [0, 1) for a dialect's own habits (Keystone's sloppy XML)."""
    cut: float
    """Where a malformed body is cut, as a share of its length (0.3 to 0.8)."""


def draw(sim: BuyerSim, rng: random.Random, number: int, serial: int) -> Roll:
    """Draw request ``number``'s choices: always the same number of draws, whatever is used."""
    latency, fault, bid, verdict, quirk, cut = (rng.random() for _ in range(6))
    cents = rng.randint(int(sim.bid_min * 100), int(sim.bid_max * 100))
    reason = sim.reasons[rng.randrange(len(sim.reasons))]
    token = f"{rng.getrandbits(48):012x}"
    chosen: Verdict = "rejected"
    if verdict < sim.accept_rate:
        chosen = "accepted"
    elif verdict < sim.accept_rate + sim.duplicate_rate:
        chosen = "duplicate"
    return Roll(
        number=number,
        latency=sim.latency.sample(latency),
        fault=sim.faults.pick(number, fault),
        bids=bid >= sim.no_bid_rate,
        price=(Decimal(cents) / 100).quantize(Decimal("0.01")),
        verdict=chosen,
        reason=reason,
        serial=serial,
        token=token,
        quirk=quirk,
        cut=0.3 + 0.5 * cut,
    )

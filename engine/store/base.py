"""What every store offers: the Store protocol, JSON encoding of records, and the sales ledger.

The ledger answers the hot questions of every auction (sales and spend per buyer since a time,
recent acceptance rate) from memory in O(log n): both stores keep one, so caps never wait on disk.
"""

from __future__ import annotations

import json
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

from engine.runtime.outcome import Outcome

_ZERO = Decimal(0)


class Store(Protocol):
    """Where leads, delivery attempts, results, sales and post outcomes are kept."""

    def save_lead(self, lead_id: str, campaign: str, lead: Mapping[str, Any]) -> None:
        """Persist the lead; returns only once it is stored (call before the first attempt)."""
        ...

    def save_attempt(self, lead_id: str, outcome: Outcome) -> None:
        """Record one delivery attempt (its exchange is already masked)."""
        ...

    def save_result(self, lead_id: str, result: Mapping[str, Any]) -> None:
        """Record the lead's final disposition and trace (a JSON-serializable mapping)."""
        ...

    def get_result(self, lead_id: str) -> Mapping[str, Any] | None:
        """The result saved for the lead (decoded from JSON), or None."""
        ...

    def get_lead(self, lead_id: str) -> tuple[str, Mapping[str, Any]] | None:
        """(campaign, lead) as saved, or None."""
        ...

    def attempts(self, lead_id: str) -> list[Mapping[str, Any]]:
        """Every attempt saved for the lead, oldest first, as JSON mappings."""
        ...

    def record_sale(self, buyer: str, price: Decimal | None, at: datetime) -> None:
        """Count one lead sold to ``buyer`` at ``at`` (price None: counted, no spend)."""
        ...

    def sales(self, buyer: str, since: datetime) -> tuple[int, Decimal]:
        """How many leads were sold to ``buyer`` at or after ``since``, and their total price."""
        ...

    def record_post(self, buyer: str, accepted: bool, at: datetime) -> None:
        """Count one post answered by ``buyer`` (accepted or not), for acceptance rates."""
        ...

    def acceptance_rate(self, buyer: str, since: datetime) -> float | None:
        """Accepted posts / posts since ``since`` (0.0–1.0), or None when there were none."""
        ...

    def add_suppressed(self, values: Iterable[str]) -> int:
        """Put phone numbers (10 digits) and emails (lower case) on the do-not-contact list;
        returns how many were new."""
        ...

    def suppressed(self, values: Iterable[str]) -> str | None:
        """The first of ``values`` that is on the do-not-contact list, or None."""
        ...

    def close(self) -> None:
        """Write what is pending and release the store's resources (idempotent)."""
        ...


def epoch(at: datetime) -> float:
    """Seconds since 1970 UTC; a naive datetime is taken as UTC."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


#: The fallback for what orjson refuses (integers beyond 64 bits): one encoder, built once
#: (``json.dumps`` with options builds a new encoder per call).
_ENCODER = json.JSONEncoder(default=_plain, separators=(",", ":"), ensure_ascii=False)
#: Keys that are not text become text as json writes them (1 -> "1", None -> "null"); a
#: dataclass goes to ``_plain`` (its str) as it did with json, not orjson's field mapping.
_ORJSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def to_json(value: Any) -> str:
    """Compact JSON; Decimals become text (exact), datetimes ISO text, other values their str;
    NaN and infinities (which are not JSON) become null. orjson writes it (every attempt of
    every auction is a record: json's encoder was the biggest single cost of the store's
    writer, scripts/bench/auction.py); json writes what orjson refuses, with the same result."""
    try:
        return orjson.dumps(value, default=_plain, option=_ORJSON).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError: an integer beyond 64 bits
        return _ENCODER.encode(value)


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """An attempt as a JSON-ready mapping: the outcome, its timings and its masked exchange."""
    t = outcome.timings
    ex = outcome.exchange
    return {
        "buyer": outcome.buyer,
        "stage": outcome.stage,
        "kind": outcome.kind,
        "retryable": outcome.retryable,
        "reason": outcome.reason,
        "attempt": outcome.attempt,
        "status": outcome.status,
        "retry_after": outcome.retry_after,
        "values": dict(outcome.values),
        "timings": {"total": t.total, "connect": t.connect, "wait": t.wait, "read": t.read},
        "exchange": None
        if ex is None
        else {
            "method": ex.method,
            "url": ex.url,
            "request_headers": [list(h) for h in ex.request_headers],
            "request_body": ex.request_body,
            "status": ex.status,
            "response_headers": [list(h) for h in ex.response_headers],
            "response_body": ex.response_body,
        },
    }


@dataclass(slots=True)
class Series:
    """Times (sorted) with a running total of one value, answering "since t" in O(log n)."""

    times: list[float] = field(default_factory=list)
    totals: list[Decimal] = field(default_factory=list)

    def add(self, at: float, value: Decimal) -> None:
        if not self.times or at >= self.times[-1]:
            self.times.append(at)
            self.totals.append((self.totals[-1] if self.totals else _ZERO) + value)
            return
        i = bisect_right(self.times, at)
        before = self.totals[i - 1] if i else _ZERO
        self.times.insert(i, at)
        self.totals.insert(i, before + value)
        for j in range(i + 1, len(self.totals)):
            self.totals[j] += value

    def since(self, at: float) -> tuple[int, Decimal]:
        i = bisect_left(self.times, at)
        if i == len(self.times):
            return 0, _ZERO
        base = self.totals[i - 1] if i else _ZERO
        return len(self.times) - i, self.totals[-1] - base

    def drop_before(self, at: float) -> None:
        i = bisect_left(self.times, at)
        if i:
            base = self.totals[i - 1]
            self.times = self.times[i:]
            self.totals = [total - base for total in self.totals[i:]]


class Ledger:
    """Sales and post outcomes per buyer, in memory, safe to use from several threads.

    With ``keep`` (seconds), entries older than the newest one minus ``keep`` are dropped now
    and then, and :meth:`covers` tells whether a question reaches further back than that.
    """

    def __init__(self, keep: float | None = None, *, floor: float = float("-inf")) -> None:
        self._keep = keep
        self._floor = floor
        self._sales: dict[str, Series] = {}
        self._posts: dict[str, Series] = {}
        self._lock = threading.Lock()
        self._added = 0

    def covers(self, since: datetime) -> bool:
        """True when every entry at or after ``since`` is in memory."""
        return epoch(since) >= self._floor

    def add_sale(self, buyer: str, price: Decimal | None, at: float) -> None:
        self._add(self._sales, buyer, price if price is not None else _ZERO, at)

    def add_post(self, buyer: str, accepted: bool, at: float) -> None:
        self._add(self._posts, buyer, Decimal(1) if accepted else _ZERO, at)

    def sales(self, buyer: str, since: datetime) -> tuple[int, Decimal]:
        with self._lock:
            series = self._sales.get(buyer)
            return series.since(epoch(since)) if series is not None else (0, _ZERO)

    def acceptance_rate(self, buyer: str, since: datetime) -> float | None:
        with self._lock:
            series = self._posts.get(buyer)
            count, accepted = series.since(epoch(since)) if series is not None else (0, _ZERO)
        return float(accepted) / count if count else None

    def _add(self, table: dict[str, Series], buyer: str, value: Decimal, at: float) -> None:
        with self._lock:
            table.setdefault(buyer, Series()).add(at, value)
            self._added += 1
            if self._keep is not None and self._added % 4096 == 0:
                self._prune(at - self._keep)

    def _prune(self, before: float) -> None:
        self._floor = max(self._floor, before)
        for table in (self._sales, self._posts):
            for series in table.values():
                series.drop_before(before)

"""MemoryStore: the Store kept in this process's memory (tests, demos, dry runs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.runtime.outcome import Outcome
from engine.store.base import Ledger, epoch, outcome_record, to_json


class MemoryStore:
    """Everything in dictionaries; records pass through JSON so reads match SqliteStore's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leads: dict[str, tuple[str, str]] = {}
        self._attempts: dict[str, list[str]] = {}
        self._results: dict[str, str] = {}
        self._ledger = Ledger()
        self._suppressed: set[str] = set()

    def save_lead(self, lead_id: str, campaign: str, lead: Mapping[str, Any]) -> None:
        text = to_json(lead)
        with self._lock:
            self._leads[lead_id] = (campaign, text)

    def save_attempt(self, lead_id: str, outcome: Outcome) -> None:
        text = to_json(outcome_record(outcome))
        with self._lock:
            self._attempts.setdefault(lead_id, []).append(text)

    def save_result(self, lead_id: str, result: Mapping[str, Any]) -> None:
        text = to_json(result)
        with self._lock:
            self._results[lead_id] = text

    def get_result(self, lead_id: str) -> Mapping[str, Any] | None:
        with self._lock:
            text = self._results.get(lead_id)
        return None if text is None else json.loads(text)

    def get_lead(self, lead_id: str) -> tuple[str, Mapping[str, Any]] | None:
        with self._lock:
            found = self._leads.get(lead_id)
        return None if found is None else (found[0], json.loads(found[1]))

    def attempts(self, lead_id: str) -> list[Mapping[str, Any]]:
        with self._lock:
            texts = list(self._attempts.get(lead_id, ()))
        return [json.loads(t) for t in texts]

    def add_suppressed(self, values: Iterable[str]) -> int:
        with self._lock:
            before = len(self._suppressed)
            self._suppressed.update(values)
            return len(self._suppressed) - before

    def suppressed(self, values: Iterable[str]) -> str | None:
        with self._lock:
            return next((v for v in values if v and v in self._suppressed), None)

    def record_sale(self, buyer: str, price: Decimal | None, at: datetime) -> None:
        self._ledger.add_sale(buyer, price, epoch(at))

    def sales(self, buyer: str, since: datetime) -> tuple[int, Decimal]:
        return self._ledger.sales(buyer, since)

    def record_post(self, buyer: str, accepted: bool, at: datetime) -> None:
        self._ledger.add_post(buyer, accepted, epoch(at))

    def acceptance_rate(self, buyer: str, since: datetime) -> float | None:
        return self._ledger.acceptance_rate(buyer, since)

    def close(self) -> None:
        """Nothing to release; kept for the Store protocol."""

"""A real ``leadpost serve`` application on uvicorn at 127.0.0.1, in a thread, for the tests."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from engine.campaigns.plan import CampaignPlan
from engine.clock import SystemClock
from engine.lead.schema import load_lead_schema
from engine.service.admission import Admission
from engine.service.app import Service
from engine.service.catalog import Catalog, Entry
from engine.service.runner import ServiceThread
from engine.store.journal import DurableStore
from engine.store.sources import add_source
from tests.auction_kit import ENVIRON
from tests.paths import REPO

SAMPLE = REPO / "integrations" / "leads" / "sample.json"


def sample_body(**changes: Any) -> dict[str, Any]:
    """integrations/leads/sample.json as a source sends it, with top-level ``changes``."""
    doc: dict[str, Any] = json.loads(SAMPLE.read_text())
    doc.update(changes)
    return doc


def catalog(*plans: CampaignPlan) -> Catalog:
    schema = load_lead_schema(REPO / "integrations" / "lead-schema.yaml")
    return Catalog({p.campaign: Entry(p, schema) for p in plans})


class Running(ServiceThread):
    """A service served by uvicorn on a free port of 127.0.0.1 in a background thread."""

    def __init__(self, service: Service) -> None:
        super().__init__(service.app())
        self.service = service

    def start(self, patience: float = 30.0) -> Running:
        super().start(patience)
        return self

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def serving(
    store: DurableStore,
    plans: Sequence[CampaignPlan],
    *,
    admission: Admission | None = None,
    environ: Mapping[str, str] = ENVIRON,
    **kw: Any,
) -> Iterator[Running]:
    # Lag is not measured unless a test brings its own Admission: on a busy 2-core machine a
    # scheduling hiccup would refuse a lead, and no test may depend on wall-clock speed.
    admission = admission or Admission(SystemClock(), probing=False, adaptive=False)
    service = Service(store, catalog(*plans), env="test", environ=environ, admission=admission,
                      **kw)  # fmt: skip
    running = Running(service).start()
    try:
        yield running
    finally:
        running.stop()


def source_key(store: DurableStore, name: str = "web-form", campaigns: Sequence[str] = ("*",)
               ) -> str:  # fmt: skip
    return add_source(store, name, campaigns)

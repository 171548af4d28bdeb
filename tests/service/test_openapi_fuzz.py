"""Schemathesis against the running service: from the OpenAPI document, bounded examples (valid
and invalid), no 5xx, every status and body as documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from engine.service.app import OPENAPI
from engine.store import SqliteStore
from tests.auction_kit import accept, bid, campaign, plan
from tests.buyer_server import BuyerServer
from tests.service.kit import Running, serving, source_key

schema = schemathesis.openapi.from_path(str(OPENAPI))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, str]]:
    """One service for the module: a campaign with a loopback bidder, and a source key."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    store = SqliteStore(folder / "s.db", heartbeat=False)
    with BuyerServer() as buyers:
        bid(buyers, "alpha", "7.00")
        accept(buyers, "alpha")
        camp = campaign([plan("bidder", "alpha", buyers.url)])
        key = source_key(store, "fuzzer", ["test-campaign"])
        with serving(store, [camp]) as running:
            yield running, key
    store.close()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document(
    case: schemathesis.Case[Any], service: tuple[Running, str]
) -> None:
    """Whatever is sent, the answer is one the document promises; never a 5xx other than a
    documented 503. (A body the document allows may still be refused with 422: each campaign's
    lead schema decides what a lead is, which one document for every campaign cannot say, so
    "valid data is accepted" is not checked.)"""
    running, key = service
    case.call_and_validate(
        base_url=running.url,
        headers={"Authorization": f"Bearer {key}"},
        excluded_checks=[positive_data_acceptance],
    )

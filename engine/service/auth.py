"""Which lead source sent a request: its API key (``Authorization: Bearer KEY`` or
``X-API-Key: KEY``), looked up by hash in the store, and whether it may post to a campaign.

Lookups are cached for a few seconds (a revoked key stops working within ``TTL``), so a busy
source costs one read of the store now and then rather than one per lead.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio

from engine.clock import Clock
from engine.errors import Issue
from engine.service.intake import Refusal
from engine.store.journal import DurableStore
from engine.store.sources import Source, find_source, key_hash

#: Seconds a key's lookup is remembered.
TTL = 5.0


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request carries, if any (header names lower-case)."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


class Sources:
    """Authenticates requests against the store's source keys."""

    def __init__(self, store: DurableStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._seen: dict[str, tuple[float, Source | None]] = {}

    async def lookup(self, key: str) -> Source | None:
        """The source of ``key`` (read in a worker thread: a SQLite read waits while the
        writer commits, which must not stall the event loop)."""
        digest = key_hash(key)
        now = self.clock.now()
        cached = self._seen.get(digest)
        if cached is not None and now - cached[0] < TTL:
            return cached[1]
        if len(self._seen) > 10_000:
            self._seen.clear()  # bounded: keys guessed at random must not grow memory
        found = await anyio.to_thread.run_sync(find_source, self.store, key)
        self._seen[digest] = (now, found)
        return found

    async def authenticate(self, headers: Mapping[str, str], campaign: str) -> Source:
        """The source allowed to post to ``campaign``; a Refusal (401, 403) otherwise."""
        return self.allowed(await self.identify(headers), campaign)

    def allowed(self, source: Source, campaign: str) -> Source:
        """``source``, when it may post to ``campaign``; a Refusal (403) otherwise."""
        if not source.may_post(campaign):
            allowed = ", ".join(source.campaigns)
            why = f"source {source.name} may not post to campaign {campaign}; its key names"
            why += f" {allowed}"
            raise Refusal(403, why, (Issue("LP554", why),))
        return source

    async def identify(self, headers: Mapping[str, str]) -> Source:
        """The source whose live key the request carries; a Refusal (401) otherwise."""
        key = presented_key(headers)
        if key is None:
            why = "send the source's API key as 'Authorization: Bearer KEY' (or 'X-API-Key')"
            raise Refusal(401, why, (Issue("LP553", why),), (("WWW-Authenticate", "Bearer"),))
        source = await self.lookup(key)
        if source is None:
            why = "the API key is not known or was revoked; ask the operator for a new one"
            raise Refusal(401, why, (Issue("LP553", why),), (("WWW-Authenticate", "Bearer"),))
        return source

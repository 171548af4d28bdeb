"""Process settings for a latency-sensitive engine: a garbage collector that does not stall pings.

Each HTTP request leaves about a dozen objects in reference cycles (httpx's response and its
stream refer to each other), so with CPython's default threshold the collector runs every few
hundred requests and, in an auction, lands inside the 100 ms ping window: it was most of the p99
tail in scripts/bench/auction.py. Freezing what startup allocated (modules, compiled plans) keeps
the collector from walking it again, and a larger first generation collects young cycles in
fewer, still short, passes.
"""

from __future__ import annotations

import gc

#: Young objects allocated between first-generation collections (CPython's default is 700).
YOUNG_THRESHOLD = 10_000


def tune_gc(young: int = YOUNG_THRESHOLD) -> None:
    """Collect once, freeze the survivors, then collect young cycles every ``young`` objects."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)

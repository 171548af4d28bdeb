"""Many leads through one campaign in one process: one runtime, a bounded number at once.

``leadpost route CAMPAIGN --leads FILE.jsonl`` (or ``-``: standard input) reads one lead per
line; each is checked against the lead schema (a bad line is reported with every problem and
the others go on), sold with the shared router, and reported as it ends, in the order they
end, each naming its line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import anyio

from engine.auction.result import RouteResult
from engine.auction.run import Router
from engine.campaigns.plan import CampaignPlan
from engine.errors import Issue, LeadError
from engine.lead import LeadSchema, lead_timestamp, parse_lead_json, validate_lead
from engine.service.intake import problem

#: Leads sold at once by default.
CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class Sold:
    """How the lead on one line ended: its result, or the problems that kept it from sale."""

    line: int
    result: RouteResult | None
    problems: tuple[Issue, ...] = ()

    def record(self) -> dict[str, Any]:
        """The JSON line written for it on a pipe."""
        if self.result is None:
            return {"line": self.line, "disposition": None,
                    "problems": [problem(i) for i in self.problems]}  # fmt: skip
        r = self.result
        return {
            "line": self.line, "lead_id": r.lead_id, "campaign": r.campaign,
            "disposition": r.disposition, "buyer": r.buyer,
            "price": None if r.price is None else str(r.price), "reason": r.reason,
            "elapsed": round(r.elapsed, 3),
        }  # fmt: skip


def check_line(text: str, schema: LeadSchema | None) -> Mapping[str, Any]:
    """The normalized lead of one line; LeadError with every problem."""
    raw = parse_lead_json(text)
    lead = validate_lead(schema, raw) if schema is not None else raw
    lead_timestamp(lead)
    return lead


async def sell_lines(
    router: Router,
    campaign: CampaignPlan,
    schema: LeadSchema | None,
    source: IO[str],
    *,
    concurrency: int = CONCURRENCY,
    on_read: Callable[[int], None] | None = None,
) -> AsyncIterator[Sold]:
    """Sell every lead of ``source`` (one JSON object a line; blank lines skipped), at most
    ``concurrency`` at once; yields each as it ends. ``on_read(n)``: n leads read so far."""
    send, receive = anyio.create_memory_object_stream[Sold](concurrency)
    limiter = anyio.Semaphore(concurrency)

    async def one(number: int, text: str) -> None:
        try:
            try:
                lead = check_line(text, schema)
            except LeadError as exc:
                await send.send(Sold(number, None, tuple(exc.issues)))
                return
            result = await router.route(campaign, lead)
            await send.send(Sold(number, result))
        finally:
            limiter.release()

    async def feed() -> None:
        async with send, anyio.create_task_group() as tg:
            number = 0
            while True:
                text = await anyio.to_thread.run_sync(source.readline)
                if not text:
                    break
                number += 1
                if not text.strip():
                    continue
                await limiter.acquire()
                if on_read is not None:
                    on_read(number)
                tg.start_soon(one, number, text)

    async with anyio.create_task_group() as tg:
        tg.start_soon(feed)
        async with receive:
            async for sold in receive:
                yield sold

"""Operator actions over HTTP: pause or resume a buyer, offer a lead again — each needing an
operator's key (``leadpost keys add-operator``) and each written to the audit with who did it.

A paused buyer is offered no new lead by any node sharing the store (each node reads the list
every few seconds); retries already waiting for it stay in the store, unsent, until it is resumed,
and leads recovered after a restart skip it (:mod:`engine.auction.worker`). Redelivery follows
``leadpost redeliver``: a sold lead is refused (409), as is a lead still being sold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine.auction.worker import Refused, redeliver
from engine.errors import Issue
from engine.service.intake import Refusal, answer
from engine.store.sources import Source, operator_actions, record_action, set_paused

if TYPE_CHECKING:
    from engine.service.app import Service


def _refused(status: int, why: str) -> JSONResponse:
    return JSONResponse({"error": why, "status": status, "problems": []}, status)


class Operator:
    """The operator's endpoints of one service."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def who(self, request: Request) -> Source:
        source = await self.service.sources.identify(request.headers)
        if not source.operator:
            why = f"{source.name} is a lead source; this needs an operator's key"
            raise Refusal(403, why, (Issue("LP554", why),))
        return source

    def buyers(self) -> set[str]:
        return {
            b.buyer
            for e in self.service.catalog.campaigns.values()
            for b in (*e.plan.buyers, *e.plan.fallback)
        }

    async def pause(self, request: Request) -> Response:
        return await self._pause(request, True)

    async def resume(self, request: Request) -> Response:
        return await self._pause(request, False)

    async def _pause(self, request: Request, paused: bool) -> Response:
        try:
            operator = await self.who(request)
        except Refusal as refusal:
            return JSONResponse(refusal.body(), refusal.status, headers=dict(refusal.headers))
        buyer = request.path_params["buyer"]
        if buyer not in self.buyers():
            return _refused(404, f"no campaign here has a buyer {buyer!r}")
        s = self.service
        await anyio.to_thread.run_sync(set_paused, s.store, operator.name, buyer, paused)
        s.paused = s.paused | {buyer} if paused else s.paused - {buyer}
        return JSONResponse({"buyer": buyer, "paused": paused, "by": operator.name})

    async def redeliver(self, request: Request) -> Response:
        try:
            operator = await self.who(request)
        except Refusal as refusal:
            return JSONResponse(refusal.body(), refusal.status, headers=dict(refusal.headers))
        s = self.service
        if s.router is None:
            return _refused(503, "the service is starting or stopping")
        lead_id = request.path_params["lead_id"]
        buyer = request.query_params.get("buyer") or None
        try:
            result = await redeliver(s.router, s.catalog.plans(), lead_id, buyer)
        except Refused as exc:
            return _refused(409, str(exc))
        detail = f"to {buyer}" if buyer else "through its campaign"
        detail += f": {result.disposition}"
        audit = record_action(s.store, operator.name, "redeliver", lead_id, detail)
        await anyio.to_thread.run_sync(s.store.writer.call, audit)
        return JSONResponse(answer(result.to_dict()))

    async def actions(self, request: Request) -> Response:
        try:
            await self.who(request)
        except Refusal as refusal:
            return JSONResponse(refusal.body(), refusal.status, headers=dict(refusal.headers))
        found = await anyio.to_thread.run_sync(operator_actions, self.service.store)
        return JSONResponse({"actions": found})

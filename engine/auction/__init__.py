"""Selling leads: the router (checks, eligibility, auction, waterfall, direct) and its result."""

from engine.auction.result import DISPOSITIONS, Disposition, RouteResult, TraceEntry
from engine.auction.run import Router

__all__ = ["DISPOSITIONS", "Disposition", "RouteResult", "Router", "TraceEntry"]

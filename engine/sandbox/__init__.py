"""Simulated buyers on loopback (``leadpost sandbox``), speaking each example integration's format.

A sandbox file (``integrations/sandbox.yaml``) lists buyers by id; each is served under
``http://127.0.0.1:<port>/<id>/`` in its *dialect* (see :mod:`engine.sandbox.dialects`), with
seeded dice for latency, bids, verdicts and failures.

The ``generic-json`` dialect, for any ping/post buyer (``X-Api-Key: <key>`` on every request,
the key read from ``<ID>_KEY``, e.g. ``APEX_PING_KEY`` for ``apex-ping``):

``POST /<id>/ping`` with a JSON object holding at least ``state`` and ``zip`` and no personal
data (``first_name``, ``last_name``, ``email``, ``phone``, ``street``, ``address``, ``dob``)
answers ``200 {"status": "bid", "bid": "23.75", "ping_id": "APEX-1a2b3c4d5e", "expires_in": 300}``
or ``200 {"status": "no_bid", "reason": "no demand in TX"}``.

``POST /<id>/post`` with a JSON object holding ``ping_id`` (text, from a bid of this buyer, used
once, within ``expires_in`` seconds), ``first_name``, ``last_name`` and ``phone`` answers ``200``
with ``{"status": "accepted", "lead_id": "APEX-123457", "price": "23.75"}``,
``{"status": "duplicate", "reason": "…"}`` or ``{"status": "rejected", "reason": "…"}`` (an
unknown or used ping id: ``"reason": "unknown or expired ping_id"``).

Errors: ``{"status": "error", "reason": "…"}`` with 400 (not a JSON object, missing fields,
personal data in a ping), 401 (wrong key), 404, 405, 429 (with ``Retry-After``) or 5xx.

Every buyer fails on request: ``X-Sandbox-Force: 500`` (any status 400–599), ``timeout``,
``reset``, ``malformed``, ``reject`` or ``duplicate`` (see :mod:`engine.sandbox.force`).
"""

from engine.sandbox.base import Answer, Buyer, BuyerStats, Dialect, Incoming
from engine.sandbox.config import (
    BuyerSim,
    SandboxConfig,
    build_config,
    load_config,
    parse_config,
    sandbox_environ,
)
from engine.sandbox.dialects import DIALECTS
from engine.sandbox.dice import Burst, Faults, Latency, Roll
from engine.sandbox.server import Sandbox, SandboxThread, serve, start_in_thread

__all__ = [
    "DIALECTS",
    "Answer",
    "Burst",
    "Buyer",
    "BuyerSim",
    "BuyerStats",
    "Dialect",
    "Faults",
    "Incoming",
    "Latency",
    "Roll",
    "Sandbox",
    "SandboxConfig",
    "SandboxThread",
    "build_config",
    "load_config",
    "parse_config",
    "sandbox_environ",
    "serve",
    "start_in_thread",
]

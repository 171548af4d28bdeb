"""leadpost: buyer files compiled once into plans, delivered to buyers in real time.

The curated public API. Names load on first use, so importing a compile-side module does not
pull in the HTTP runtime.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # authoring: load, check and compile files
    "load_integration": "engine.loading",
    "check_integration": "engine.loading",
    "load_lead_schema": "engine.lead.schema",
    "load_campaign": "engine.campaigns.compile",
    # leads
    "LeadSchema": "engine.lead",
    "validate_lead": "engine.lead",
    "parse_lead_json": "engine.lead",
    # plans and rendering
    "IntegrationPlan": "engine.plan",
    "RenderContext": "engine.plan",
    "RenderedRequest": "engine.runtime.render",
    "render_request": "engine.runtime.render",
    # running
    "Runtime": "engine.runtime.executor",
    "Outcome": "engine.runtime.outcome",
    "Delivery": "engine.runtime.outcome",
    "Router": "engine.auction",
    "RouteResult": "engine.auction",
    "SqliteStore": "engine.store",
    "MemoryStore": "engine.store",
    # errors
    "LeadpostError": "engine.errors",
    "AuthoringError": "engine.errors",
    "LeadError": "engine.errors",
    "RunError": "engine.errors",
    "MappingError": "engine.errors",
    "Issue": "engine.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

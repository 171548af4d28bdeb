"""The public API is exactly the curated list, and every name in it resolves."""

from __future__ import annotations

import engine


def test_all_exports_resolve() -> None:
    """Every name in engine.__all__ can be imported from engine."""
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name


def test_exports_are_the_curated_list() -> None:
    """Adding to the public API is a deliberate change to this list."""
    assert engine.__all__ == sorted(
        [
            "AuthoringError",
            "Delivery",
            "Issue",
            "IntegrationPlan",
            "LeadError",
            "LeadSchema",
            "LeadpostError",
            "MappingError",
            "MemoryStore",
            "Outcome",
            "RenderContext",
            "RenderedRequest",
            "RouteResult",
            "Router",
            "RunError",
            "Runtime",
            "SqliteStore",
            "check_integration",
            "load_campaign",
            "load_integration",
            "load_lead_schema",
            "parse_lead_json",
            "render_request",
            "validate_lead",
        ]
    )

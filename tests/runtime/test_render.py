"""render_request shows the request a buyer would get, for the environment asked for."""

from __future__ import annotations

import json

import pytest

from engine.lead import lead_timestamp, validate_lead
from engine.loading import schema_for
from engine.plan import RenderContext
from engine.runtime.render import render_request
from tests.examples import example_plan
from tests.paths import REPO

ROOT = REPO
SUMMIT = ROOT / "integrations" / "buyers" / "summit-crm.yaml"


@pytest.mark.parametrize(
    ("env", "token_url"),
    [
        ("test", "http://127.0.0.1:8701/summit-crm/services/oauth2/token"),
        ("production", "https://login.salesforce.com/services/oauth2/token"),
    ],
)
def test_oauth_preview_names_the_environments_token_url(env: str, token_url: str) -> None:
    """An environment's own token_url overrides the auth section's, in the preview too."""
    plan = example_plan("summit-crm")
    schema = schema_for(SUMMIT)
    assert schema is not None
    raw = json.loads((ROOT / "integrations/leads/sample.json").read_text("utf-8"))
    lead = validate_lead(schema, raw)
    ctx = RenderContext(lead, lead_timestamp(lead))
    request = render_request(plan, "post", ctx, env, mask=True, with_auth=True)
    assert ("Authorization", f"Bearer <access token from {token_url}>") in request.headers

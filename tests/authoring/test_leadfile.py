"""Problems in a lead file point at the line and column where the field is written."""

from __future__ import annotations

import pytest

from engine.authoring.leadfile import lead_from_text, read_lead_file
from engine.errors import LeadError
from engine.lead.schema import load_lead_schema
from tests.paths import REPO

ROOT = REPO
SCHEMA = load_lead_schema(ROOT / "integrations" / "lead-schema.yaml")


def test_sample_lead_reads_with_its_timestamp() -> None:
    """A valid lead comes back normalized, with its timestamp as an aware datetime."""
    lead, now = read_lead_file(ROOT / "integrations/leads/sample.json", SCHEMA)
    assert lead["lead"]["phone"] == "5125550142"
    assert now.isoformat() == "2024-12-15T14:30:00+00:00"


def test_every_bad_field_points_at_its_value() -> None:
    """Each problem carries file:line:col of the value (a missing field: its object)."""
    with pytest.raises(LeadError) as caught:
        read_lead_file(ROOT / "integrations/leads/invalid-many.json", SCHEMA)
    where = {i.message.split(":")[0]: (i.code, str(i.span)) for i in caught.value.issues}
    file = str(ROOT / "integrations/leads/invalid-many.json")
    assert where["lead.email"] == ("LP504", f"{file}:6:14")
    assert where["lead.last_name"] == ("LP501", f"{file}:4:11")
    assert where["attributes.credit_tier"] == ("LP510", f"{file}:17:20")


def test_json_syntax_error_points_at_the_character() -> None:
    """Broken JSON is reported where the parser stopped."""
    text = '{\n  "source_id": "x",\n  oops\n}'
    with pytest.raises(LeadError) as caught:
        lead_from_text(text, SCHEMA, "lead.json")
    (issue,) = caught.value.issues
    assert (issue.code, str(issue.span)) == ("LP512", "lead.json:3:3")


def test_lead_with_tabs_still_reports_with_the_file_name() -> None:
    """JSON indented with tabs cannot be located field by field: the file is still named."""
    text = '{\n\t"source_id": "x",\n\t"timestamp": "2024-12-15T14:30:00Z"\n}'
    with pytest.raises(LeadError) as caught:
        lead_from_text(text, SCHEMA, "tabs.json")
    assert {str(i.span) for i in caught.value.issues} == {"tabs.json:1:1"}

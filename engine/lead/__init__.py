"""The lead: its compiled schema, the per-lead check, and the normalizers both sides share.

Pure on purpose: importing ``engine.lead`` does not load the YAML layer. Read the schema file
with ``engine.lead.schema.load_lead_schema``.
"""

from engine.lead.normalize import (
    KINDS,
    NORMALIZERS,
    US_STATES,
    InvalidValue,
    Normalizer,
    enum_normalizer,
    normalize_value,
)
from engine.lead.validate import (
    FieldSpec,
    LeadSchema,
    lead_timestamp,
    parse_lead_json,
    validate_lead,
)
from engine.lead.validity import VALIDITY

__all__ = [
    "KINDS",
    "NORMALIZERS",
    "US_STATES",
    "VALIDITY",
    "FieldSpec",
    "InvalidValue",
    "LeadSchema",
    "Normalizer",
    "enum_normalizer",
    "lead_timestamp",
    "normalize_value",
    "parse_lead_json",
    "validate_lead",
]

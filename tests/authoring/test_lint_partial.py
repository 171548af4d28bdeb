"""Lint reports its semantic problems even when a misspelt key makes the file invalid."""

from __future__ import annotations

from pathlib import Path

from engine.authoring.lint import lint_file
from tests.paths import REPO

ROOT = REPO

TEXT = """\
buyer: oops
name: Oops
version: "1"
environments:
  production:
    url: http://10.0.0.5/leads
auth:
  type: api_key
  header: X-Key
  key: sk_live_abc123
stages:
  ping:
    fields:
      email: lead.email
      email_hash:
        from: lead.email
        transform: [{hash: sha256}]
    response:
      rules:
        - outcome: accepted
  post:
    fromat: json
    fields:
      phone: lead.phone
"""


def test_semantic_rules_run_on_an_invalid_file(tmp_path: Path) -> None:
    """Inline secret, http and private address in production, PII in a ping: with the typo."""
    (tmp_path / "lead-schema.yaml").write_text((ROOT / "integrations/lead-schema.yaml").read_text())
    path = tmp_path / "oops.yaml"
    path.write_text(TEXT)
    found = [(i.code, i.span.line if i.span else 0) for i in lint_file(path).issues]
    assert found == [
        ("LP402", 6),
        ("LP404", 6),
        ("LP401", 10),
        ("LP405", 14),
        ("LP201", 22),
    ]

"""``leadpost new``: a buyer drafted from a spec, the minimal buyer and campaign files, and the
mistakes it refuses (an existing file, a bad id, a spec it cannot read) without a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.cli import main
from tests.paths import INTEGRATIONS


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (lead schema, sample leads, specs, buyers) as the working folder."""
    root = tmp_path / "integrations"
    root.mkdir()
    shutil.copy(INTEGRATIONS / "lead-schema.yaml", root / "lead-schema.yaml")
    for folder in ("leads", "specs"):
        shutil.copytree(INTEGRATIONS / folder, root / folder)
    (root / "buyers").mkdir()
    (root / "specs" / "svc.wsdl").write_text(
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><types/></definitions>'
    )
    monkeypatch.chdir(tmp_path)
    return root


def _codes(capsys: pytest.CaptureFixture[str], path: str) -> set[str]:
    capsys.readouterr()
    main(["lint", path])
    out = capsys.readouterr().out
    return {word for word in out.split() if word.startswith("LP") and word[2:].isdigit()}


def test_new_buyer_from_an_openapi_spec(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The draft lands in integrations/buyers, says what it mapped, and lints with its TODOs."""
    spec = "integrations/specs/summit-crm.openapi.yaml"
    assert main(["new", "buyer", "summit", "--from-spec", spec]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "wrote integrations/buyers/summit.yaml: 17 fields from summit-crm.openapi.yaml: "
        "14 mapped to lead fields, 2 constants, 1 TODO\n"
        "the response section comes from the spec's documented responses\n"
    )
    text = (project / "buyers" / "summit.yaml").read_text(encoding="utf-8")
    assert "spec: {openapi: ../specs/summit-crm.openapi.yaml, operation: createLead}" in text
    assert "client_secret: ${env:SUMMIT_CLIENT_SECRET}" in text
    assert (
        "Phone: {from: lead.phone, transform: [{phone: e164}]} # name: phone; phone as e164" in text
    )
    assert _codes(capsys, "integrations/buyers/summit.yaml") == {"LP800", "LP803"}


def test_new_buyer_for_a_soap_xsd(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An XSD said to travel in SOAP gives the envelope, its namespaces and the SOAPAction."""
    spec = "integrations/specs/evergreen-life.post.xsd"
    assert main(["new", "buyer", "evergreen", "--from-spec", spec]) == 0
    text = (project / "buyers" / "evergreen.yaml").read_text(encoding="utf-8")
    assert "root: soap:Envelope" in text
    assert "eg: http://evergreenlife.com/quote" in text
    assert "SOAPAction: '\"http://evergreenlife.com/quote/SubmitApplicant\"'" in text
    assert "soap:Body.eg:SubmitApplicant.eg:FirstName: {from: lead.first_name" in text
    assert "type: wsse_username_token" in text


def test_minimal_buyer_and_campaign(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a spec, an annotated minimal buyer; a campaign over the project's buyers; both
    lint with only their TODOs."""
    assert main(["new", "buyer", "acme-direct"]) == 0
    assert main(["new", "campaign", "acme-flow"]) == 0
    buyer = project / "buyers" / "acme-direct.yaml"
    assert "key: ${env:ACME_DIRECT_KEY}" in buyer.read_text(encoding="utf-8")
    campaign = (project / "campaigns" / "acme-flow.yaml").read_text(encoding="utf-8")
    assert "  - acme-direct\n" in campaign
    assert _codes(capsys, "integrations/buyers/acme-direct.yaml") == {"LP800", "LP802", "LP803"}
    assert _codes(capsys, "integrations/campaigns/acme-flow.yaml") == set()


def test_an_existing_file_is_kept(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing is overwritten without --force."""
    target = project / "buyers" / "acme.yaml"
    target.write_text("mine\n", encoding="utf-8")
    assert main(["new", "buyer", "acme"]) == 1
    assert "integrations/buyers/acme.yaml exists already" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert main(["new", "buyer", "acme", "--force"]) == 0


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["new", "buyer", "Acme_Co"], 2, "'Acme_Co' is not a valid id"),
        (["new", "buyer", "a", "--from-spec", "nowhere.json"], 1, "cannot read the spec file"),
        (["new", "buyer", "a", "--from-spec", "integrations/leads/invalid-syntax.json"], 1,
         "is not valid JSON"),
        (["new", "buyer", "a", "--from-spec", "integrations/specs/summit-crm.openapi.yaml",
          "--operation", "nope"], 1, "no operation with operationId 'nope'"),
        (["new", "campaign", "c", "--from-spec", "x.json"], 2, "are for buyers"),
        (["new", "buyer", "a", "--from-spec", "integrations/specs/svc.wsdl"], 1,
         "leadpost new: integrations/specs/svc.wsdl is a WSDL, not an XML Schema\n"
         "  hint: save the xs:schema inside its <types> as an .xsd file"),
        (["new", "buyer", "a", "--ping-spec", "x.json"], 2, "--ping-spec goes with --from-spec"),
        (["new", "buyer", "a", "--from-spec", "y.json", "--ping-spec", "x.json", "--stage", "ping"],
         2, "goes with the post's spec"),
    ],
    ids=["bad-id", "missing-spec", "not-json", "unknown-operation", "campaign-spec", "wsdl",
         "ping-spec-alone", "ping-spec-for-a-ping"],
)  # fmt: skip
def test_mistakes_are_told_not_raised(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    """Each mistake gives its exit code and a sentence, never a traceback."""
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_outside_a_project_the_starter_lead_schema_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no lead-schema.yaml above the file, the draft maps to the starter project's schema
    and says so; the file goes to ID.yaml here."""
    spec = tmp_path / "acme.schema.json"
    spec.write_text('{"type": "object", "properties": {"fname": {"type": "string"}}}')
    monkeypatch.chdir(tmp_path)
    assert main(["new", "buyer", "acme", "--from-spec", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "no lead-schema.yaml was found above the file: mapped to the starter lead schema" in out
    assert "fname: lead.first_name" in (tmp_path / "acme.yaml").read_text(encoding="utf-8")

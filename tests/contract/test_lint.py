"""`leadpost lint` with generated leads: wired in, placed at the right YAML line, deterministic."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.authoring.lint import LintOptions, lint_file
from engine.cli import main
from engine.errors import Issue
from tests.contract_kit import FIXTURES, ROOT
from tests.props import SLOW


def _copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """The fixture folder in tmp_path with one edit to ``name`` (which must contain ``old``)."""
    folder = tmp_path / "contract"
    shutil.copytree(FIXTURES, folder)
    for buyer in folder.glob("*.yaml"):  # their test leads, found from the new place
        text = buyer.read_text(encoding="utf-8")
        buyer.write_text(text.replace("../../../integrations", str(ROOT / "integrations")))
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _generated(path: Path, examples: int = 100) -> list[Issue]:
    return [i for i in lint_file(path, LintOptions(examples=examples)).issues if i.code == "LP708"]


def test_a_soap_field_breaking_the_xsd_is_found_at_its_own_line(tmp_path: Path) -> None:
    """A phone format the XSD's pattern rejects (dashes where it wants dots) is reported at the
    field inside soap:Body, though the XSD knows nothing of the envelope or its prefixes."""
    path = _copy(tmp_path, "lighthouse.yaml", "{phone: dots}", "{phone: dashes}")
    [issue] = _generated(path)
    assert issue.span is not None and (issue.span.line, issue.span.col) == (22, 7)
    assert "soap:Body.lh:PostLead.lh:Phone" in issue.message
    assert "lighthouse.xsd:" in issue.message
    assert '"phone":' in (issue.hint or "")


def test_no_generated_leads_without_a_compiled_file_or_when_turned_off(tmp_path: Path) -> None:
    """examples=0 runs the static rules only; the same bug is then not reported."""
    path = _copy(tmp_path, "lighthouse.yaml", "{phone: dots}", "{phone: dashes}")
    assert _generated(path, examples=0) == []


def test_the_search_is_deterministic(tmp_path: Path) -> None:
    """The same file gives the same findings, with the same smallest lead, every time."""
    path = _copy(tmp_path, "lighthouse.yaml", "{phone: dots}", "{phone: dashes}")
    assert _generated(path) == _generated(path)


def test_a_generated_finding_is_not_repeated_where_a_static_rule_already_said_it(
    tmp_path: Path,
) -> None:
    """Without max_length the static rule reports LP706 at the field; the generated lead that
    shows the same overflow is not reported again at that line."""
    path = _copy(
        tmp_path, "lighthouse.yaml", "{from: lead.first_name, max_length: 30}", "lead.first_name"
    )
    issues = lint_file(path).issues
    at_field = [i.code for i in issues if i.span is not None and i.span.line == 20]
    assert at_field == ["LP706"]


def test_lint_deep_is_an_option_of_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`leadpost lint --deep` runs and reports like lint, trying DEEP_EXAMPLES leads per stage
    (made smaller here: 2,000 per stage is a minute of CPU); --help says how many."""
    from engine.contract import model, search

    assert main(["lint", "--help"]) == 0
    assert "2,000 generated leads per stage" in capsys.readouterr().out
    tried: list[int] = []
    real = search.find_violations

    def counting(*args: Any, **kwargs: Any) -> Any:
        tried.append(kwargs["examples"])
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "DEEP_EXAMPLES", 150)
    monkeypatch.setattr("engine.contract.lint.find_violations", counting)
    path = _copy(tmp_path, "lighthouse.yaml", "{phone: dots}", "{phone: dashes}")
    assert main(["lint", "--deep", str(path)]) == 1
    assert "LP708" in capsys.readouterr().out
    assert tried and set(tried) == {150}


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stages whose generated leads are really searched (not answered from the cache)."""
    from engine.contract import search

    searched: list[str] = []
    real = search.find_violations

    def counting(plan: Any, stage: str, *args: Any, **kwargs: Any) -> Any:
        searched.append(stage)
        return real(plan, stage, *args, **kwargs)

    monkeypatch.setattr("engine.contract.lint.find_violations", counting)
    return searched


def test_an_unchanged_file_is_answered_from_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second lint of an unchanged file reads no spec, searches nothing and reports the
    same LP708 at the same line; editing the buyer file, the spec or the lead schema searches
    that file again; --no-cache searches although nothing changed. The cache is under
    XDG_CACHE_HOME."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    searched = _counting(monkeypatch)
    path = _copy(tmp_path, "lighthouse.yaml", "{phone: dots}", "{phone: dashes}")

    def lint(*flags: str) -> tuple[str, list[str]]:
        searched.clear()
        assert main(["lint", *flags, str(path)]) == 1
        return capsys.readouterr().out, list(searched)

    first, ran = lint()
    assert "LP708" in first and ran
    assert lint() == (first, [])
    assert list((tmp_path / "cache" / "leadpost" / "lint").glob("*.json"))
    assert lint("--no-cache")[1] == ran
    path.write_text(path.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert lint()[1] == ran
    spec = path.parent / "lighthouse.xsd"
    spec.write_bytes(spec.read_bytes() + b"\n")
    assert lint()[1] == ran
    schema = path.parent / "lead-schema.yaml"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert lint()[1] == ran
    assert lint()[1] == []


def test_no_generated_skips_only_the_generated_leads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lint --no-generated` searches no generated leads (no LP708) but still applies the static
    spec rules (LP706 for a field longer than the spec allows)."""
    searched = _counting(monkeypatch)
    path = _copy(
        tmp_path, "lighthouse.yaml", "{from: lead.first_name, max_length: 30}", "lead.first_name"
    )
    assert main(["lint", "--no-generated", str(path)]) == 1
    out = capsys.readouterr().out
    assert "LP706" in out and "LP708" not in out and searched == []
    assert "--no-generated" in _help(capsys)


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["lint", "--help"]) == 0
    return capsys.readouterr().out


@SLOW
def test_the_example_integrations_meet_their_buyers_specs() -> None:
    """Every example buyer names its spec; lint with generated leads finds nothing."""
    reports = [lint_file(p) for p in sorted((ROOT / "integrations" / "buyers").glob("*.yaml"))]
    assert [i.render() for r in reports for i in r.issues] == []


def test_lint_keeps_hypothesis_files_in_the_users_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`leadpost lint` leaves no .hypothesis folder in the project: while it generates leads,
    Hypothesis's storage is under XDG_CACHE_HOME/leadpost, and afterwards as before."""
    from hypothesis.configuration import storage_directory

    import engine.contract.lint as contract_lint
    from engine.contract import search

    seen: list[Path] = []
    real = search.find_violations

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(storage_directory("constants", intent_to_write=False).path)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(contract_lint, "find_violations", spy)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    path = _copy(tmp_path, "lighthouse.yaml", "{phone: dots}", "{phone: dots}")
    assert main(["lint", str(path)]) == 0
    capsys.readouterr()
    assert seen == [tmp_path / "cache" / "leadpost" / "hypothesis" / "constants"]
    assert not (tmp_path / ".hypothesis").exists()
    assert storage_directory("constants", intent_to_write=False).path != seen[0]

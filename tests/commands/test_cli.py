"""The ``leadpost`` entry point: usage, exit codes, render, schema, and no tracebacks."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import cli
from engine.authoring import lint
from engine.cli import main
from engine.commands import COMMANDS, module_name


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command leadpost explains its usage and exits 2."""
    code, _, err = run(capsys)
    assert code == 2
    assert err.startswith("usage: leadpost")


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists every command."""
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("lint", "test", "render", "explain", "fmt", "schema"):
        assert f"    {command} " in out


def test_render_post(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """render shows method, URL, headers with secrets masked, and the exact body."""
    assert run(capsys, "render", "acme.yaml", "--lead", "lead.json") == (
        0,
        "POST http://127.0.0.1:9/acme/post\n"
        "X-Source: ${env:ACME_SOURCE}\n"
        "Authorization: Bearer ${env:ACME_TOKEN}\n"
        "Content-Type: application/json\n"
        "\n"
        '{"first_name":"John","phone":"512-555-0142","dob":"1985-04-12"}\n',
        "",
    )


def test_render_ping_in_production(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--stage and --env choose the stage and the environment's address."""
    code, out, _ = run(
        capsys,
        "render",
        "acme.yaml",
        "--lead",
        "lead.json",
        "--stage",
        "ping",
        "--env",
        "production",
    )
    assert code == 0
    assert out.splitlines()[0] == "POST https://api.acme.example/v1/ping"
    assert out.splitlines()[-1] == '{"state":"TX","owner":"Y"}'


def test_render_secrets_are_masked_even_when_set(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret set in the environment is still shown as its ${env:NAME} reference."""
    monkeypatch.setenv("ACME_TOKEN", "very-secret")
    out = run(capsys, "render", "acme.yaml", "--lead", "lead.json")[1]
    assert "very-secret" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--env", "staging"],
            "this buyer has no environment 'staging'; it has: test, production\n",
        ),
        (
            ["--lead", "missing.json"],
            "cannot read the lead file missing.json: No such file or directory\n",
        ),
    ],
    ids=["unknown-env", "missing-lead"],
)
def test_render_argument_problems(
    ws: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Arguments naming what does not exist get a plain message and exit 1."""
    full = ["render", "acme.yaml", "--lead", "lead.json", *args]
    assert run(capsys, *full) == (1, "", message)


def test_render_refused_lead(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lead the buyer cannot take prints the reason, not a traceback."""
    lead = (ws / "lead.json").read_text().replace('"dob": "1985-04-12",', "")
    (ws / "nodob.json").write_text(lead)
    code, out, err = run(capsys, "render", "acme.yaml", "--lead", "nodob.json")
    assert (code, out) == (1, "")
    assert err.startswith("this lead cannot be sent to the buyer: ")
    assert "dob" in err and "Traceback" not in err


def test_render_lead_not_json(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lead file that is not JSON says where it is broken."""
    (ws / "bad.json").write_text('{"source_id": ')
    code, _, err = run(capsys, "render", "acme.yaml", "--lead", "bad.json")
    assert code == 1
    assert err.startswith(
        "the lead is not valid:\n  bad.json:1:15: LP512 the lead is not valid JSON: "
    )


def test_render_broken_buyer_file(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A buyer file with errors is reported with positions and exit 1."""
    path = ws / "acme.yaml"
    path.write_text(path.read_text().replace("[{phone: dashes}]", "[{phnoe: dashes}]"))
    code, _, err = run(capsys, "render", "acme.yaml", "--lead", "lead.json")
    assert code == 1
    assert err.startswith("acme.yaml:36:22: LP301 unknown transform 'phnoe'\n")


def test_unexpected_error_is_short(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug inside leadpost prints a short message (no traceback) and exits 2."""

    def boom(*args: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(lint, "lint_paths", boom)
    assert run(capsys, "lint", "acme.yaml") == (
        2,
        "",
        "leadpost lint failed unexpectedly: disk on fire\n"
        "this is a bug in leadpost; please report it with the command you ran\n",
    )


def test_schema_for_editors(capsys: pytest.CaptureFixture[str]) -> None:
    """schema prints the JSON Schema of a buyer file, by alias, for yaml-language-server."""
    code, out, _ = run(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "leadpost buyer integration"
    assert set(schema["required"]) >= {"buyer", "name", "version", "environments", "stages"}
    assert schema["properties"]["version"]["type"] == ["string", "number", "boolean"]
    assert "from" in schema["$defs"]["FieldSpec"]["properties"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_one_module(command: str) -> None:
    """Each subcommand is a module of engine.commands with configure(parser) and run(args)."""
    module = importlib.import_module(module_name(command))
    assert callable(module.configure)
    assert callable(module.run)
    _, chosen = cli.build_parser([command, "--help"])
    assert chosen is module


def test_help_imports_no_command() -> None:
    """`leadpost --help` lists the commands without importing any of them (nor the runtime)."""
    code = (
        "import sys; from engine.cli import main; main(['--help']);"
        "print(sorted(m for m in sys.modules if m.startswith(('engine.commands.', 'aiohttp',"
        " 'httpx', 'hypothesis'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "['engine.commands.output']"

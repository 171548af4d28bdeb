"""Write a draft as a commented buyer file: ruamel.yaml maps with a "why" comment per field.

The file is laid out by :func:`engine.authoring.fmt.format_text` (the canonical layout
``leadpost fmt`` keeps), so a draft and a hand-formatted file look alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import find, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from engine.authoring.fmt import format_text
from engine.authoring.placeholders import PLACEHOLDER_HOST, TODO
from engine.authoring.scaffold.fields import FieldDraft, draft_fields, served_states
from engine.authoring.scaffold.response import outcome_of, response_draft, skeleton
from engine.authoring.scaffold.source import SOAP_12, FormWrap, SpecDraft, XmlLayout
from engine.errors import AuthoringError
from engine.lead import LeadSchema

SANDBOX = "http://127.0.0.1:8701"


@dataclass(frozen=True, slots=True)
class DraftRequest:
    """What to draft: the buyer's id, the spec read, where the file goes, the sample leads."""

    buyer: str
    spec: SpecDraft
    out: Path
    stage: str = "post"
    leads: tuple[Path, ...] = ()
    ping: SpecDraft | None = None
    """The ping's spec, for a buyer that pings first (its post then reads ``ping.…``)."""


@dataclass(frozen=True, slots=True)
class Drafted:
    """The drafted file's text and what it holds."""

    text: str
    fields: tuple[FieldDraft, ...]
    placeholders: int
    """Fields left as TODO."""
    todo_choices: int
    """Translate entries left as TODO."""
    documented_response: bool


def env_name(buyer: str, what: str) -> str:
    """``acme-direct``, ``key`` -> ``ACME_DIRECT_KEY``."""
    return re.sub(r"[^A-Z0-9]+", "_", f"{buyer}_{what}".upper()).strip("_")


def field_key(path: tuple[str | int, ...], layout: XmlLayout | None) -> str:
    """The buyer file's name of the field at a spec path (prefixes, SOAP Body, list positions)."""
    parts: list[str] = []
    for p in path:
        if isinstance(p, int):
            parts[-1:] = [(parts[-1] if parts else "") + f"[{p}]"]
        elif layout is not None and layout.soap and layout.prefix and layout.qualified:
            parts.append(p if p.startswith("@") else f"{layout.prefix}:{p}")
        else:
            parts.append(p)
    if layout is not None and layout.soap:
        top = f"{layout.prefix}:{layout.element}" if layout.prefix else layout.element
        parts = ["soap:Body", top, *parts]
    return ".".join(parts)


def _flow(data: dict[str, Any]) -> CommentedMap:
    node = CommentedMap()
    for key, value in data.items():
        if isinstance(value, dict):
            value = _flow(value)
        elif isinstance(value, list):
            seq = CommentedSeq(_flow(v) if isinstance(v, dict) else v for v in value)
            seq.fa.set_flow_style()
            value = seq
        node[key] = value
    node.fa.set_flow_style()
    return node


def _flow_list(items: list[Any]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _post_placeholder(req: DraftRequest) -> CommentedMap:
    """A post stage for a drafted ping: one placeholder, until the post is drafted too."""
    post = CommentedMap()
    fields = CommentedMap()
    fields["lead"] = _flow({"value": TODO})
    fields.yaml_add_eol_comment(
        "TODO: draft the post from its spec (leadpost new buyer ID --from-spec POST_SPEC "
        "--out OTHER.yaml) and copy its stages.post here",
        "lead",
        column=0,
    )
    post["fields"] = fields
    return post


def _auth(req: DraftRequest, spec: SpecDraft) -> CommentedMap | None:
    given = spec.auth
    if given is None:
        return None
    kind = given["type"]
    auth = CommentedMap(type=kind)
    buyer = req.buyer
    if kind == "api_key":
        where = "header" if "header" in given else "query"
        auth[where] = given[where]
        auth["key"] = f"${{env:{env_name(buyer, 'key')}}}"
    elif kind in ("basic", "wsse_username_token"):
        auth["username"] = f"${{env:{env_name(buyer, 'user')}}}"
        auth["password"] = f"${{env:{env_name(buyer, 'password')}}}"
    elif kind == "bearer":
        auth["token"] = f"${{env:{env_name(buyer, 'token')}}}"
    elif kind == "oauth2":
        auth["token_url"] = given.get("token_url", "")
        auth["client_id"] = f"${{env:{env_name(buyer, 'client_id')}}}"
        auth["client_secret"] = f"${{env:{env_name(buyer, 'client_secret')}}}"
        if given.get("scopes"):
            scopes = CommentedSeq(given["scopes"])
            scopes.fa.set_flow_style()
            auth["scopes"] = scopes
    return auth


def _environments(req: DraftRequest) -> CommentedMap:
    spec = req.spec
    envs = CommentedMap()
    envs["test"] = CommentedMap(url=f"{SANDBOX}/{req.buyer}")
    envs.yaml_add_eol_comment(
        "TODO: the buyer's test address (this one is leadpost sandbox's)", "test", column=0
    )
    if spec.servers:
        url = spec.servers[0].rstrip("/") + spec.path
        envs["production"] = CommentedMap(url=url)
        envs.yaml_add_eol_comment("from the spec's servers", "production", column=0)
    else:
        envs["production"] = CommentedMap(url=f"https://{PLACEHOLDER_HOST}/{req.buyer}")
        envs.yaml_add_eol_comment(
            "TODO: the buyer's production address (lint LP802)", "production", column=0
        )
    return envs


def _secret_name(name: str) -> bool:
    return re.search(r"key|token|secret|password", name, re.IGNORECASE) is not None


def _form_todos(spec: SpecDraft) -> int:
    """The form fields a draft leaves TODO (those that are not secrets)."""
    form = spec.xml.form if spec.xml is not None else None
    return sum(not _secret_name(name) for name, _ in form.others) if form else 0


def _wrap(req: DraftRequest, form: FormWrap) -> CommentedMap:
    """``wrap_in_form``: the document's field, and the others (secrets from the environment)."""
    fields = CommentedMap()
    for name, what in form.others:
        if _secret_name(name):
            fields[name] = _flow({"value": f"${{env:{env_name(req.buyer, name)}}}"})
            fields.yaml_add_eol_comment(f"{what}: read from the environment", name, column=0)
        else:
            fields[name] = _flow({"value": TODO})
            fields.yaml_add_eol_comment(f"TODO: {what}", name, column=0)
    wrap = CommentedMap(field=form.field)
    wrap["fields"] = fields
    return wrap


def _xml(layout: XmlLayout) -> CommentedMap:
    xml = CommentedMap()
    if layout.soap:
        xml["root"] = "soap:Envelope"
        xml["namespaces"] = CommentedMap(soap=layout.soap)
        if layout.namespace and layout.prefix:
            xml["namespaces"][layout.prefix] = layout.namespace
    else:
        xml["root"] = layout.element
        if layout.form is not None and not layout.form.declaration:
            xml["declaration"] = False
        if layout.namespace:
            xml["default_namespace"] = layout.namespace
    return xml


def _fields(drafts: list[FieldDraft], layout: XmlLayout | None) -> CommentedMap:
    fields = CommentedMap()
    for d in drafts:
        key = field_key(d.path, layout)
        if set(d.spec) == {"from"}:
            fields[key] = d.spec["from"]
        else:
            fields[key] = _flow(d.spec)
        fields.yaml_add_eol_comment(d.why.replace("\n", " "), key, column=0)
    return fields


def _stage(
    req: DraftRequest,
    spec: SpecDraft,
    name: str,
    drafts: list[FieldDraft],
    carried: dict[str, str] | None = None,
) -> tuple[CommentedMap, bool]:
    """One stage; ``carried``: what the ping's answer must extract for the post (name: the
    property it is guessed to be in)."""
    stage = CommentedMap()
    if spec.method != "POST":
        stage["method"] = spec.method
    if spec.format != "json":
        stage["format"] = spec.format
    if spec.xml is not None:
        stage["xml"] = _xml(spec.xml)
        if spec.xml.form is not None:
            stage["wrap_in_form"] = _wrap(req, spec.xml.form)
        if spec.xml.soap and spec.xml.action and spec.xml.soap != SOAP_12:
            stage["headers"] = CommentedMap(SOAPAction=f'"{spec.xml.action}"')
    stage["fields"] = _fields(drafts, spec.xml)
    answer = response_draft(spec)
    for key, where in (carried or {}).items():
        answer.section.setdefault("extract", {}).setdefault(key, where)
    response = CommentedMap()
    for key, value in answer.section.items():
        if key == "rules":
            rules = CommentedSeq(_flow(r) for r in value)
            response["rules"] = rules
        elif key == "extract":
            response["extract"] = CommentedMap(value)
            for carried_key in carried or {}:
                response["extract"].yaml_add_eol_comment(
                    "TODO: where the answer carries what the post sends back", carried_key, column=0
                )
        else:
            response[key] = value
    if not answer.documented:
        lines = skeleton(name, str(answer.section.get("body", "json")))
        response.yaml_set_comment_before_after_key("body", before="\n".join(lines), indent=6)
    stage["response"] = response
    contract = CommentedMap()
    written = os.path.relpath(spec.file.resolve(), req.out.resolve().parent).replace(os.sep, "/")
    if spec.contract.json_schema is not None:
        contract["json_schema"] = written
    elif spec.contract.openapi is not None:
        contract["openapi"] = written
        contract["operation"] = spec.contract.operation
    else:
        contract["xsd"] = written
        if spec.contract.element is not None:
            contract["element"] = spec.contract.element
    contract.fa.set_flow_style()
    stage["spec"] = contract
    stage.yaml_add_eol_comment("contract checks run at every lint", "spec", column=0)
    return stage, answer.documented


def _answer_tests(spec: SpecDraft, stage: str) -> list[CommentedMap]:
    """One case per example answer the spec documents, expecting the outcome it is named for."""
    cases = []
    for answer in spec.responses:
        for name, body in answer.examples:
            outcome = outcome_of(name) if name else None
            if outcome is None and answer.status[:1] == "4":
                outcome = "rejected"
            if outcome is None or not answer.status.isdigit():
                continue
            case = CommentedMap()
            case["name"] = f"the spec's example answer '{name or answer.status}' is {outcome}"
            if stage != "post":
                case["stage"] = stage
            case["response"] = _flow({"status": int(answer.status), "body": body})
            case["expect"] = _flow({"outcome": outcome})
            cases.append(case)
    return cases


def sample_text(regex: str | None) -> str:
    """The simplest text a pattern accepts (``^APEX-[0-9a-f]{10}$`` -> ``APEX-0000000000``),
    found by Hypothesis; ``TODO`` without a pattern or when none is found quickly."""
    if not regex:
        return TODO
    try:
        found = find(
            st.from_regex(regex, fullmatch=True),
            lambda _: True,
            settings=settings(database=None, max_examples=50, deadline=None),
        )
    except Exception:  # a pattern Hypothesis cannot sample: the author writes one
        return TODO
    return found if isinstance(found, str) else TODO


def _tests(
    req: DraftRequest, stages: list[tuple[str, SpecDraft]], prior: dict[str, str]
) -> CommentedSeq:
    tests = CommentedSeq()
    for stage, spec in stages:
        for lead in req.leads:
            written = os.path.relpath(lead.resolve(), req.out.resolve().parent)
            case = CommentedMap()
            case["name"] = f"the {lead.stem} lead, as the draft renders the {stage}"
            if stage != "post":
                case["stage"] = stage
            case["lead"] = written.replace(os.sep, "/")
            if stage == "post" and prior:
                case["prior"] = CommentedMap(ping=_flow(prior))
            case["expect_body"] = ""
            case.yaml_add_eol_comment(
                "recorded by: leadpost test --update", "expect_body", column=0
            )
            tests.append(case)
        tests.extend(_answer_tests(spec, stage))
    return tests


def _key_in_fields(spec: SpecDraft) -> SpecDraft:
    """A key the security scheme puts in a query parameter the spec also lists as a property:
    sent as that field (``value: ${env:…}``), so the spec's checks see it; no ``auth``."""
    name = (spec.auth or {}).get("query")
    if not name or not any(f.path == (name,) for f in spec.fields):
        return spec
    return dataclasses.replace(spec, auth=None, key_field=name)


def _from_ping(drafts: list[FieldDraft], spec: SpecDraft) -> tuple[dict[str, str], dict[str, str]]:
    """What the post reads from the ping's answer: (name: the property the ping is guessed to
    carry it in), and (name: a value shaped like the post's pattern) for the tests' ``prior``."""
    props = {f.path: f.prop for f in spec.fields}
    carried: dict[str, str] = {}
    prior: dict[str, str] = {}
    for d in drafts:
        if str(d.lead_field).startswith("ping."):
            name = str(d.lead_field).removeprefix("ping.")
            carried[name] = str(d.path[-1])
            prior[name] = sample_text(props[d.path].regex)
    return carried, prior


def draft_text(req: DraftRequest, schema: LeadSchema) -> Drafted:
    """The drafted buyer file."""
    spec = _key_in_fields(req.spec)
    ping = req.ping if req.stage == "post" else None
    drafts = draft_fields(spec.fields, schema, spec.format, after_ping=ping is not None)
    for d in drafts:
        if spec.key_field is not None and d.path == (spec.key_field,):
            d.spec = {"value": f"${{env:{env_name(req.buyer, 'key')}}}"}
            d.why, d.placeholder, d.lead_field = (
                "the API key, read from the environment",
                False,
                None,
            )
    doc = CommentedMap()
    doc["buyer"] = req.buyer
    doc["name"] = spec.title or req.buyer
    doc["version"] = DoubleQuotedScalarString("1")
    doc["environments"] = _environments(req)
    auth = _auth(req, spec)
    if auth is not None:
        doc["auth"] = auth
    states = served_states(spec.fields, schema) or (
        served_states(ping.fields, schema) if ping is not None else None
    )
    if states:
        doc["filters"] = CommentedMap(states=_flow_list(states))
        doc["filters"].yaml_add_eol_comment("the states the spec lists", "states", column=0)
    stages = CommentedMap()
    written: list[tuple[str, SpecDraft]] = []
    prior: dict[str, str] = {}
    if ping is not None:
        carried, prior = _from_ping(drafts, spec)
        ping_drafts = draft_fields(ping.fields, schema, ping.format)
        stages["ping"], _ = _stage(req, ping, "ping", ping_drafts, carried)
        drafts = ping_drafts + drafts
        written.append(("ping", ping))
    own = drafts[len(drafts) - len(spec.fields_paths()) :]
    stage, documented = _stage(req, spec, req.stage, own)
    stages[req.stage] = stage
    written.append((req.stage, spec))
    if req.stage == "ping":
        stages["post"] = _post_placeholder(req)
    doc["stages"] = stages
    tests = _tests(req, written, prior)
    if tests:
        doc["tests"] = tests
    placeholders = sum(d.placeholder for d in drafts) + _form_todos(spec)
    todo_choices = sum(d.todos for d in drafts)
    head = [
        f"{spec.title or req.buyer}: drafted by `leadpost new buyer --from-spec` from "
        f"{spec.file.name}. Each field says in a comment why it was chosen. TODO marks what the "
        "spec could not answer: lint reports each one (LP800-LP803) until it is done."
    ]
    if auth is None and spec.key_field is None:
        head.append("The spec names no authentication: add an auth section if the buyer needs one.")
    head += list(spec.notes)
    lines = [line for text in head for line in textwrap.wrap(text, 97)]
    doc.yaml_set_start_comment("\n".join(lines))
    yaml = YAML()
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(doc, out)
    text = out.getvalue()
    with contextlib.suppress(AuthoringError):  # else ruamel's layout: still valid YAML
        text = format_text(text, str(req.out))
    return Drafted(text, tuple(drafts), placeholders, todo_choices, documented)

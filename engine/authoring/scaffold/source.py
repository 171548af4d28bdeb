"""Read a buyer's published spec into a neutral draft: the payload format and its fields in order.

The spec readers of :mod:`engine.contract` do the reading (the same code that checks a mapping
against the spec at lint time), so a draft and its later checks agree on every path. This
module adds what drafting needs and checking does not: the format the spec implies (JSON, form,
XML, SOAP), each property's description and numeric bounds, the spec's servers, security scheme
and documented responses. Problems are :class:`~engine.contract.problems.SpecProblem` s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xmlschema

from engine.contract import model as cm
from engine.contract.jsonspec import flatten, pointers, resolve
from engine.contract.openapi import METHODS
from engine.contract.paths import Format, PayloadShape
from engine.contract.problems import SpecProblem
from engine.contract.spec import parse_document, read_spec
from engine.contract.xsd import load_xsd, xsd_spec
from engine.dsl import models as m
from engine.loading import display_name

SOAP_11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_12 = "http://www.w3.org/2003/05/soap-envelope"
_SOAP_ACTION = re.compile(r'SOAPAction[:=\s]+"?([^"\s,]+)"?')
_MAX_REF_HOPS = 8


@dataclass(frozen=True, slots=True)
class SpecField:
    """One property of the payload, as the spec declares it, with what drafting reads from it."""

    path: cm.PayloadPath
    prop: cm.Property
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    fixed: str | None = None
    """XSD: the value the schema fixes (``fixed="2.1"``)."""

    @property
    def name(self) -> str:
        """The property's own name (``@type`` for an XML attribute)."""
        return str(next((p for p in reversed(self.path) if isinstance(p, str)), ""))

    @property
    def leaf(self) -> bool:
        """True for a value (not an object or a list of them)."""
        return not ({"object", "array"} & self.prop.types)


@dataclass(frozen=True, slots=True)
class DocResponse:
    """One documented response: its status, what it says, and its body's properties."""

    status: str
    description: str
    fields: tuple[SpecField, ...] = ()
    media: str = ""
    examples: tuple[tuple[str, str], ...] = ()
    """(name, body) of each example answer the spec gives (name "" when it has none)."""


@dataclass(frozen=True, slots=True)
class FormWrap:
    """The document travels inside one field of a form (``key=…&xml=<Lead…>``)."""

    field: str
    others: tuple[tuple[str, str], ...]
    """(name, what the spec says of it) of the form's other fields."""
    declaration: bool = True


@dataclass(frozen=True, slots=True)
class XmlLayout:
    """How an XML payload is written: its element, namespace and SOAP envelope."""

    element: str
    namespace: str | None = None
    prefix: str | None = None
    qualified: bool = False
    soap: str | None = None
    """The envelope namespace (SOAP 1.1 or 1.2), None for a plain document."""
    action: str | None = None
    form: FormWrap | None = None


@dataclass(frozen=True, slots=True)
class SpecDraft:
    """Everything a draft reads from one spec."""

    kind: cm.SpecKind
    file: Path
    format: Format
    fields: tuple[SpecField, ...]
    contract: m.ContractSpec
    xml: XmlLayout | None = None
    title: str = ""
    servers: tuple[str, ...] = ()
    auth: dict[str, Any] | None = None
    method: str = "POST"
    path: str = ""
    responses: tuple[DocResponse, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()
    """Choices the reader made that the author should know (another operation existed …)."""
    key_field: str | None = None
    """A property that carries the API key (its security scheme's query parameter)."""

    def fields_paths(self) -> list[cm.PayloadPath]:
        """The paths of the leaf properties, in the spec's order."""
        return [f.path for f in self.fields if f.leaf]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _decimal(value: Any) -> float | None:
    """A bound as a number (xmlschema gives Decimal or int), None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _json_extras(doc: Any, node: Any) -> tuple[str, float | None, float | None]:
    """(description, minimum, maximum) of a schema node, following ``$ref`` and ``allOf``."""
    description, low, high = "", None, None
    todo, hops = [node], 0
    while todo and hops < _MAX_REF_HOPS:
        hops += 1
        item = todo.pop(0)
        if not isinstance(item, dict):
            continue
        if not description and isinstance(item.get("description"), str):
            description = " ".join(item["description"].split())
        low = low if low is not None else _number(item.get("minimum"))
        high = high if high is not None else _number(item.get("maximum"))
        if isinstance(item.get("$ref"), str):
            todo.append(resolve(doc, item["$ref"]))
        for word in ("allOf", "anyOf", "oneOf"):
            if isinstance(item.get(word), list):
                todo.extend(item[word])
    return description, low, high


def _json_fields(doc: Any, spec: cm.BuyerSpec) -> tuple[SpecField, ...]:
    out = []
    for path, prop in spec.properties.items():
        pointer = prop.where.rpartition("#")[2]
        node = resolve(doc, "#" + pointer) if pointer else None
        description, low, high = _json_extras(doc, node)
        out.append(SpecField(path, prop, description, low, high))
    return tuple(out)


# -- OpenAPI -----------------------------------------------------------------------------------


def _pick_operation(
    doc: dict[str, Any], wanted: str | None
) -> tuple[str, str, str, dict[str, Any], list[str]]:
    """(operationId, method, route, operation, notes) of the operation to draft."""
    found: list[tuple[str, str, str, dict[str, Any]]] = []
    paths = doc.get("paths")
    for route, item in paths.items() if isinstance(paths, dict) else []:
        for method in METHODS if isinstance(item, dict) else ():
            op = item.get(method)
            if isinstance(op, dict) and isinstance(op.get("operationId"), str):
                found.append((op["operationId"], method.upper(), str(route), op))
    names = [f[0] for f in found]
    if wanted is not None:
        for hit in found:
            if hit[0] == wanted:
                return (*hit, [])
        raise SpecProblem(
            "LP711",
            f"the spec has no operation with operationId '{wanted}'",
            "its operations are: " + (", ".join(names) or "none"),
        )
    with_body = [f for f in found if "requestBody" in f[3]] or found
    if not with_body:
        raise SpecProblem("LP711", "the spec lists no operation with an operationId")
    chosen = with_body[0]
    notes = []
    if len(with_body) > 1:
        others = ", ".join(f[0] for f in with_body[1:])
        notes.append(f"drafted operation '{chosen[0]}'; the spec also has {others} (--operation)")
    return (*chosen, notes)


def _openapi_format(doc: Any, op: dict[str, Any]) -> Format:
    body = op.get("requestBody")
    if isinstance(body, dict) and isinstance(body.get("$ref"), str):
        body = resolve(doc, body["$ref"])
    content = body.get("content") if isinstance(body, dict) else None
    media = (
        [str(k).split(";")[0].strip().lower() for k in content] if isinstance(content, dict) else []
    )
    if any(k == "application/json" or k.endswith("+json") for k in media):
        return "json"
    if "application/x-www-form-urlencoded" in media:
        return "form"
    if not media:
        return "query"
    return "json"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _auth(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    """The buyer file's ``auth`` for the operation's first security scheme, secrets as env."""
    schemes = _dict(_dict(doc.get("components")).get("securitySchemes"))
    wanted = op.get("security", doc.get("security")) or []
    for entry in wanted if isinstance(wanted, list) else []:
        for name, scopes in _dict(entry).items():
            scheme = _dict(schemes.get(name))
            kind, where = scheme.get("type"), scheme.get("in")
            how = str(scheme.get("scheme", "")).lower()
            if kind == "apiKey" and where in ("header", "query"):
                return {"type": "api_key", where: str(scheme.get("name", "X-Api-Key"))}
            if kind == "http" and how in ("basic", "bearer"):
                return {"type": how}
            flow = _dict(_dict(scheme.get("flows")).get("clientCredentials"))
            if kind == "oauth2" and flow:
                listed = [str(s) for s in scopes] if isinstance(scopes, list) else []
                return {
                    "type": "oauth2",
                    "token_url": str(flow.get("tokenUrl", "")),
                    "scopes": listed,
                }
    return None


def _responses(doc: Any, op: dict[str, Any], source: str) -> tuple[DocResponse, ...]:
    out = []
    answers = op.get("responses")
    for status, answer in answers.items() if isinstance(answers, dict) else []:
        if isinstance(answer, dict) and isinstance(answer.get("$ref"), str):
            answer = resolve(doc, answer["$ref"])
        if not isinstance(answer, dict):
            continue
        description = " ".join(str(answer.get("description", "")).split())
        given = answer.get("content")
        content: dict[str, Any] = given if isinstance(given, dict) else {}
        fields: tuple[SpecField, ...] = ()
        media = ""
        examples: list[tuple[str, str]] = []
        for name, body in content.items():
            media = str(name)
            if not isinstance(body, dict):
                continue
            examples += _examples(body, "json" in media)
            schema = body.get("schema")
            if isinstance(schema, dict) and "json" in media:
                fields = _schema_fields(doc, schema, source)
                break
        out.append(DocResponse(str(status), description, fields, media, tuple(examples)))
    return tuple(out)


def _examples(media: dict[str, Any], as_json: bool) -> list[tuple[str, str]]:
    """(name, body text) of a media type's ``example`` or ``examples``."""
    found: list[tuple[str, Any]] = []
    if "example" in media:
        found.append(("", media["example"]))
    named = media.get("examples")
    for name, item in named.items() if isinstance(named, dict) else []:
        if isinstance(item, dict) and "value" in item:
            found.append((str(name), item["value"]))
    out = []
    for name, value in found:
        if as_json and not isinstance(value, str):
            out.append((name, json.dumps(value, default=str)))
        elif isinstance(value, str):
            out.append((name, value))
    return out


def _schema_fields(doc: Any, schema: Any, source: str) -> tuple[SpecField, ...]:
    props, _ = flatten(doc, schema, source, pointers(doc))
    shell = cm.BuyerSpec(source, "openapi", props, frozenset(), lambda body: [])
    return _json_fields(doc, shell)


# -- XSD -----------------------------------------------------------------------------------------


_Extras = tuple[str, float | None, float | None, str | None]


def _xsd_extras(decl: Any) -> dict[cm.PayloadPath, _Extras]:
    """(description, minimum, maximum, fixed) of every element and attribute below ``decl``."""
    found: dict[cm.PayloadPath, _Extras] = {}

    def words(component: Any) -> str:
        for part in (component, getattr(component, "type", None)):
            note = getattr(part, "annotation", None)
            docs = getattr(note, "documentation", None) or []
            text = " ".join((getattr(d, "text", "") or "") for d in docs).strip()
            if text:
                return " ".join(text.split())
        return ""

    def bounds(simple: Any) -> tuple[float | None, float | None]:
        low = getattr(simple, "min_value", None)
        high = getattr(simple, "max_value", None)
        return _decimal(low), _decimal(high)

    def fixed(component: Any) -> str | None:
        value = getattr(component, "fixed", None)
        return None if value is None else str(value)

    def walk(elem: Any, path: cm.PayloadPath, depth: int) -> None:
        kind = elem.type
        if path:
            simple = kind if kind.is_simple() else getattr(kind, "content", None)
            found[path] = (words(elem), *bounds(simple), fixed(elem))
        if kind.is_simple() or depth > 30:
            return
        for name, attr in kind.attributes.items():
            if name is not None:
                at = (*path, "@" + attr.local_name)
                found[at] = (words(attr), *bounds(attr.type), fixed(attr))
        if kind.has_simple_content():
            return
        for child in elem.iterchildren():
            walk(child, (*path, child.local_name or ""), depth + 1)

    walk(decl, (), 0)
    return found


def _pick_element(
    schema: xmlschema.XMLSchema, wanted: str | None, stage: str
) -> tuple[str, list[str]]:
    names = [str(n) for n in schema.elements]
    if wanted is not None:
        return wanted, []
    if not names:
        raise SpecProblem("LP711", "the XML Schema declares no global element")
    requests = [n for n in names if not re.search(r"(Response|Result|Reply|Fault)$", n)] or names
    chosen = next((n for n in requests if stage.lower() in n.lower()), requests[0])
    notes = []
    if len(requests) > 1:
        others = ", ".join(n for n in requests if n != chosen)
        notes.append(f"drafted element '{chosen}'; the schema also declares {others} (--element)")
    return chosen, notes


def _soap(text: str) -> str | None:
    """The envelope namespace when the schema's comments or imports say it travels in SOAP."""
    if SOAP_12 in text or re.search(r"SOAP\s*1\.2", text):
        return SOAP_12
    if SOAP_11 in text or re.search(r"\bSOAP\b|soap:Body", text):
        return SOAP_11
    return None


_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_FORM_ROW = re.compile(r"^[ \t]+([A-Za-z_][\w-]*)[ \t]{2,}(\S.*)$", re.MULTILINE)


def _form_wrap(text: str, element: str) -> FormWrap | None:
    """The form the schema's comments say the document travels in: a table of form fields,
    one of which holds ``<Element …>``."""
    said = "\n".join(_COMMENT.findall(text))
    if "x-www-form-urlencoded" not in said:
        return None
    rows = _FORM_ROW.findall(said)
    holder = next((name for name, what in rows if f"<{element}" in what), None)
    if holder is None:
        return None
    others = tuple((name, what.strip()) for name, what in rows if name != holder)
    bare = re.search(r"without (?:an|the) XML declaration", said, re.IGNORECASE) is None
    return FormWrap(holder, others, bare)


def _xsd_draft(data: bytes, file: Path, shown: str, element: str | None, stage: str) -> SpecDraft:
    schema = load_xsd(data, file, shown)
    name, notes = _pick_element(schema, element, stage)
    text = data.decode("utf-8", "replace")
    soap = _soap(text)
    shape = PayloadShape("xml", name, soap=soap is not None)
    spec = xsd_spec(schema, shown, name, shape)
    decl = schema.elements[name]
    extras = _xsd_extras(decl)
    fields = tuple(
        SpecField(p, prop, *extras.get(p, ("", None, None, None)))
        for p, prop in spec.properties.items()
    )
    namespace = schema.target_namespace or None
    prefix = None
    if namespace:
        prefix = next((p for p, u in schema.namespaces.items() if u == namespace and p), None)
        prefix = prefix or re.sub(r"[^a-z]", "", name.lower())[:3] or "ns"
    action = _SOAP_ACTION.search(text)
    layout = XmlLayout(
        name,
        namespace,
        prefix,
        schema.element_form_default == "qualified",
        soap,
        action.group(1) if action and soap else None,
        None if soap else _form_wrap(text, name),
    )
    contract = m.ContractSpec(
        xsd=file.name, element=name if (element or len(schema.elements) > 1 or soap) else None
    )
    auth = {"type": "wsse_username_token"} if "UsernameToken" in text and soap else None
    return SpecDraft("xsd", file, "xml", fields, contract, layout, auth=auth, notes=tuple(notes))


def read_draft(
    file: Path, *, operation: str | None = None, element: str | None = None, stage: str = "post"
) -> SpecDraft:
    """The draft of ``file`` (JSON Schema, OpenAPI 3 or XSD); SpecProblem when it cannot be read."""
    shown = display_name(file.resolve())
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SpecProblem(
            "LP701", f"cannot read the spec file '{file}': {exc.strerror or exc}"
        ) from None
    if b"http://schemas.xmlsoap.org/wsdl/" in data[:4096]:
        raise SpecProblem(
            "LP710",
            f"{shown} is a WSDL, not an XML Schema",
            "save the xs:schema inside its <types> as an .xsd file and draft from that "
            "(--element names the request element)",
        )
    if file.suffix.lower() == ".xsd" or data.lstrip().startswith(b"<"):
        return _xsd_draft(data, file, shown, element, stage)
    doc = parse_document(data, shown)
    if isinstance(doc, dict) and "openapi" in doc:
        op_id, method, route, op, notes = _pick_operation(doc, operation)
        fmt = _openapi_format(doc, op)
        contract = m.ContractSpec(openapi=file.name, operation=op_id)
        spec = read_spec(contract, file.parent, PayloadShape(fmt))
        fresh = parse_document(data, shown)  # read_spec rewrites OpenAPI 3.0 words in place
        listed = fresh.get("servers")
        servers = tuple(
            str(s["url"])
            for s in (listed if isinstance(listed, list) else [])
            if isinstance(s, dict) and isinstance(s.get("url"), str)
        )
        info = fresh.get("info") if isinstance(fresh.get("info"), dict) else {}
        return SpecDraft(
            "openapi",
            file,
            fmt,
            _json_fields(fresh, spec),
            contract,
            title=str(info.get("title", "")),
            servers=servers,
            auth=_auth(fresh, op),
            method=method if method in ("POST", "GET", "PUT", "PATCH") else "POST",
            path=route,
            responses=_responses(fresh, op, shown),
            notes=tuple(notes),
        )
    contract = m.ContractSpec(json_schema=file.name)
    spec = read_spec(contract, file.parent, PayloadShape("json"))
    title = str(doc.get("title", "")) if isinstance(doc, dict) else ""
    return SpecDraft("json_schema", file, "json", _json_fields(doc, spec), contract, title=title)

"""Where a stage's fields land in the buyer's spec: payload shapes, spec paths, bodies read back.

A field's output path (``FieldPlan.path``) is written for the encoder: XML names carry their
prefixes (``lh:FirstName``), a SOAP payload sits inside ``soap:Body``, JSON lists have positions.
A spec names the same places without prefixes, below the payload element, with any list
position. :func:`to_spec` turns the first into the second and :func:`key` makes positions
comparable (every list position counts as ``0``), so fields, spec properties and violations can
be matched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote_to_bytes

from lxml import etree

from engine.compiler.fields_paths import parse_output_path
from engine.contract.model import PayloadPath
from engine.dsl import models as m

Format = Literal["json", "xml", "form", "query"]

#: The envelope namespaces of SOAP 1.1 and 1.2.
SOAP_NAMESPACES = frozenset(
    {"http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope"}
)


@dataclass(frozen=True, slots=True)
class PayloadShape:
    """What a stage's spec describes: the document's format and, for XML, its payload element."""

    format: Format
    element: str | None = None
    """XML: local name of the payload element (the root, or the element inside a SOAP Body)."""
    soap: bool = False
    wrapped: str | None = None
    """The form field carrying the document (``wrap_in_form``), if any."""

    @property
    def text_only(self) -> bool:
        """True when every value travels as text (form, query string, XML)."""
        return self.format != "json"


def local(name: str) -> str:
    """``lh:FirstName`` -> ``FirstName``; ``@xsi:type`` -> ``@type``."""
    at = "@" if name.startswith("@") else ""
    return at + name.removeprefix("@").rpartition(":")[2]


def _soap(xml: m.XmlOptions) -> bool:
    prefix, _, name = xml.root.rpartition(":")
    uri = xml.namespaces.get(prefix) if prefix else xml.default_namespace
    return name == "Envelope" and uri in SOAP_NAMESPACES


def shape_of(stage: m.StageSpec) -> PayloadShape:
    """The payload shape of a validated stage."""
    wrapped = stage.wrap_in_form.field if stage.wrap_in_form is not None else None
    if stage.format != "xml" or stage.xml is None:
        return PayloadShape(stage.format, wrapped=wrapped)
    if not _soap(stage.xml):
        return PayloadShape("xml", local(stage.xml.root), wrapped=wrapped)
    element = None
    for name in stage.fields:
        path = parse_output_path(name)
        if isinstance(path, tuple) and len(path) > 1 and local(str(path[0])) == "Body":
            element = local(str(path[1]))
            break
    return PayloadShape("xml", element, soap=True, wrapped=wrapped)


def to_spec(shape: PayloadShape, path: tuple[str | int, ...]) -> PayloadPath | None:
    """A field's output path in the spec's terms; None when it is outside the described payload
    (a SOAP header, or another element of the Body)."""
    if shape.format != "xml":
        return path
    names = [local(s) for s in path if isinstance(s, str)]
    if shape.soap:
        if len(names) < 2 or names[0] != "Body" or names[1] != shape.element:
            return None
        names = names[2:]
    return tuple(names)


def key(path: PayloadPath) -> PayloadPath:
    """``("phones", 3, "number")`` -> ``("phones", 0, "number")``: any list position matches."""
    return tuple(0 if isinstance(s, int) else s for s in path)


def field_key(shape: PayloadShape, path: tuple[str | int, ...]) -> PayloadPath | None:
    """The comparable spec path of a field (``key(to_spec(...))``), for matching violations."""
    spec = to_spec(shape, path)
    return None if spec is None else key(spec)


# -- reading a rendered body back ---------------------------------------------------------------


def form_pairs(body: bytes) -> list[tuple[str, bytes]]:
    """``a=1&b=x+y`` -> ``[("a", b"1"), ("b", b"x y")]``; names read as UTF-8."""
    pairs: list[tuple[str, bytes]] = []
    for part in body.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        pairs.append(
            (raw_name.decode("utf-8", "replace"), unquote_to_bytes(value.replace(b"+", b" ")))
        )
    return pairs


def document(shape: PayloadShape, body: bytes) -> bytes | None:
    """The document the spec describes: the body, or the form field that carries it."""
    if shape.wrapped is None:
        return body
    return next((v for n, v in form_pairs(body) if n == shape.wrapped), None)


XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


def payload_element(shape: PayloadShape, data: bytes) -> etree._Element | str:
    """The payload element of an XML document, or the reason it cannot be found."""
    try:
        root = etree.fromstring(data, XML_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return f"the body is not well-formed XML: {exc}"
    if root is None:
        return "the body is empty"
    if not shape.soap:
        return root
    body = next(
        (c for c in root if isinstance(c.tag, str) and etree.QName(c).localname == "Body"), None
    )
    inner = None if body is None else next((c for c in body if isinstance(c.tag, str)), None)
    if inner is None:
        return "the SOAP envelope has no element inside its Body"
    return inner


def _json_paths(node: Any, at: PayloadPath) -> Iterator[PayloadPath]:
    if at:
        yield key(at)
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _json_paths(v, (*at, str(k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _json_paths(v, (*at, i))


def _xml_paths(elem: etree._Element, at: PayloadPath) -> Iterator[PayloadPath]:
    if at:
        yield at
    for name in elem.attrib:
        yield (*at, "@" + etree.QName(name).localname)
    for child in elem:
        if isinstance(child.tag, str):
            yield from _xml_paths(child, (*at, etree.QName(child).localname))


def present_paths(shape: PayloadShape, body: bytes) -> frozenset[PayloadPath] | None:
    """Every place (as :func:`key`) that holds something in a body; None if it cannot be read."""
    data = document(shape, body)
    if data is None:
        return None
    if shape.format in ("form", "query"):
        return frozenset((n,) for n, _ in form_pairs(data))
    if shape.format == "json":
        try:
            return frozenset(_json_paths(json.loads(data), ()))
        except (ValueError, RecursionError):
            return None
    elem = payload_element(shape, data)
    return None if isinstance(elem, str) else frozenset(_xml_paths(elem, ()))

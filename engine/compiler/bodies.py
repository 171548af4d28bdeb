"""Read a buyer's response body as JSON, XML, HTML or text, whatever its Content-Type says.

XML is turned into a JSON-like document so one JMESPath expression language serves both:
each element becomes a key, repeated elements a list, attributes ``@name``, and the text the
value itself (or ``#text`` beside attributes and children). Namespace prefixes are dropped.
XML is parsed without entity expansion, DTD loading or network access.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

import orjson
from lxml import etree, html

from engine.frozen import frozen

BodyKind = Literal["json", "xml", "html", "text"]

_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_LABEL = {"json": "JSON", "xml": "XML", "html": "HTML", "text": "text"}


class BadBody(Exception):
    """The body cannot be read as the declared kind; ``reason`` says so in plain words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@frozen
class Body:
    """One response body, read once: its text, and its document or HTML tree when there is one."""

    text: str
    doc: Any = None
    """json and xml: the JSON-like document JMESPath runs over."""
    tree: Any = None
    """html: the lxml root element CSS selectors run over."""


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by lower-case name (tolerates callers passing mixed-case names)."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def charset_of(headers: Mapping[str, str]) -> str | None:
    """The charset named by Content-Type, if Python knows it."""
    content_type = header(headers, "content-type")
    if not content_type:
        return None
    known = _CHARSETS.get(content_type, _UNSEEN)
    if known is _UNSEEN:
        known = _charset(content_type)
        if len(_CHARSETS) >= _MAX_CHARSETS:  # a buyer sending ever-new values cannot grow it
            _CHARSETS.clear()
        _CHARSETS[content_type] = known
    return known  # type: ignore[return-value]


def _charset(content_type: str) -> str | None:
    m = _CHARSET.search(content_type)
    if m is None:
        return None
    try:
        return codecs.lookup(m.group(1)).name
    except LookupError:
        return None


#: Content-Type values seen, with their charset: a buyer sends the same one on every answer,
#: so the search and codec lookup run once, not per answer.
_CHARSETS: dict[str, str | None] = {}
_MAX_CHARSETS = 256
_UNSEEN = object()


def decode_text(body: bytes, headers: Mapping[str, str]) -> str:
    """The body as text: Content-Type's charset, else UTF-8; undecodable bytes become U+FFFD."""
    charset = charset_of(headers) or "utf-8"
    if charset == "utf-8" and not body.startswith(codecs.BOM_UTF8):
        return body.decode("utf-8", errors="replace")  # the common case, without utf-8-sig
    if charset == "utf-8":
        charset = "utf-8-sig"
    return body.decode(charset, errors="replace").removeprefix("\ufeff")


def preview(text: str, limit: int = 80) -> str:
    """The first ``limit`` characters of ``text`` on one line, for reasons and logs."""
    flat = _WHITESPACE.sub(" ", text[: limit * 4]).strip()
    return flat[:limit] + ("…" if len(flat) > limit else "")


def not_readable(kind: BodyKind, text: str, detail: str | None = None) -> BadBody:
    """The error for a body that is not ``kind``: ``expected JSON but got: <first 80 chars>``."""
    if not text.strip():
        return BadBody(f"expected {_LABEL[kind]} but got an empty body")
    suffix = f" ({detail})" if detail else ""
    return BadBody(f"expected {_LABEL[kind]} but got: {preview(text)}{suffix}")


def read_body(
    kind: BodyKind, body: bytes, headers: Mapping[str, str], *, lenient_xml: bool = False
) -> Body:
    """Read ``body`` as ``kind``. Raises BadBody (only) when it cannot be read so."""
    text = decode_text(body, headers)
    if kind == "text":
        return Body(text)
    if kind == "json":
        return Body(text, doc=_json(text))
    if kind == "xml":
        return Body(text, doc=_xml(body, text, lenient_xml))
    return Body(text, tree=_html(body, text, headers))


#: A run of digits orjson could misread: it reads an integer beyond 64 bits as a float, where
#: json keeps it exact (a buyer's 20-digit lead id). Such a body goes to json.
_LONG_DIGITS = re.compile(r"[0-9]{19}")
#: Brackets past which json decides: orjson reads documents nested up to 1,024 deep, json gives
#: up nearer Python's recursion limit (a BadBody). With fewer brackets than this no document is
#: that deep, and both read it.
_ORJSON_BRACKETS = 512


def _json(text: str) -> Any:
    # orjson reads a buyer's answer in about a fifth of json's time; json reads what orjson
    # refuses or could read otherwise (NaN, infinities, lone surrogates, big integers, deep
    # nesting) and words the error.
    if text.count("[") + text.count("{") <= _ORJSON_BRACKETS and _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise not_readable("json", text) from None


def _xml(body: bytes, text: str, lenient: bool) -> Any:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        recover=lenient,
        remove_comments=True,
        remove_pis=True,
    )
    # Buyers often put a newline or a byte-order mark before the XML declaration.
    data = body.removeprefix(codecs.BOM_UTF8).lstrip()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        detail = (
            "malformed XML: " + str(exc).split(" (<string>", 1)[0]
            if text.lstrip().startswith("<")
            else None
        )
        raise not_readable("xml", text, detail) from None
    except (ValueError, RecursionError):
        raise not_readable("xml", text) from None
    if root is None:
        raise not_readable("xml", text)
    return {local_name(root.tag): xml_to_data(root)}


def _html(body: bytes, text: str, headers: Mapping[str, str]) -> Any:
    if not text.strip():
        raise not_readable("html", text)
    parser = html.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, encoding=charset_of(headers)
    )
    try:
        return html.document_fromstring(body, parser=parser)
    except (etree.LxmlError, ValueError, RecursionError):
        raise not_readable("html", text) from None


def local_name(tag: str) -> str:
    """``{uri}Envelope`` and ``soap:Envelope`` both become ``Envelope``."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def xml_to_data(element: Any) -> Any:
    """An element's JSON-like value (see the module docstring); None when it is empty."""
    data: dict[str, Any] = {f"@{local_name(k)}": v for k, v in element.attrib.items()}
    pieces = [element.text or ""]
    repeated: set[str] = set()
    for child in element:
        pieces.append(child.tail or "")
        if not isinstance(child.tag, str):  # an unexpanded entity reference
            continue
        name = local_name(child.tag)
        value = xml_to_data(child)
        if name not in data:
            data[name] = value
        elif name in repeated:
            data[name].append(value)
        else:
            data[name] = [data[name], value]
            repeated.add(name)
    text = "".join(pieces).strip()
    if not data:
        return text or None
    if text:
        data["#text"] = text
    return data


def css_text(element: Any) -> str:
    """The visible text of an HTML element, whitespace collapsed."""
    return _WHITESPACE.sub(" ", element.text_content()).strip()

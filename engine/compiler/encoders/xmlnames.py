"""XML names, namespaces and character encodings, checked once and summed up in a Setup.

Checks the ``xml`` section of a stage (root element, namespace prefixes and URIs, the declared
encoding) and every element or attribute name of its fields: names must be valid XML 1.0
names, a prefix must be declared under ``namespaces``, and every name must be writable in the
declared encoding. The encoding must keep ASCII as single bytes (UTF-8, ISO-8859-x,
windows-125x, US-ASCII and the like), since XML markup is written in ASCII.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from engine.compiler.encoders.paths import NameCheck
from engine.dsl.models import XmlOptions

#: Characters XML 1.0 does not allow anywhere in a document.
FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_START = (
    "A-Z_a-z\xc0-\xd6\xd8-\xf6\xf8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NCNAME = f"[{_START}][{_START}\\-.0-9\xb7\u0300-\u036f\u203f\u2040]*"
_QNAME = re.compile(f"(?:({_NCNAME}):)?({_NCNAME})")
_ENC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")
_ASCII = bytes(range(128))

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"

#: How common encodings are declared (IANA names), by Python codec name.
_DECLARED = {
    "utf-8": "UTF-8",
    "ascii": "US-ASCII",
    "iso8859-1": "ISO-8859-1",
    "iso8859-15": "ISO-8859-15",
    "cp1252": "windows-1252",
    "cp1250": "windows-1250",
}

_NAME_HINT = "XML names start with a letter or _ and hold letters, digits, '-', '_' and '.'"


def escape(text: str, attr: bool) -> str:
    """Escape ``& < > " '`` and carriage returns; in an attribute also tabs and newlines."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace('"', "&quot;").replace("'", "&apos;").replace("\r", "&#13;")
    if attr:
        text = text.replace("\t", "&#9;").replace("\n", "&#10;")
    return text


@dataclass(frozen=True, slots=True)
class Setup:
    """Everything the XML encoder needs besides the fields."""

    root: str
    xmlns: str
    """Namespace declarations written on the root, e.g. `` xmlns:soap="…"``."""
    codec: str
    """Python's name of the encoding."""
    encoding: str
    """The encoding as declared, e.g. ``ISO-8859-1``."""
    declaration: str
    unencodable: str
    content_type: str


@dataclass(frozen=True, slots=True)
class OptionProblem:
    """A problem in the stage's ``xml`` section; ``where`` is the path under that section."""

    where: tuple[str, ...]
    code: str
    message: str
    hint: str | None = None
    key: bool = False


def codec_for(name: str) -> str | None:
    """Python's codec name for an encoding that keeps ASCII as single bytes, else None."""
    try:
        codec = codecs.lookup(name.strip()).name
        ok = _ASCII.decode("ascii").encode(codec) == _ASCII
    except (LookupError, ValueError, TypeError, UnicodeError):
        return None
    return codec if ok else None


def setup(opts: XmlOptions, problems: list[OptionProblem]) -> Setup | None:
    """Check the ``xml`` section; append each problem found; return the Setup if none."""
    count = len(problems)
    codec = codec_for(opts.encoding)
    encoding = _DECLARED.get(codec or "", opts.encoding.strip())
    if codec is None or not _ENC_NAME.fullmatch(encoding):
        problems.append(
            OptionProblem(
                ("encoding",),
                "LP204",
                f"'{opts.encoding}' is not a character encoding XML can be sent in",
                "use UTF-8, ISO-8859-1 or windows-1252",
            )
        )
        codec = "utf-8"
    decls = [] if opts.default_namespace is None else [("xmlns", opts.default_namespace)]
    if opts.default_namespace is not None and not opts.default_namespace.strip():
        problems.append(
            OptionProblem(("default_namespace",), "LP204", "the default namespace is empty")
        )
    for prefix, uri in opts.namespaces.items():
        where = ("namespaces", prefix)
        if not re.fullmatch(_NCNAME, prefix) or prefix.lower() in ("xml", "xmlns"):
            problems.append(
                OptionProblem(
                    where, "LP204", f"'{prefix}' cannot be a namespace prefix", _NAME_HINT, True
                )
            )
        elif not uri.strip():
            problems.append(OptionProblem(where, "LP204", f"the namespace '{prefix}' has no URI"))
        decls.append((f"xmlns:{prefix}", uri))
    for _, uri in decls:
        if not _fits(uri, codec):
            problems.append(
                OptionProblem(
                    ("encoding",), "LP204", f"the namespace '{uri}' cannot be written in {encoding}"
                )
            )
    bad_root = check_name(opts, codec, encoding)(opts.root, False)
    if bad_root is not None:
        problems.append(OptionProblem(("root",), "LP204", *bad_root))
    if len(problems) > count:
        return None
    m = _QNAME.fullmatch(opts.root)
    assert m is not None
    root_ns = opts.namespaces.get(m.group(1)) if m.group(1) else opts.default_namespace
    kind = {SOAP11: "text/xml", SOAP12: "application/soap+xml"}.get(
        root_ns or "", "application/xml"
    )
    xmlns = "".join(f' {name}="{escape(value, True)}"' for name, value in decls)
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if opts.declaration else ""
    return Setup(
        root=opts.root,
        xmlns=xmlns,
        codec=codec,
        encoding=encoding,
        declaration=declaration,
        unencodable=opts.unencodable,
        content_type=f"{kind}; charset={encoding}",
    )


def check_name(opts: XmlOptions, codec: str, encoding: str) -> NameCheck:
    """A checker of element and attribute names for this ``xml`` section."""

    def check(name: str, attr: bool) -> tuple[str, str | None] | None:
        m = _QNAME.fullmatch(name)
        if m is None:
            return f"'{name}' is not a valid XML name", _NAME_HINT
        prefix, local = m.group(1), m.group(2)
        if attr and "xmlns" in (prefix, local if prefix is None else None):
            return f"'@{name}' would declare a namespace", "declare namespaces under xml.namespaces"
        if prefix is not None and prefix not in opts.namespaces and (prefix, attr) != ("xml", True):
            return (
                f"the namespace prefix '{prefix}' of '{name}' is not declared",
                f"add it under xml.namespaces, e.g. {prefix}: http://example.com/ns",
            )
        if not _fits(name, codec):
            return f"'{name}' cannot be written in {encoding}", "use a plain ASCII name"
        return None

    return check


def _fits(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return FORBIDDEN.search(text) is None

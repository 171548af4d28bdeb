"""XML Schema (XSD) specs: one global element's content flattened, XML bodies validated.

The schema is read with xmlschema from an lxml tree, so every declaration keeps its line for
``where`` (``specs/lighthouse.xsd:41``). Imports and includes are read only from the spec's own
folder; nothing is fetched from the network. Paths use local names below the payload element
(``Contact``, ``Phone``, ``@type``), whatever prefixes the buyer file writes.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import replace
from pathlib import Path
from typing import Any

import xmlschema
from elementpath import ElementPathError
from lxml import etree
from xmlschema.validators import XsdElement, XsdGroup

from engine.contract.messages import choices_text
from engine.contract.model import BuyerSpec, PayloadPath, Property, Violation
from engine.contract.paths import XML_PARSER, PayloadShape, document, payload_element
from engine.contract.problems import SpecProblem
from engine.dsl.suggest import hint_for
from engine.words import show

_XS = "{http://www.w3.org/2001/XMLSchema}"
_MAX_DEPTH = 30
MAX_VIOLATIONS = 50


def _json_type(simple: Any) -> frozenset[str]:
    """The JSON Schema type name of an XSD simple type (``xs:int`` -> integer)."""
    maps = simple.maps.types
    for name, kind in (
        ("integer", "integer"),
        ("decimal", "number"),
        ("float", "number"),
        ("double", "number"),
        ("boolean", "boolean"),
    ):
        base = maps.get(_XS + name)
        if base is not None and (simple is base or simple.is_derived(base)):
            return frozenset({kind})
    return frozenset({"string"})


def _line(component: Any, source: str) -> str:
    line = getattr(getattr(component, "elem", None), "sourceline", None)
    return f"{source}:{line}" if line else source


class _Walker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.props: dict[PayloadPath, Property] = {}
        self.closed: set[PayloadPath] = set()

    def leaf(self, path: PayloadPath, simple: Any, required: bool, decl: Any) -> None:
        if not path:
            return
        facets = getattr(simple, "facets", {}) or {}
        length = facets.get(_XS + "length")
        max_length = getattr(simple, "max_length", None)
        min_length = getattr(simple, "min_length", None)
        if length is not None:
            max_length = min_length = length.value
        patterns = getattr(simple, "patterns", None)
        enum = getattr(simple, "enumeration", None)
        fmt = getattr(getattr(simple, "primitive_type", None), "local_name", None)
        where_at = patterns or facets.get(_XS + "maxLength") or facets.get(_XS + "enumeration")
        self.props[path] = Property(
            path=path,
            types=_json_type(simple),
            required=required,
            enum=tuple(enum) if enum else None,
            max_length=max_length,
            min_length=min_length,
            pattern="|".join(patterns.regexps) if patterns else None,
            format=None if fmt in (None, "string") else fmt,
            where=_line(where_at or decl, self.source),
            regex="|".join(p.pattern for p in patterns.patterns) if patterns else None,
        )

    def element(self, decl: Any, path: PayloadPath, required: bool, depth: int) -> None:
        kind = decl.type
        occurs = getattr(decl, "max_occurs", 1)
        if kind.is_simple():
            self.leaf(path, kind, required, decl)
            if path in self.props:
                self.props[path] = replace(self.props[path], max_items=occurs)
            return
        if path:
            self.props[path] = Property(
                path,
                frozenset({"object"}),
                required,
                where=_line(decl, self.source),
                max_items=occurs,
            )
        if depth > _MAX_DEPTH:
            return
        open_ = kind.attributes.get(None) is not None  # anyAttribute
        for name, attr in kind.attributes.items():
            if name is not None:
                self.leaf((*path, "@" + attr.local_name), attr.type, attr.use == "required", attr)
        if kind.has_simple_content():
            self.leaf(path, kind.content, required, decl)
        elif isinstance(kind.content, XsdGroup):
            open_ |= self.group(kind.content, path, True, depth)
        if not open_:
            self.closed.add(path)

    def group(self, group: XsdGroup, path: PayloadPath, required: bool, depth: int) -> bool:
        """Walk a model group; True when it admits any element (xs:any)."""
        open_ = False
        needed = required and group.min_occurs > 0 and group.model != "choice"
        for item in group:
            if isinstance(item, XsdGroup):
                open_ |= self.group(item, path, needed, depth)
            elif isinstance(item, XsdElement):
                name = item.local_name or ""
                self.element(item, (*path, name), needed and item.min_occurs > 0, depth + 1)
            else:
                open_ = True
        return open_


def load_xsd(data: bytes, file: Path, source: str) -> xmlschema.XMLSchema:
    """The schema; SpecProblem when the file is not XML or not a valid XSD."""
    try:
        tree = etree.ElementTree(etree.fromstring(data, XML_PARSER, base_url=str(file)))
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise SpecProblem("LP701", f"{source} is not well-formed XML: {exc}") from None
    try:
        return xmlschema.XMLSchema(
            tree, base_url=str(file.parent), allow="sandbox", defuse="always", timeout=5
        )
    except (xmlschema.XMLSchemaException, ElementPathError, ValueError, OSError) as exc:
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        raise SpecProblem("LP710", f"{source} is not a valid XML Schema: {reason}") from None


def xsd_spec(
    schema: xmlschema.XMLSchema, source: str, element: str | None, shape: PayloadShape
) -> BuyerSpec:
    """The BuyerSpec of one global element of ``schema``."""
    names = [str(n) for n in schema.elements]
    if element is None:
        raise SpecProblem(
            "LP711",
            "leadpost cannot tell which element of the XML Schema this stage sends",
            "name it: spec: {xsd: FILE, element: " + (names[0] if names else "NAME") + "}",
        )
    decl = schema.elements.get(element)
    if decl is None:
        listed = ", ".join(names) or "none"
        raise SpecProblem(
            "LP711",
            f"{source} declares no element '{element}' (it declares: {listed})",
            hint_for(element, names) or "name one of its global elements under spec: element",
            at="element",
        )
    walker = _Walker(source)
    walker.element(decl, (), True, 0)
    return BuyerSpec(
        source,
        "xsd",
        walker.props,
        frozenset(walker.closed),
        _validator(decl, source, shape, frozenset(walker.props)),
    )


def _validator(
    decl: Any, source: str, shape: PayloadShape, declared: Set[PayloadPath]
) -> Callable[[bytes], list[Violation]]:
    def validate(body: bytes) -> list[Violation]:
        data = document(shape, body)
        if data is None:
            return [Violation((), "form field", f"the form has no field '{shape.wrapped}'", source)]
        elem = payload_element(shape, data)
        if isinstance(elem, str):
            return [Violation((), "XML", elem, source)]
        out: list[Violation] = []
        try:
            for error in decl.iter_errors(elem):
                out.append(_violation(error, elem, source, declared))
                if len(out) >= MAX_VIOLATIONS:
                    break
        except (xmlschema.XMLSchemaException, ElementPathError, ValueError, RecursionError) as exc:
            out.append(Violation((), "XML", f"the body could not be checked: {exc}", source))
        return out

    return validate


def _below(elem: Any, top: Any) -> PayloadPath:
    names: list[str] = []
    node = elem
    while node is not None and node is not top:
        names.append(etree.QName(node).localname)
        node = node.getparent()
    return tuple(reversed(names))


def _quoted(reason: str, before: str) -> str | None:
    """The first 'name' after ``before`` in an xmlschema reason, as a local name."""
    at = reason.find(before)
    if at < 0:
        return None
    rest = reason[at + len(before) :]
    name = rest.split("'")[1] if rest.count("'") >= 2 else None
    return None if name is None else name.rpartition("}")[2].rpartition(":")[2]


def _violation(error: Any, top: Any, source: str, declared: Set[PayloadPath]) -> Violation:
    reason = str(getattr(error, "reason", "") or error)
    path = _below(error.elem, top) if error.elem is not None else ()
    validator = error.validator
    where = _line(validator, source) if getattr(validator, "elem", None) is not None else source
    if where == source and getattr(error, "path", None):
        where = f"{source} at {error.path}"
    value = error.obj if isinstance(error.obj, str | int | float) else None
    kind = type(validator).__name__
    attr = reason[len("attribute ") :].split("=")[0] if reason.startswith("attribute ") else None
    if attr is None and "attribute" in reason:
        attr = _quoted(reason, "attribute")
    if attr is not None:
        path = (*path, "@" + attr)
    limit = getattr(validator, "value", None)
    facets = {
        "XsdMaxLengthFacet": (f"maxLength: {limit}", f"is longer than {limit} characters"),
        "XsdMinLengthFacet": (f"minLength: {limit}", f"is shorter than {limit} characters"),
        "XsdLengthFacet": (f"length: {limit}", f"should be exactly {limit} characters"),
        "XsdPatternFacets": (
            "pattern: " + "|".join(getattr(validator, "regexps", ())),
            "does not have the form the buyer expects",
        ),
        "XsdEnumerationFacets": (
            "enum",
            "is not one of the buyer's choices: "
            + choices_text(getattr(validator, "enumeration", None) or ()),
        ),
        "XsdMaxInclusiveFacet": (f"maxInclusive: {limit}", f"is above {limit}, the most allowed"),
        "XsdMinInclusiveFacet": (f"minInclusive: {limit}", f"is below {limit}, the least allowed"),
        "XsdMaxExclusiveFacet": (f"maxExclusive: {limit}", f"is not below {limit}"),
        "XsdMinExclusiveFacet": (f"minExclusive: {limit}", f"is not above {limit}"),
        "XsdTotalDigitsFacet": (f"totalDigits: {limit}", f"has more than {limit} digits"),
        "XsdFractionDigitsFacet": (
            f"fractionDigits: {limit}",
            f"has more than {limit} digits after the point",
        ),
    }
    if kind in facets:
        rule, words = facets[kind]
        return Violation(path, rule, f"{show(value)} {words}", where)
    if "missing required attribute" in reason:
        name = str(path[-1]).removeprefix("@")
        message = f"the attribute '{name}' is missing; the buyer requires it"
        return Violation(path, "required", message, where)
    if kind == "XsdGroup":
        found = _group_violation(reason, path, where, declared)
        if found is not None:
            return found
    type_name = getattr(validator, "local_name", None)
    if type_name and value is not None and kind.startswith("XsdAtomic"):
        return Violation(
            path, f"type: {type_name}", f"{show(value)} is not a valid {type_name}", where
        )
    if callable(validator) and not kind.startswith("Xsd"):  # a built-in type's own check
        builtin = getattr(validator, "__name__", "").removesuffix("_validator").replace("_", " ")
        return Violation(path, f"type: {builtin}", f"{show(value)}: {reason}", where)
    return Violation(path, kind.removeprefix("Xsd") or "XML", reason, where)


def _group_violation(
    reason: str, path: PayloadPath, where: str, declared: Set[PayloadPath]
) -> Violation | None:
    """A content-model error: an element missing, out of order, or not in the spec."""
    name = _quoted(reason, "tag ")
    expected = _quoted(reason, "Tag ")
    if "Unexpected child" in reason and name is not None:
        if expected is not None and (*path, name) in declared:
            message = (
                f"'{expected}' is missing or out of order: the buyer expects it where '{name}' is"
            )
            return Violation((*path, expected), "required", message, where)
        message = f"'{name}' is not an element the buyer's spec lists here"
        return Violation((*path, name), "not in the spec", message, where)
    if "not complete" in reason and expected is not None:
        message = f"'{expected}' is missing; the buyer requires it"
        return Violation((*path, expected), "required", message, where)
    return None

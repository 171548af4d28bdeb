"""The buyer's published spec, read into one shape whatever its format: properties and rules.

JSON Schema, OpenAPI and XSD specs are all turned into a :class:`BuyerSpec`: the properties the
payload may carry (each with its type, whether it is required, its choices, lengths and pattern)
and a ``validate`` function that checks one rendered body. Payload paths use the same
convention as :attr:`engine.plan.FieldPlan.path` for the stage's format, so a broken rule leads
back to the field (and the YAML line) responsible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

#: Generated leads tried per stage by default; ``leadpost lint --deep`` passes DEEP_EXAMPLES.
EXAMPLES: Final = 100
DEEP_EXAMPLES: Final = 2000

#: Where a value sits in a payload: object keys / XML element names (``@name`` for an attribute),
#: integers for list positions. Same convention as ``FieldPlan.path``.
PayloadPath = tuple[str | int, ...]

#: A choice listed by a spec's ``enum``.
Choice = str | int | float | bool | None

SpecKind = Literal["json_schema", "openapi", "xsd"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a rendered payload breaks the buyer's spec."""

    path: PayloadPath
    """Where in the payload (``()`` for the whole document)."""
    rule: str
    """The spec rule, short: ``maxLength: 40``, ``pattern: ^\\d{5}$``, ``required``, ``enum``."""
    message: str
    """Plain English: ``'Austin Texas …' is longer than 40 characters``."""
    where: str
    """Where the rule is written: ``specs/x.json#/properties/zip/pattern`` or ``specs/x.xsd:41``."""


@dataclass(frozen=True, slots=True)
class Property:
    """One property the spec declares (an object or a leaf value)."""

    path: PayloadPath
    types: frozenset[str]
    """JSON Schema type names (``string``, ``integer``, ``number``, ``boolean``, ``object``,
    ``array``, ``null``); empty when any type is allowed. XSD simple types map onto these."""
    required: bool
    """Required within its parent object (the parent itself may be optional)."""
    enum: tuple[Choice, ...] | None = None
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    """JSON Schema ``format`` (``date``, ``email``…) or the XSD base type (``date``)."""
    where: str = ""
    """Where the property is declared in the spec file (as in :attr:`Violation.where`)."""
    regex: str | None = None
    """``pattern`` as a Python regular expression, searched in the text (XSD patterns come
    anchored, JSON Schema patterns are searched as written)."""


@dataclass(frozen=True, slots=True)
class BuyerSpec:
    """A buyer's spec for one stage, ready to check mappings and payloads against."""

    source: str
    """The spec file as shown to users (relative path)."""
    kind: SpecKind
    properties: Mapping[PayloadPath, Property]
    """Every declared property, objects and leaves, by payload path."""
    closed: frozenset[PayloadPath]
    """Objects that allow no undeclared property (``()`` is the document itself)."""
    validate: Callable[[bytes], list[Violation]]
    """Every violation in one rendered body, exactly as the encoder wrote it."""

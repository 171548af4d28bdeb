"""One rendered value as payload text, shared by the encoders; odd values become MappingErrors.

Fields render to str, int, float, Decimal, bool or None. Numbers are written exactly (a
Decimal never in exponent form: ``Decimal("1E+2")`` is ``100``); booleans as ``true`` /
``false``. A number that is not finite, or a value of any other kind, cannot be sent: the lead
is refused with a :class:`~engine.errors.MappingError` naming the field.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from engine.errors import MappingError

#: Halves of a character pair (surrogates) that lost their partner: they cannot be written in
#: any encoding, so every format removes them.
SURROGATES = re.compile("[\ud800-\udfff]")

_KINDS: dict[type, str] = {
    list: "a list",
    tuple: "a list",
    dict: "a group of values",
    bytes: "raw bytes",
}


def number_text(value: int | float | Decimal, name: str) -> str:
    """Exact text of a number (no exponent for a Decimal); MappingError if it is not finite."""
    if type(value) is int:
        return int.__repr__(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _not_finite(name)
        return format(value, "f")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _not_finite(name)
        return float.__repr__(value)
    return int.__repr__(int(value))


def scalar_text(value: Any, name: str) -> str:
    """Text of a value that is not a str: ``true``/``false``, empty for None, exact numbers."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float | Decimal):
        return number_text(value, name)
    if isinstance(value, str):
        return str.__str__(value)
    raise unsupported(value, name)


def unsupported(value: Any, name: str) -> MappingError:
    what = _KINDS.get(type(value), "a value that is not text, a number or true/false")
    return MappingError(
        f"the field '{name}' produced {what}, which cannot be sent as one value",
        field=name,
    )


def _not_finite(name: str) -> MappingError:
    return MappingError(
        f"the field '{name}' is not a usable number (infinite or not a number)", field=name
    )

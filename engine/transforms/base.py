"""What every transform family shares: the definition record, argument models, value helpers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from engine.errors import MappingError
from engine.plan import Transform
from engine.words import show

__all__ = [
    "ArgError",
    "Args",
    "Text",
    "TransformDef",
    "as_decimal",
    "as_text",
    "scalar_text",
    "show",
]


@dataclass(frozen=True, slots=True)
class TransformDef:
    """One transform as the registry knows it: its arguments, how to build it, how to explain it."""

    name: str
    args: type[BaseModel] | None
    """The arguments model; None when the transform takes no arguments (written ``- upper``)."""
    shorthand: str | None
    """The argument a scalar fills: ``phone: dashes`` means ``phone: {style: dashes}``."""
    build: Callable[[Any], Transform]
    """Validated arguments (or None) -> the run-time callable ``(value, ctx) -> value``."""
    summary: str
    """Plain English for ``explain``; ``{arg}`` placeholders read the arguments model."""
    example: tuple[Any, Any, Any]
    """(input value, the YAML argument as written or None, output value)."""
    ping_safe: bool = False
    """It reduces a personal value to one that identifies no one (an age, a ZIP3, a hash):
    a ping may send its result (lint LP405 names these)."""


class ArgError(Exception):
    """Raised by a ``build`` function when arguments are well-typed but unusable.

    ``arg`` names the argument to point at; ``code`` is LP302 unless a more precise code applies
    (LP305 for a regular expression).
    """

    def __init__(
        self, message: str, *, arg: str | None = None, hint: str | None = None, code: str = "LP302"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.arg = arg
        self.hint = hint
        self.code = code


class Args(BaseModel):
    """Base of every arguments model: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def scalar_text(value: Any) -> str | None:
    """A scalar written as text (``True`` -> ``'true'``, ``3.0`` -> ``'3'``); None for others."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python will print
            return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    return None


def _to_text(value: Any) -> Any:
    """Argument values arrive as written text; hand-built ones may be numbers or booleans."""
    if value is None or isinstance(value, list | dict):
        return value
    text = scalar_text(value)
    return value if text is None else text


#: An argument that is text: numbers and booleans given in Python are taken as their text.
Text = Annotated[str, BeforeValidator(_to_text)]


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return show(value)


def as_text(value: Any) -> str:
    """The text of a scalar value; MappingError for lists, objects and non-finite numbers."""
    if isinstance(value, str):
        return value
    text = scalar_text(value)
    if text is None:
        raise MappingError(f"expects a single value, not {_kind(value)}")
    return text


def as_decimal(value: Any) -> Decimal:
    """A number from a JSON number or text like ``'$350,000.00'``; MappingError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise MappingError(f"expects a number, not {_kind(value)}")
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace("$", "").replace(" ", "")
        if len(cleaned) > 40:
            raise MappingError(f"{show(value)} is not a number")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise MappingError(f"{show(value)} is not a number") from None
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise MappingError("expects a number, not an infinite or undefined value")
        number = Decimal(repr(value))
    else:
        number = Decimal(value)
    if not number.is_finite():
        raise MappingError(f"{show(value)} is not a number")
    if number and not -30 <= number.adjusted() <= 30:
        raise MappingError(f"{show(value)} is too large or too small a number")
    return number

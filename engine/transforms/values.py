"""Value transforms (translate, hash, age) and the final steps of a field: length and type."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from engine.errors import MappingError
from engine.plan import RenderContext, Transform
from engine.transforms.base import (
    Args,
    Text,
    TransformDef,
    as_decimal,
    as_text,
    scalar_text,
    show,
)
from engine.transforms.dates import parse_moment
from engine.transforms.formats import scalar_key, truth

# -- translate -----------------------------------------------------------------------------------


class TranslateArgs(Args):
    """``map`` of value: replacement; ``default`` for anything else, or ``unmapped: keep``."""

    map: dict[str, Text | None]
    default: Text | None = None
    unmapped: Literal["reject", "keep"] = "reject"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and not ({"map", "default", "unmapped"} & set(data)):
            data = {"map": data}  # translate: {own: Y, rent: N}
        if isinstance(data, dict) and isinstance(data.get("map"), dict):
            data = {**data, "map": {_key_text(k): v for k, v in data["map"].items()}}
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> TranslateArgs:
        if not self.map:
            raise ValueError("'map' lists no values; write value: replacement pairs")
        return self

    @property
    def pairs(self) -> str:
        shown = [
            f"{k} → {v if v is not None else 'nothing'}" for k, v in list(self.map.items())[:4]
        ]
        more = ", …" if len(self.map) > 4 else ""
        return ", ".join(shown) + more


def _key_text(key: Any) -> Any:
    key = scalar_key(key)
    text = scalar_text(key) if not isinstance(key, str) else key
    return key if text is None else text


def _translate(args: TranslateArgs) -> Transform:
    exact = dict(args.map)
    folded: dict[str, str | None] = {}
    for key, out in exact.items():
        folded.setdefault(key.casefold(), out)
    default, keep = args.default, args.unmapped == "keep"
    known = ", ".join(list(exact)[:8]) + (", …" if len(exact) > 8 else "")

    def run(value: Any, ctx: RenderContext) -> Any:
        text = scalar_text(value)
        if text is not None:
            if text in exact:
                return exact[text]
            found = folded.get(text.casefold(), folded)
            if found is not folded:
                return found
        if default is not None:
            return default
        if keep and text is not None:
            return value
        raise MappingError(f"{show(value)} is not in the translate map (it has: {known})")

    return run


TRANSLATE = TransformDef(
    "translate",
    TranslateArgs,
    None,
    _translate,
    "translated ({pairs})",
    ("own", {"map": {"own": "Y", "rent": "N"}}, "Y"),
)


# -- hash and age --------------------------------------------------------------------------------


class HashArgs(Args):
    """``algorithm``: sha256 (default) or md5."""

    algorithm: Literal["sha256", "md5"] = "sha256"


def _hash(args: HashArgs) -> Transform:
    algorithm = args.algorithm

    def run(value: Any, ctx: RenderContext) -> Any:
        data = as_text(value).strip().lower().encode("utf-8", "surrogatepass")
        return hashlib.new(algorithm, data, usedforsecurity=False).hexdigest()

    return run


HASH = TransformDef(
    "hash",
    HashArgs,
    "algorithm",
    _hash,
    "as its {algorithm} hash (trimmed and lower-cased first)",
    (" John.Smith@Gmail.com", "md5", "1c874909e198bf87d38b50ef7e4d3163"),
    ping_safe=True,
)


def _age(_: None) -> Transform:
    def run(value: Any, ctx: RenderContext) -> Any:
        born = parse_moment(value)
        if isinstance(born, datetime):
            born = born.date()
        today = ctx.now.date()
        years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if years < 0:
            raise MappingError(f"{show(value)} is after the lead's date, so it has no age")
        return years

    return run


AGE = TransformDef(
    "age", None, None, _age, "as an age in whole years", ("1985-04-12", None, 39), ping_safe=True
)

# -- range ---------------------------------------------------------------------------------------

Bound = Annotated[Decimal, Field(allow_inf_nan=False)]


class RangeArgs(Args):
    """``min`` and/or ``max``: a number outside them refuses the lead for this buyer."""

    min: Bound | None = None
    max: Bound | None = None

    @model_validator(mode="after")
    def _bounds(self) -> RangeArgs:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is larger than 'max' ({self.max})")
        return self

    @property
    def what(self) -> str:
        if self.min is not None and self.max is not None:
            return f"between {self.min} and {self.max}"
        return f"at least {self.min}" if self.min is not None else f"at most {self.max}"


def _range(args: RangeArgs) -> Transform:
    low, high = args.min, args.max
    # Whole-number bounds compare with a whole-number value exactly, without a Decimal.
    whole = all(b is None or b == b.to_integral_value() for b in (low, high))
    int_low = int(low) if whole and low is not None else None
    int_high = int(high) if whole and high is not None else None

    def inside(value: int) -> bool:
        return (int_low is None or value >= int_low) and (int_high is None or value <= int_high)

    def run(value: Any, ctx: RenderContext) -> Any:
        if whole and type(value) is int and inside(value):
            return value
        number = as_decimal(value)
        if low is not None and number < low:
            raise MappingError(f"{show(value)} is below {low}, the least this buyer accepts")
        if high is not None and number > high:
            raise MappingError(f"{show(value)} is above {high}, the most this buyer accepts")
        return value

    return run


RANGE = TransformDef(
    "range", RangeArgs, None, _range, "refused unless {what}", (39, {"min": 18, "max": 120}, 39)
)

#: This family's transforms, in the order the reference lists them.
VALUES = (TRANSLATE, HASH, AGE, RANGE)


# -- final steps: maximum length and output type ---------------------------------------------------


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, never ending in a space: ``('Main  St', 5)`` -> ``'Main'``."""
    return text[:limit].rstrip()


def limit_length(value: Any, limit: int, reject: bool) -> Any:
    """Cut a value longer than ``limit`` characters (or refuse it when ``reject``)."""
    text = as_text(value)
    if len(text) <= limit:
        return value
    if reject:
        raise MappingError(
            f"{show(value)} is {len(text)} characters long; this buyer accepts at most {limit}"
        )
    return truncate(text, limit)


OutputType = Literal["string", "integer", "number", "boolean"]
_NUMERIC = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")


def _decimal(value: Any, wanted: str) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and len(value) <= 40 and _NUMERIC.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        raise MappingError(f"{show(value)} cannot be sent as {wanted}")
    if not number.is_finite():
        raise MappingError(f"{show(value)} cannot be sent as {wanted}")
    return number


def _integral(number: Decimal) -> bool:
    try:
        return number == number.to_integral_value()
    except InvalidOperation:
        return False


def to_string(value: Any) -> str:
    try:
        return as_text(value)
    except MappingError:
        raise MappingError(f"{show(value)} cannot be sent as text") from None


def to_integer(value: Any) -> int:
    if type(value) is int:  # most are already (bool is not): the same int, without a Decimal
        return value
    number = _decimal(value, "a whole number")
    if not _integral(number):
        raise MappingError(f"{show(value)} is not a whole number")
    return int(number)


def to_number(value: Any) -> int | float:
    if type(value) is int:  # the same int the Decimal round trip gives, without it
        return value
    if isinstance(value, bool):
        raise MappingError(f"{show(value)} cannot be sent as a number")
    number = _decimal(value, "a number")
    if _integral(number):
        return int(number)
    result = float(number)
    if result in (float("inf"), float("-inf")):
        raise MappingError(f"{show(value)} is too large a number")
    return result


#: The converter of each ``type:``; each raises MappingError when the value does not fit.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": to_string,
    "integer": to_integer,
    "number": to_number,
    "boolean": truth,
}


def to_type(value: Any, kind: OutputType) -> Any:
    """``value`` as the output ``type``: ``to_type(123, 'string')`` -> ``'123'``."""
    return CONVERTERS[kind](value)

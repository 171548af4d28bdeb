"""Format transforms: phone numbers, money, numbers and yes/no values."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import Field, model_validator

from engine.errors import MappingError
from engine.lead.normalize import PHONE_INVALID, InvalidValue, normalize_phone
from engine.plan import RenderContext, Transform
from engine.transforms.base import Args, Text, TransformDef, as_decimal, as_text, show
from engine.words import YES_NO_TEXT, yes_no

# -- phone ---------------------------------------------------------------------------------------

PhoneStyle = Literal["digits", "e164", "dashes", "parentheses", "dots"]
_PHONE_SAMPLES: dict[str, str] = {
    "digits": "5551234567",
    "e164": "+15551234567",
    "dashes": "555-123-4567",
    "parentheses": "(555) 123-4567",
    "dots": "555.123.4567",
}


class PhoneArgs(Args):
    """``style``: digits, e164, dashes, parentheses or dots; ``require_valid``: refuse a number
    that is not a valid US number (the lead schema may keep such numbers for other buyers)."""

    style: PhoneStyle
    require_valid: bool = False

    @property
    def sample(self) -> str:
        return _PHONE_SAMPLES[self.style]

    @property
    def valid(self) -> str:
        return ", only a valid US number" if self.require_valid else ""


def ten_digits(value: Any) -> str:
    """The 10 digits of a US phone number written any common way (a leading 1 is dropped)."""
    if type(value) is str and len(value) == 10 and value.isascii() and value.isdigit():
        return value  # the lead schema's normalized form
    text = as_text(value)
    digits = "".join(c for c in text if "0" <= c <= "9")
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10 or len(text) > 40:
        raise MappingError(f"{show(value)} is not a 10-digit US phone number")
    return digits


def valid_digits(value: Any) -> str:
    """The 10 digits of a valid US number (the intake's own check); MappingError saying why
    not, without repeating the number (the reason reaches traces and logs)."""
    try:
        return normalize_phone(value)
    except InvalidValue as problem:
        raise MappingError(f"the number is {problem.plain or PHONE_INVALID}") from None


def _phone(args: PhoneArgs) -> Transform:
    style = args.style
    digits_of = valid_digits if args.require_valid else ten_digits

    def run(value: Any, ctx: RenderContext) -> Any:
        d = digits_of(value)
        if style == "digits":
            return d
        if style == "e164":
            return "+1" + d
        if style == "dashes":
            return f"{d[:3]}-{d[3:6]}-{d[6:]}"
        if style == "dots":
            return f"{d[:3]}.{d[3:6]}.{d[6:]}"
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"

    return run


PHONE = TransformDef(
    "phone",
    PhoneArgs,
    "style",
    _phone,
    "formatted as {sample}{valid}",
    ("(512) 555-0142", "dashes", "512-555-0142"),
)


# -- money and numbers ---------------------------------------------------------------------------


class CurrencyArgs(Args):
    """``cents``: show two decimals; ``symbol`` put before the amount (default $)."""

    cents: bool = False
    symbol: Text = "$"

    @property
    def sample(self) -> str:
        return f"{self.symbol}350,000" + (".00" if self.cents else "")


def _quantize(number: Decimal, places: int) -> Decimal:
    try:
        return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise MappingError(f"the number {number} is too large") from None


def _currency(args: CurrencyArgs) -> Transform:
    places = 2 if args.cents else 0
    symbol = args.symbol

    def run(value: Any, ctx: RenderContext) -> Any:
        if type(value) is int and -(10**24) < value < 10**24:  # whole dollars: nothing to round
            sign = "-" if value < 0 else ""
            return f"{sign}{symbol}{abs(value):,}" + (".00" if places else "")
        amount = _quantize(as_decimal(value), places)
        sign = "-" if amount < 0 else ""
        return f"{sign}{symbol}{abs(amount):,.{places}f}"

    return run


CURRENCY = TransformDef(
    "currency", CurrencyArgs, None, _currency, "as money like {sample}", (350000, None, "$350,000")
)


class NumberArgs(Args):
    """``decimals``: digits after the point (rounded); ``thousands``: commas between thousands."""

    decimals: int | None = Field(None, ge=0, le=10)
    thousands: bool = False

    @property
    def what(self) -> str:
        parts = [f"{self.decimals} decimals"] if self.decimals is not None else []
        parts += ["commas between thousands"] if self.thousands else []
        return "as a number" + (" with " + " and ".join(parts) if parts else "")


def _number(args: NumberArgs) -> Transform:
    decimals = args.decimals
    comma = "," if args.thousands else ""

    def run(value: Any, ctx: RenderContext) -> Any:
        if decimals is not None and type(value) is float and 1e-6 < abs(value) < 1e15:
            shortest = float.__repr__(value)
            point = shortest.find(".")
            # No rounding needed: formatting pads the exact digits with zeros, as long as the
            # result has at most 15 significant digits (beyond that the binary value shows).
            whole = point - (value < 0)
            short = "e" not in shortest and point >= 0 and len(shortest) - point - 1 <= decimals
            if short and whole + decimals <= 15:
                return f"{value:{comma}.{decimals}f}"
        number = as_decimal(value)
        if decimals is not None:
            return f"{_quantize(number, decimals):{comma}.{decimals}f}"
        if number == number.to_integral_value():
            return f"{_quantize(number, 0):{comma}.0f}"
        return f"{number.normalize():{comma}f}"

    return run


NUMBER = TransformDef(
    "number", NumberArgs, "decimals", _number, "{what}", (142.5, {"decimals": 2}, "142.50")
)


# -- boolean -------------------------------------------------------------------------------------


def truth(value: Any) -> bool:
    """True/false from a boolean, 0/1, or yes/no text; MappingError for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and not value.is_finite():
        raise MappingError("expects a yes/no value, not an undefined number")
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and (answer := yes_no(value)) is not None:
        return answer
    raise MappingError(f"{show(value)} is not a yes/no value (expected {YES_NO_TEXT})")


class BooleanArgs(Args):
    """The texts sent for true and false; ``boolean: [Y, N]`` is short for {true: Y, false: N}."""

    true: Text = "true"
    false: Text = "false"

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        if isinstance(data, list):
            if len(data) != 2:
                raise ValueError("write the two texts as a list [for true, for false], e.g. [Y, N]")
            return {"true": data[0], "false": data[1]}
        if isinstance(data, dict):
            return {scalar_key(k): v for k, v in data.items()}
        return data


def scalar_key(key: Any) -> Any:
    """A mapping key as written: Python ``True`` -> ``'true'``."""
    return ("true" if key else "false") if isinstance(key, bool) else key


def _boolean(args: BooleanArgs) -> Transform:
    yes, no = args.true, args.false

    def run(value: Any, ctx: RenderContext) -> Any:
        return yes if truth(value) else no

    return run


BOOLEAN = TransformDef(
    "boolean", BooleanArgs, None, _boolean, "as {true} or {false}", (True, ["Y", "N"], "Y")
)

#: This family's transforms, in the order the reference lists them.
FORMATS = (PHONE, CURRENCY, NUMBER, BOOLEAN)

"""Reductions: transforms that turn a personal value into one that identifies no one.

A ping goes to buyers before they win the lead, so it must not carry personal data (lint
LP405, and the runtime refuses to send it). A ping may still send what these transforms make of
a personal field: a birth year or an age band instead of the date of birth, the first three
digits of a ZIP code, an email address's domain, a phone number's area code. Each is declared
``ping_safe`` in the registry, as are ``age``, ``since``, ``within`` and ``hash``.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from engine.errors import MappingError
from engine.plan import RenderContext, Transform
from engine.transforms.base import ArgError, Args, TransformDef, as_text, show
from engine.transforms.dates import parse_moment

_DIGITS = re.compile(r"\D")


def _birth_year(_: None) -> Transform:
    def run(value: Any, ctx: RenderContext) -> Any:
        moment = parse_moment(value)
        return (moment.date() if isinstance(moment, datetime) else moment).year

    return run


BIRTH_YEAR = TransformDef(
    "birth_year", None, None, _birth_year, "as its year", ("1985-04-12", None, 1985), ping_safe=True
)


def _zip3(_: None) -> Transform:
    def run(value: Any, ctx: RenderContext) -> Any:
        digits = _DIGITS.sub("", as_text(value))
        if len(digits) not in (5, 9):
            raise MappingError(f"{show(value)} is not a ZIP code")
        return digits[:3]

    return run


ZIP3 = TransformDef(
    "zip3", None, None, _zip3, "as the first 3 digits of the ZIP code", ("78701-1234", None, "787"),
    ping_safe=True,
)  # fmt: skip


def _email_domain(_: None) -> Transform:
    def run(value: Any, ctx: RenderContext) -> Any:
        text = as_text(value).strip()
        local, at, domain = text.rpartition("@")
        if not at or not local or not domain:
            raise MappingError(f"{show(value)} is not an email address")
        return domain.lower()

    return run


EMAIL_DOMAIN = TransformDef(
    "email_domain",
    None,
    None,
    _email_domain,
    "as the domain of the email address",
    ("John.Smith@Gmail.com", None, "gmail.com"),
    ping_safe=True,
)


def _area_code(_: None) -> Transform:
    def run(value: Any, ctx: RenderContext) -> Any:
        digits = _DIGITS.sub("", as_text(value))
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        if len(digits) != 10:
            raise MappingError(f"{show(value)} is not a 10-digit US phone number")
        return digits[:3]

    return run


AREA_CODE = TransformDef(
    "area_code", None, None, _area_code, "as the phone number's area code",
    ("(512) 555-0142", None, "512"), ping_safe=True,
)  # fmt: skip


class AgeBandArgs(Args):
    """``bands``: the first age of each band, in increasing order, e.g. [18, 25, 35, 50, 65]."""

    bands: list[int] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _list(cls, data: Any) -> Any:
        return {"bands": data} if isinstance(data, list) else data

    @field_validator("bands", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [int(v) if isinstance(v, str) and v.strip().isdigit() else v for v in value]
        return value


def _age_band(args: AgeBandArgs) -> Transform:
    bands = args.bands
    if bands != sorted(set(bands)) or bands[0] < 0:
        raise ArgError(
            "the bands must be ages in increasing order, each once",
            arg="bands",
            hint="e.g. age_band: [18, 25, 35, 50, 65]",
        )
    labels = [f"{low}-{high - 1}" for low, high in itertools.pairwise(bands)]
    labels.append(f"{bands[-1]}+")
    below = f"under {bands[0]}"

    def run(value: Any, ctx: RenderContext) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise MappingError(f"{show(value)} is not an age; put age before age_band")
        if value < bands[0]:
            return below
        index = max(i for i, low in enumerate(bands) if value >= low)
        return labels[index]

    return run


AGE_BAND = TransformDef(
    "age_band",
    AgeBandArgs,
    "bands",
    _age_band,
    "as an age band (from {bands})",
    (39, [18, 25, 35, 50, 65], "35-49"),
    ping_safe=True,
)

#: This family's transforms, in the order the reference lists them.
REDUCTIONS = (BIRTH_YEAR, AGE_BAND, ZIP3, EMAIL_DOMAIN, AREA_CODE)

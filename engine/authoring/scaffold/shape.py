"""How a lead field is shaped into a spec property: the transforms its constraints call for.

Given a property (its type, choices, pattern, length, bounds, description) and the lead field
chosen for it, :func:`shape` returns the field's source, transform steps, ``max_length`` and
output type, each with the reason it was chosen, or the reason the lead field cannot fill the
property (a free-text lead field for a property with its own id pattern, text for a number …).
Dates and phone layouts are read from the pattern the spec writes (``(0[1-9]|1[0-2])/…/\\d{4}``
is ``%m/%d/%Y``); hand-written because patterns are meant for checking, not for reading back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.authoring.placeholders import TODO
from engine.authoring.scaffold.names import words
from engine.authoring.scaffold.source import SpecField
from engine.lead import FieldSpec

_TRUE_FALSE = (
    ("true", "false"), ("yes", "no"), ("y", "n"), ("1", "0"), ("t", "f"), ("on", "off"),
)  # fmt: skip
_TEXT_KINDS = frozenset({"string", "email"})
_ZONES = {
    "central": "America/Chicago",
    "eastern": "America/New_York",
    "mountain": "America/Denver",
    "pacific": "America/Los_Angeles",
}


@dataclass(slots=True)
class Shaped:
    """A lead field shaped for one property."""

    source: str
    steps: list[Any] = field(default_factory=list)
    max_length: int | None = None
    type: str | None = None
    why: list[str] = field(default_factory=list)
    todos: int = 0
    """Translate entries left as TODO."""


def choices(spec_field: SpecField) -> list[str] | None:
    """The property's choices as text (a null choice left out), or None without an enum."""
    if spec_field.prop.enum is None:
        return None
    return [_text(c) for c in spec_field.prop.enum if c is not None]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def boolean_pair(options: list[str]) -> tuple[str, str] | None:
    """(true, false) when the choices are a yes/no pair in any spelling: Y/N, 1/0, Yes/No."""
    if len(options) != 2:
        return None
    folded = {o.casefold(): o for o in options}
    for yes, no in _TRUE_FALSE:
        if yes in folded and no in folded:
            return folded[yes], folded[no]
    return None


def same_choice(lead: str, buyer: str) -> bool:
    """The buyer's spelling of a lead choice: ``single_family`` ~ ``Single Family``, ``own`` ~
    ``Owner``."""
    a = re.sub(r"[^a-z0-9]", "", lead.casefold())
    b = re.sub(r"[^a-z0-9]", "", buyer.casefold())
    if not a or not b:
        return False
    return a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)))


def _by_initial(values: list[str], options: list[str]) -> dict[str, str]:
    """Lead choices by the buyer's one-letter codes (``single`` -> ``S``), when every buyer
    choice is one letter and no two lead choices share an initial."""
    if not all(len(o) == 1 for o in options):
        return {}
    initials = [v[:1].upper() for v in values]
    if len(set(initials)) != len(initials):
        return {}
    folded = {o.upper(): o for o in options}
    return {v: folded[i] for v, i in zip(values, initials, strict=True) if i in folded}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _range(f: SpecField, shaped: Shaped) -> None:
    if f.minimum is None and f.maximum is None:
        return
    bounds: dict[str, int | float] = {}
    if f.minimum is not None:
        bounds["min"] = _number(f.minimum)
    if f.maximum is not None:
        bounds["max"] = _number(f.maximum)
    shaped.steps.append({"range": bounds})
    shaped.why.append("range from the spec's minimum/maximum")


# -- choices -------------------------------------------------------------------------------------


def _enum_shape(f: SpecField, lead_path: str, lead: FieldSpec, options: list[str]) -> Shaped | str:
    shaped = Shaped(lead_path)
    name = "".join(words(f.name)).casefold()
    if lead.kind == "state":
        if all(re.fullmatch(r"[A-Z]{2}", o) for o in options):
            shaped.why.append("two-letter state codes, as the lead has them")
            return shaped
        return "the buyer's choices are not state codes"
    pair = boolean_pair(options)
    if lead.kind == "boolean":
        if pair is None:
            return "the buyer's choices are not a yes/no pair"
        shaped.steps.append({"boolean": list(pair)})
        shaped.why.append(f"yes/no written as {pair[0]}/{pair[1]}")
        return shaped
    if lead.kind != "enum" or not lead.values:
        return "the buyer takes only its listed choices"
    values = list(lead.values)
    if all(v in options for v in values):
        shaped.why.append("the lead's choices are the buyer's")
        return shaped
    for step, change in (("upper", str.upper), ("lower", str.lower), ("title", str.title)):
        if all(change(v) in options for v in values):
            shaped.steps.append(step)
            shaped.why.append(f"the buyer's choices are the lead's in {step} case")
            return shaped
    chosen = [v for v in values if v.casefold() in name]
    if pair is not None and chosen:
        yes, no = pair
        mapping: dict[str, str] = {chosen[0]: yes}
        if len(values) == 2:
            mapping.update({v: no for v in values if v != chosen[0]})
            shaped.steps.append({"translate": {"map": mapping}})
        else:
            shaped.steps.append({"translate": {"map": mapping, "default": no}})
        shaped.why.append(f"'{chosen[0]}' is {yes}, anything else {no} (from the name)")
        return shaped
    mapping = {}
    initials = _by_initial(values, options)
    for v in values:
        hit = next((o for o in options if same_choice(v, o)), None) or initials.get(v)
        mapping[v] = hit if hit is not None else TODO
        shaped.todos += hit is None
    shaped.steps.append({"translate": {"map": mapping}})
    listed = ", ".join(options)
    shaped.why.append(
        f"translate: choices matched by name; TODO ones need one of: {listed}"
        if shaped.todos
        else "translate: every choice matched by name"
    )
    return shaped


# -- patterns ------------------------------------------------------------------------------------

_DATE_PIECES: list[tuple[str, str]] = [
    (r"(19|20)\d{2}", "Y"), (r"(19|20)\d\d", "Y"), (r"[12]\d{3}", "Y"), (r"\d{4}", "Y"),
    (r"(0[1-9]|1[0-2])", "m12"), (r"(0[1-9]|[12]\d|3[01])", "d"),
    (r"(0[1-9]|[12][0-9]|3[01])", "d"), (r"([01]\d|2[0-3])", "H"), (r"([01][0-9]|2[0-3])", "H"),
    (r"[0-5]\d", "MS"), (r"[0-5][0-9]", "MS"), (r"(AM|PM)", "p"), (r"\d{2}", "2"),
]  # fmt: skip
_LITERALS = {"/": "/", "-": "-", r"\-": "-", ":": ":", " ": " ", "T": "T", r"\.": ".", ",": ","}


def strftime_of(pattern: str) -> str | None:
    """The strftime layout a date(-time) pattern describes, or None when it is not one."""
    text = pattern.strip().removeprefix("^").removesuffix("$")
    out: list[str] = []
    used: set[str] = set()
    pos = 0
    while pos < len(text):
        for piece, code in _DATE_PIECES:
            if text.startswith(piece, pos):
                out.append(_code(code, used))
                pos += len(piece)
                break
        else:
            for lit, shown in _LITERALS.items():
                if text.startswith(lit, pos):
                    out.append(shown)
                    pos += len(lit)
                    break
            else:
                return None
    layout = "".join(out)
    return layout if {"%Y", "%m", "%d"} <= used else None


def _code(code: str, used: set[str]) -> str:
    order = {"m12": ["%m", "%I"], "MS": ["%M", "%S"], "2": ["%m", "%d", "%H", "%M", "%S"]}
    options = order.get(code, ["%" + code])
    pick = next((o for o in options if o not in used), options[-1])
    if code == "m12" and "%m" in used:
        pick = "%I"
    used.add(pick)
    return pick


_WORDS_DATE = re.compile(r"\b(YYYY|MM|DD)([-/.]?)(YYYY|MM|DD)\2(YYYY|MM|DD)\b")


def _described_date(description: str) -> str | None:
    found = _WORDS_DATE.search(description)
    if found is None:
        return None
    sep = found.group(2)
    codes = {"YYYY": "%Y", "MM": "%m", "DD": "%d"}
    parts = [codes[found.group(i)] for i in (1, 3, 4)]
    return sep.join(parts) if len(set(parts)) == 3 else None


def phone_style(pattern: str | None, description: str) -> str | None:
    """The ``phone`` style a pattern (or description) asks for; None when neither says."""
    text = pattern or ""
    said = description.casefold()
    if r"\+" in text or "+1" in text or "e.164" in said:
        return "e164"
    if r"\(" in text:
        return "parentheses"
    if r"\." in text:
        return "dots"
    if "-" in re.sub(r"\[[^\]]*\]", "", text):  # a dash outside [a-z] classes
        return "dashes"
    if text and re.search(r"\\d|\[\d", text):
        return "digits"
    if "digits" in said or "no punctuation" in said:
        return "digits"
    return None


def _case(f: SpecField) -> str | None:
    pattern = f.prop.pattern or ""
    said = f.description.casefold()
    if "upper case" in said or "uppercase" in said or ("A-Z" in pattern and "a-z" not in pattern):
        return "upper"
    if "lower case" in said or "lowercase" in said or ("a-z" in pattern and "A-Z" not in pattern):
        return "lower"
    return None


_CLASS_ONLY = re.compile(r"\^?\[([^\]]+)\][*+]\$?")


def _text_shape(f: SpecField, lead_path: str, lead: FieldSpec, fmt: str) -> Shaped | str:
    shaped = Shaped(lead_path)
    prop = f.prop
    kind = lead.kind
    pattern = prop.pattern
    if kind == "phone":
        style = phone_style(pattern, f.description)
        if style is not None:
            shaped.steps.append({"phone": style})
            shaped.why.append(
                f"phone as {style}, from the spec's " + ("pattern" if pattern else "description")
            )
        return shaped
    if kind == "zip":
        if pattern and "\\d{5}" in pattern and "-" not in pattern:
            shaped.steps.append({"substring": {"start": 1, "length": 5}})
            shaped.why.append("ZIP+4 is not allowed: the first 5 digits")
        return shaped
    if kind in ("date", "datetime"):
        layout = strftime_of(pattern) if pattern else None
        layout = layout or (_described_date(f.description) if not pattern else layout)
        if layout is None:
            if pattern:
                return "the spec's date pattern is not one leadpost can read"
            if prop.format in ("date", "date-time", "dateTime") or kind == "datetime":
                shaped.why.append("ISO 8601, as the lead has it")
            return shaped
        if layout == "%Y-%m-%d" and kind == "date":
            shaped.why.append("ISO 8601 (YYYY-MM-DD), as the lead has it")
            return shaped
        if kind == "date":
            shaped.steps.append({"date": layout})
        else:
            args: dict[str, str] = {"format": layout}
            zone = next((z for w, z in _ZONES.items() if w in f.description.casefold()), None)
            if zone:
                args["timezone"] = zone
            shaped.steps.append({"datetime": args})
        shaped.why.append(
            f"written {layout}, from the spec's " + ("pattern" if pattern else "description")
        )
        return shaped
    if kind in ("integer", "number"):
        if pattern and "\\$" in pattern:
            cents = "\\." in pattern
            shaped.steps.append({"currency": {"cents": cents}})
            shaped.why.append("dollars" + (" and cents" if cents else "") + ", from the pattern")
            return shaped
        if pattern and re.fullmatch(r"\^?\(19\|20\)\\d\{2\}\$?", pattern):
            shaped.steps.append({"range": {"min": 1900, "max": 2099}})
            shaped.why.append("a year 1900–2099, from the pattern")
            return shaped
        _range(f, shaped)
        return shaped
    if kind in _TEXT_KINDS:
        if kind == "email" and re.search(r"sha256|sha1|md5", f.name.casefold()):
            algo = re.search(r"sha256|sha1|md5", f.name.casefold())
            shaped.steps.append({"hash": algo.group(0) if algo else "sha256"})
            shaped.why.append("a hash of the email, from the name")
            return shaped
        if pattern and kind == "string":
            only = _CLASS_ONLY.fullmatch(pattern)
            if only is None:
                return "the spec's pattern is an id format the lead field does not have"
            shaped.steps.append({"replace": {"pattern": f"[^{only.group(1)}]", "with": ""}})
            shaped.why.append("characters outside the pattern removed")
        case = _case(f)
        if case is not None:
            shaped.steps.append(case)
            shaped.why.append(f"{case} case, as the spec says")
        limit = prop.max_length
        if limit is not None and (kind == "string" or limit < 254):
            shaped.max_length = limit
            shaped.why.append(f"maxLength {limit}")
        return shaped
    return shaped


def shape(f: SpecField, lead_path: str, lead: FieldSpec, fmt: str) -> Shaped | str:
    """How ``lead_path`` fills ``f``, or why it cannot."""
    types = f.prop.types - {"null"}
    options = choices(f)
    name_words = set(words(f.name))
    if options:
        return _enum_shape(f, lead_path, lead, options)
    if types == {"boolean"}:
        shaped = Shaped(lead_path, type="boolean" if fmt == "json" else None)
        if lead.kind == "boolean":
            return shaped
        if lead.kind == "enum" and len(lead.values) == 2:
            chosen = [v for v in lead.values if v.casefold() in "".join(name_words)]
            if chosen:
                other = next(v for v in lead.values if v != chosen[0])
                shaped.steps.append({"translate": {"map": {chosen[0]: "true", other: "false"}}})
                shaped.why.append(f"'{chosen[0]}' is true (from the name)")
                return shaped
        return "the buyer wants true/false"
    if types & {"integer", "number"} and not types & {"string"}:
        kind = "integer" if "integer" in types else "number"
        shaped = Shaped(lead_path, type=kind if fmt == "json" else None)
        if lead.kind in ("integer", "number"):
            _range(f, shaped)
            return shaped
        if lead.kind == "date" and "age" in name_words:
            shaped.steps.append("age")
            shaped.why.append("age in years from the date of birth")
            _range(f, shaped)
            return shaped
        return f"the buyer wants a number, the lead field is {lead.kind}"
    if lead.kind == "boolean":
        return "the buyer wants text, the lead field is true/false"
    return _text_shape(f, lead_path, lead, fmt)

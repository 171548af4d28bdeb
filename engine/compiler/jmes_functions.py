"""leadpost's JMESPath functions: regular expressions, text ignoring case, missing values, dates.

Buyers answer in every spelling ("Success", "SUCCESS", " success "), and a condition over an
answer must not fail because a value is missing. So, next to JMESPath's own functions:

- ``matches(text, 'pattern')``: the regular expression is found in the text (true/false);
- ``capture(text, 'pattern')``: the text the pattern captured (group ``value``, else the first
  group, else the whole match), or null;
- ``equals_ignore_case(a, b)``, ``contains_ignore_case(subject, text)``;
- ``lower(text)``, ``upper(text)``, ``trim(text)``;
- dates (``engine.transforms.spans`` states the calendar rules): ``years_between(a, b)``,
  ``months_between(a, b)``, ``days_between(a, b)`` (whole units from a to b, null when either is
  missing), ``within(date, '5y', timestamp)`` (the date, or any date of a list, lies in the 5
  years up to the lead's date), ``before(a, b)`` and ``after(a, b)`` (false when either is missing);

and JMESPath's ``contains``, ``starts_with`` and ``ends_with`` give false for a missing value
(JMESPath raises an error, which turned a plain refusal into a bad response).

Patterns are compiled when the file loads, through the project's one regex helper
(:func:`engine.compiler.response_exprs.compile_regex`); each compiled expression gets its own
:class:`LeadpostFunctions` holding its patterns, so nothing is compiled per answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from jmespath import functions as jp_functions
from jmespath.exceptions import JMESPathError

from engine.transforms.base import scalar_text
from engine.transforms.spans import SpanError, Unit, as_date, between, parse_span, within

#: Functions whose second argument is a regular expression, compiled when the file loads.
REGEX_FUNCTIONS: frozenset[str] = frozenset({"matches", "capture"})


class Regex(Protocol):
    """What the functions need of a compiled pattern (``re`` and ``re2`` patterns both fit)."""

    @property
    def groups(self) -> int: ...

    @property
    def groupindex(self) -> Mapping[str, int]: ...

    def search(self, string: str) -> Any: ...


class PatternNotCompiled(JMESPathError):
    """A regex function ran with a pattern that was not compiled when the file loaded."""


def _texts(value: Any) -> list[str] | None:
    """The texts of a value: a scalar's text, or the texts of a list's scalars; None if none."""
    if isinstance(value, list):
        found = [t for t in (scalar_text(v) for v in value) if t is not None]
        return found or None
    text = scalar_text(value)
    return None if text is None else [text]


def captured(match: Any, pattern: Regex) -> str | None:
    """The group named ``value``, else the first group, else the whole match (None if unset)."""
    if "value" in pattern.groupindex:
        found = match.group("value")
    elif pattern.groups:
        found = match.group(1)
    else:
        found = match.group(0)
    return found if isinstance(found, str) else None


def _each_text(value: Any, change: Any) -> Any:
    if isinstance(value, list):
        return [change(t) for v in value if (t := scalar_text(v)) is not None]
    text = scalar_text(value)
    return None if text is None else change(text)


class _TextFunctions(jp_functions.Functions):
    """JMESPath's built-in functions plus leadpost's text and regex functions."""

    def __init__(self, patterns: Mapping[str, Regex] | None = None) -> None:
        super().__init__()
        self._patterns: Mapping[str, Regex] = patterns or {}

    def _pattern(self, name: str, text: str) -> Regex:
        pattern = self._patterns.get(text)
        if pattern is None:
            raise PatternNotCompiled(f"{name}(): the pattern '{text}' was not compiled")
        return pattern

    # -- null-tolerant built-ins -----------------------------------------------------------------

    @jp_functions.signature({"types": ["array", "string", "null"]}, {"types": []})
    def _func_contains(self, subject: Any, search: Any) -> bool:
        return subject is not None and search in subject

    @jp_functions.signature({"types": ["string", "null"]}, {"types": ["string"]})
    def _func_starts_with(self, subject: str | None, prefix: str) -> bool:
        return subject is not None and subject.startswith(prefix)

    @jp_functions.signature({"types": ["string", "null"]}, {"types": ["string"]})
    def _func_ends_with(self, subject: str | None, suffix: str) -> bool:
        return subject is not None and subject.endswith(suffix)

    # -- regular expressions ---------------------------------------------------------------------

    @jp_functions.signature({"types": []}, {"types": ["string"]})
    def _func_matches(self, subject: Any, pattern: str) -> bool:
        regex = self._pattern("matches", pattern)
        texts = _texts(subject) or []
        return any(regex.search(t) is not None for t in texts)

    @jp_functions.signature({"types": []}, {"types": ["string"]})
    def _func_capture(self, subject: Any, pattern: str) -> str | None:
        regex = self._pattern("capture", pattern)
        for text in _texts(subject) or []:
            m = regex.search(text)
            if m is not None:
                return captured(m, regex)
        return None

    # -- text, ignoring case ---------------------------------------------------------------------

    @jp_functions.signature({"types": []}, {"types": []})
    def _func_equals_ignore_case(self, left: Any, right: Any) -> bool:
        a, b = scalar_text(left), scalar_text(right)
        return a is not None and b is not None and a.casefold() == b.casefold()

    @jp_functions.signature({"types": []}, {"types": []})
    def _func_contains_ignore_case(self, subject: Any, search: Any) -> bool:
        wanted = scalar_text(search)
        if wanted is None:
            return False
        folded = wanted.casefold()
        if isinstance(subject, list):
            texts = (scalar_text(v) for v in subject)
            return any(t is not None and t.casefold() == folded for t in texts)
        text = scalar_text(subject)
        return text is not None and folded in text.casefold()

    @jp_functions.signature({"types": []})
    def _func_lower(self, value: Any) -> Any:
        return _each_text(value, str.lower)

    @jp_functions.signature({"types": []})
    def _func_upper(self, value: Any) -> Any:
        return _each_text(value, str.upper)

    @jp_functions.signature({"types": []})
    def _func_trim(self, value: Any) -> Any:
        return _each_text(value, str.strip)


def _date(value: Any) -> Any:
    """A calendar date from a date or timestamp text (a timestamp's date in UTC); else None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return as_date(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        return None


class LeadpostFunctions(_TextFunctions):
    """JMESPath's built-in functions plus leadpost's (see the module docstring)."""

    def _between(self, a: Any, b: Any, unit: Unit) -> int | None:
        first, second = _date(a), _date(b)
        return None if first is None or second is None else between(first, second, unit)

    @jp_functions.signature({"types": []}, {"types": []})
    def _func_years_between(self, a: Any, b: Any) -> int | None:
        return self._between(a, b, "years")

    @jp_functions.signature({"types": []}, {"types": []})
    def _func_months_between(self, a: Any, b: Any) -> int | None:
        return self._between(a, b, "months")

    @jp_functions.signature({"types": []}, {"types": []})
    def _func_days_between(self, a: Any, b: Any) -> int | None:
        return self._between(a, b, "days")

    @jp_functions.signature({"types": []}, {"types": ["string"]}, {"types": []})
    def _func_within(self, value: Any, span: str, ref: Any) -> bool:
        until = _date(ref)
        try:
            amount, unit = parse_span(span)
        except SpanError as exc:
            raise BadSpan(str(exc)) from None
        days = [_date(v) for v in value] if isinstance(value, list) else [_date(value)]
        return until is not None and any(
            d is not None and within(d, amount, unit, until) for d in days
        )

    @jp_functions.signature({"types": []}, {"types": []})
    def _func_before(self, a: Any, b: Any) -> bool:
        first, second = _date(a), _date(b)
        return first is not None and second is not None and first < second

    @jp_functions.signature({"types": []}, {"types": []})
    def _func_after(self, a: Any, b: Any) -> bool:
        first, second = _date(a), _date(b)
        return first is not None and second is not None and first > second


class BadSpan(JMESPathError):
    """``within`` got a span it cannot read (lint reports a written one when the file loads)."""


#: The function table lint checks names and argument counts against.
FUNCTION_TABLE: Mapping[str, Any] = LeadpostFunctions.FUNCTION_TABLE

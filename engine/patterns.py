"""Every user-written regular expression, compiled with RE2: matching time grows linearly with
the text, so no pattern in a buyer or campaign file can keep a lead (or a service) busy.

Python's ``re`` backtracks: ``(a+)+$`` against 31 ``a`` and a ``!`` runs for minutes. RE2
(google-re2) refuses the few features that need backtracking — backreferences (``\\1``),
lookahead and lookbehind (``(?=…)``, ``(?<=…)``), atomic groups and possessive repeats — and
:func:`compile_pattern` says so in plain words, with the character where the feature starts.
``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII in RE2; ``\\p{L}`` is any letter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias

import re2

if TYPE_CHECKING:
    #: A compiled pattern (RE2's; it offers search, match, fullmatch, sub, split, groupindex).
    Pattern: TypeAlias = re2._Regexp[str]
else:
    Pattern = re2._Regexp

#: Longest pattern accepted, in characters (longer ones are refused, not compiled).
MAX_PATTERN: Final = 2_000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr
_OPTIONS.max_mem = 8 << 20  # the program of one pattern: 8 MiB at most (RE2's default)

#: RE2's complaint (the start of it) → what to tell the author.
_UNSUPPORTED: Final = (
    ("invalid perl operator: (?=", "lookahead (?=…) is not supported"),
    ("invalid perl operator: (?!", "negative lookahead (?!…) is not supported"),
    ("invalid perl operator: (?<=", "lookbehind (?<=…) is not supported"),
    ("invalid perl operator: (?<!", "negative lookbehind (?<!…) is not supported"),
    ("invalid perl operator: (?>", "atomic groups (?>…) are not supported"),
    ("bad repetition operator: ++", "possessive repeats (++, *+, ?+) are not supported"),
    ("bad repetition operator: *+", "possessive repeats (++, *+, ?+) are not supported"),
    ("bad repetition operator: ?+", "possessive repeats (++, *+, ?+) are not supported"),
    ("invalid perl operator: (?#", "comments (?#…) are not supported"),
    ("invalid perl operator: (?x", "verbose mode (?x) is not supported"),
)
_WHY = "leadpost matches with RE2, which never backtracks, so no pattern can hang a lead"
#: The hint under a refused feature.
UNSUPPORTED_HINT: Final = (
    "match the text without it: e.g. instead of a lookahead, match the following text too and"
    " capture the part you want in a group (?P<value>…)"
)


class PatternError(ValueError):
    """A pattern RE2 cannot compile: ``message`` in plain words, ``offset`` where (0-based),
    ``unsupported`` when it uses a feature RE2 lacks (rather than being malformed)."""

    def __init__(self, message: str, offset: int, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.unsupported = unsupported


def compile_pattern(pattern: str) -> Pattern:
    """``pattern`` compiled with RE2, or :class:`PatternError` saying what is wrong and where."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(
            f"the pattern is {len(pattern):,} characters long; at most {MAX_PATTERN:,} are allowed",
            MAX_PATTERN,
        )
    if "\x00" in pattern:
        raise PatternError("the pattern contains a NUL character", pattern.index("\x00"))
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raise _explain(pattern, exc) from None


def _unclosed(pattern: str) -> int:
    """Where the last ( that is never closed opens (escapes and [classes] skipped)."""
    opened: list[int] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 1 if pattern[i + 1 : i + 2] != "]" else 2
            continue
        elif c == "(":
            opened.append(i)
        elif c == ")" and opened:
            opened.pop()
        i += 1
    return opened[-1] if opened else 0


def _explain(pattern: str, exc: re2.error) -> PatternError:
    raw = exc.args[0] if exc.args else ""
    said = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    fragment = said.split(": ", 1)[1] if ": " in said else ""
    found = pattern.find(fragment) if fragment else -1
    offset = max(found, 0)
    for start, plain in _UNSUPPORTED:
        if said.startswith(start):
            return PatternError(f"{plain}: {_WHY}", offset, unsupported=True)
    if said.startswith("invalid escape sequence: \\") and fragment[1:2].isdigit():
        return PatternError(
            f"backreferences ({fragment}) are not supported: {_WHY}", offset, unsupported=True
        )
    if said.startswith("missing ): "):
        return PatternError("a group opened here is never closed with )", _unclosed(pattern))
    if said.startswith("missing ]: "):
        return PatternError("a [ opened here is never closed with ]", offset)
    if said.startswith("unexpected ): "):
        return PatternError("this ) closes no group", max(len(pattern) - len(fragment), 0))
    if said.startswith("invalid escape sequence: "):
        return PatternError(f"{fragment[:12]} is not an escape RE2 knows", offset)
    if said.startswith("invalid repetition size"):
        return PatternError(f"{said} (a repeat count is at most 1000)", offset)
    if said.startswith("pattern too large"):
        return PatternError("the pattern is too large to compile; simplify it", 0)
    return PatternError((said or "the pattern cannot be read")[:120], offset)

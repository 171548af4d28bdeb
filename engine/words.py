"""Words leadpost says to people and reads from them: values in messages, the yes/no vocabulary.

One place, so that a lead's ``"on"`` means the same at intake as in the ``boolean`` transform,
and a value is quoted the same way in every message.
"""

from __future__ import annotations

import json
import math
import unicodedata
from decimal import Decimal
from typing import Any, Final

#: Words read as yes / no, in any capitals and with spaces around (HTML check boxes send "on";
#: databases "t"/"f"). Lead intake, the ``boolean`` transform and generated leads use these.
YES: Final = frozenset({"true", "yes", "y", "t", "1", "on"})
NO: Final = frozenset({"false", "no", "n", "f", "0", "off"})
#: How the vocabulary is described in messages.
YES_NO_TEXT: Final = "true/false, yes/no, y/n, t/f, 1/0 or on/off"

#: Longest text quoted whole in a message; longer text is cut with "...".
_LONGEST = 60


def yes_no(word: str) -> bool | None:
    """True or False for a word of the yes/no vocabulary, None for any other text."""
    folded = word.strip().lower()
    if folded in YES:
        return True
    if folded in NO:
        return False
    return None


def show(value: Any) -> str:
    """A value as a person would write it in a message: text in quotes (cut when long, control
    characters escaped), numbers plain, lists and objects named, never an exception."""
    if isinstance(value, str):
        text = value if len(value) <= _LONGEST else value[: _LONGEST - 3] + "..."
        return f"'{printable(text)}'"
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else "a number that is not finite"
    if isinstance(value, float) and not math.isfinite(value):
        return "a number that is not finite"
    if isinstance(value, dict):
        return "an object {...}"
    if isinstance(value, list | tuple):
        return "a list [...]"
    try:
        return json.dumps(value)
    except ValueError:  # an integer with more digits than Python will print
        return "a very long number"
    except TypeError:  # not a JSON value at all
        return "a value of an unexpected kind"


_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``), so that a
    value quoted in a message cannot break a log line or drive a terminal."""
    if text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _BREAKING else c for c in text)


#: Control characters and line or paragraph separators.
_BREAKING: Final = frozenset({"Cc", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")

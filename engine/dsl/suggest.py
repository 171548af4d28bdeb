"""Spelling suggestions for unknown keys and choices: "did you mean 'format'?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How similar (0..1, difflib ratio, ignoring case) a choice must be to be suggested.
CUTOFF = 0.7


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` ignoring case, or None if none is close or it is exact."""
    options = list(dict.fromkeys(choices))
    if not word or word in options:
        return None
    by_folded: dict[str, str] = {}
    for option in options:
        by_folded.setdefault(option.casefold(), option)
    folded = word.casefold()
    if folded in by_folded:
        return by_folded[folded]
    close = difflib.get_close_matches(folded, list(by_folded), n=1, cutoff=CUTOFF)
    return by_folded[close[0]] if close else None


def hint_for(word: str, choices: Iterable[str]) -> str | None:
    """``"did you mean 'format'?"`` when a choice is close to ``word``, else None."""
    match = did_you_mean(word, choices)
    return f"did you mean '{match}'?" if match is not None else None

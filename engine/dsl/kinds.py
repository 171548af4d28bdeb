"""Which kind of file a loaded document is (``buyer:``, ``campaign:``), typos included.

A file's kind is the top-level key that names it. A misspelt one (``buyerx:``) used to make the
file "no kind at all", reported at line 1 — or skipped by ``leadpost test``. :func:`guess_kind`
finds the kind key a top-level key is a typo of, and :func:`with_key_renamed` gives the document
as if it were spelt right (positions kept), so every other problem is still reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

from engine.dsl.loader import Document, SourceMap, YamlPath
from engine.dsl.suggest import did_you_mean
from engine.errors import Issue

#: How each kind of file starts, for hints.
STARTS = {
    "buyer": "a buyer file starts with 'buyer: <id>'",
    "campaign": "a campaign file starts with 'campaign: <id>'",
}


#: Keys other kinds of files start with, close to a kind key but no typo of it.
_OTHER_KEYS = frozenset({"buyers", "fields"})


def kind_of(data: Any, kinds: Iterable[str]) -> str | None:
    """The first of ``kinds`` that is a top-level key of ``data``."""
    if isinstance(data, dict):
        return next((kind for kind in kinds if kind in data), None)
    return None


def guess_kind(doc: Document, kinds: Iterable[str]) -> tuple[str, Document, Issue] | None:
    """(kind, the document with the misspelt key corrected, the LP201 issue at the key) when the
    first top-level key is a typo of a kind key; None otherwise."""
    data = doc.data
    if not isinstance(data, dict) or not data:
        return None
    options = list(kinds)
    if any(kind in data for kind in options):
        return None
    key = next(iter(data))  # the kind key comes first (fmt keeps it there); "buyers:" later on
    kind = did_you_mean(key, options)  # in a campaign or sandbox file is no typo of "buyer:"
    if kind is None or key in _OTHER_KEYS:
        return None
    issue = Issue(
        "LP201",
        f"unknown key '{key}' — did you mean '{kind}'?",
        doc.source.key_at((key,)),
        hint=STARTS.get(kind, f"write '{kind}:'"),
    )
    return kind, with_key_renamed(doc, key, kind), issue


def with_key_renamed(doc: Document, old: str, new: str) -> Document:
    """``doc`` with the top-level key ``old`` written as ``new``, every position unchanged."""
    data = {(new if k == old else k): v for k, v in doc.data.items()}

    def moved(table: Any) -> MappingProxyType[YamlPath, Any]:
        return MappingProxyType(
            {((new, *p[1:]) if p[:1] == (old,) else p): span for p, span in table.items()}
        )

    src = doc.source
    return Document(data, SourceMap(src.file, src.text, moved(src.values), moved(src.keys)))

"""``@frozen``: the value classes made for every request, immutable where it is checked.

A ping makes about ten small value objects (the rendered request, the wire's answer, the body,
the interpretation, the verdict, the timings, the masked exchange, the outcome, a trace entry).
A ``@dataclass(frozen=True)`` sets each field through ``object.__setattr__`` in its
``__init__``: measured here, 2.0 µs for seven fields against 0.45 µs for a plain slots
dataclass, about a tenth of leadpost's own CPU per ping (scripts/bench/auction.py --scenario
own). So these classes are frozen for the type checker (mypy strict, run by CI, refuses any
assignment to their fields: ``frozen_default`` of PEP 681) and plain slots dataclasses at run
time, hashable by their fields as a frozen one is. Everything else stays
``@dataclass(frozen=True, slots=True)``: plans are built once and their cost does not matter.

Hand-written because no library offers it: attrs' frozen classes pay the same per-field
``object.__setattr__`` (1.6 µs measured), and msgspec's structs would be a new kind of object
for every module that reads these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    """A dataclass with slots whose fields the type checker treats as read-only."""
    return dataclass(slots=True, unsafe_hash=True)(cls)

"""Field transforms: pure functions in an explicit registry, compiled once per step.

``TRANSFORMS`` maps each name to its :class:`TransformDef`; :func:`compile_step` turns one YAML
step into a run-time callable. ``to_type`` and ``limit_length`` are the final steps of a field.
"""

from engine.transforms.base import TransformDef
from engine.transforms.registry import TRANSFORMS, compile_step, describe
from engine.transforms.values import CONVERTERS, limit_length, to_type, truncate

__all__ = [
    "CONVERTERS",
    "TRANSFORMS",
    "TransformDef",
    "compile_step",
    "describe",
    "limit_length",
    "to_type",
    "truncate",
]

"""A best-effort model of a buyer file whose whole does not validate: the parts that do.

Lint's semantic rules (inline secrets, unsafe production addresses, risky response rules) read
the model. When a misspelt key elsewhere makes the file invalid, those rules still run over
every top-level section and stage that validates on its own, so one pass reports everything.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from engine.dsl import models as m

#: Stand-ins for required sections that did not validate: the rules then find nothing there.
_FALLBACKS: dict[str, Any] = {"buyer": "buyer", "name": "", "version": "", "environments": {}}


def partial_spec(data: Any) -> m.IntegrationSpec | None:
    """The sections of ``data`` that validate, assembled without validating the whole."""
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = dict(_FALLBACKS)
    for name, field in m.IntegrationSpec.model_fields.items():
        key = field.alias or name
        if name == "stages" or key not in data or field.annotation is None:
            continue
        try:
            values[name] = TypeAdapter(field.annotation).validate_python(data[key])
        except ValidationError:
            continue
    values["stages"] = _stages(data.get("stages"))
    return m.IntegrationSpec.model_construct(**values)


def _stages(raw: Any) -> m.Stages:
    found: dict[str, Any] = {"ping": None, "post": None}
    if isinstance(raw, dict):
        for name in found:
            try:
                found[name] = m.StageSpec.model_validate(raw.get(name))
            except ValidationError:
                continue
    return m.Stages.model_construct(**found)

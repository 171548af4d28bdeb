"""US state transforms: a state's name from its code (``TX`` -> ``Texas``) and back.

Both read a code or a name in any capitals (``tx``, ``TEXAS``, `` new  york ``), the 50 states,
the District of Columbia and the inhabited territories (PR, GU, VI, AS, MP): the same table lead
intake uses for the ``state`` type, so a buyer file never carries its own 51-line map.
"""

from __future__ import annotations

from typing import Any

from engine.errors import MappingError
from engine.lead.normalize import US_STATE_NAMES, InvalidValue, normalize_state
from engine.plan import RenderContext, Transform
from engine.transforms.base import TransformDef, as_text, show


def state_code(value: Any) -> str:
    """The 2-letter code of a state written as a code or a name; MappingError otherwise."""
    text = as_text(value)
    try:
        return str(normalize_state(text))
    except InvalidValue:
        raise MappingError(
            f"{show(value)} is not a US state; write a code like TX or a name like Texas"
        ) from None


def state_name(value: Any) -> str:
    """The name of a state written as a code or a name: ``TX`` -> ``Texas``."""
    return US_STATE_NAMES[state_code(value)]


def _plain(fn: Any) -> Any:
    def build(_: None) -> Transform:
        def run(value: Any, ctx: RenderContext) -> Any:
            return fn(value)

        return run

    return build


STATE_NAME = TransformDef(
    "state_name",
    None,
    None,
    _plain(state_name),
    "as a state name like Texas",
    ("TX", None, "Texas"),
)
STATE_CODE = TransformDef(
    "state_code",
    None,
    None,
    _plain(state_code),
    "as a 2-letter state code like TX",
    ("new york", None, "NY"),
)

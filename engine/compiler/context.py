"""The compile context: where compilers report positioned issues and check names once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.dsl.loader import SourceMap
from engine.dsl.suggest import hint_for
from engine.errors import Issue
from engine.plan import ENV_REFERENCE, SecretRef, Template

if TYPE_CHECKING:
    from engine.lead import LeadSchema

Path = tuple[str | int, ...]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_ANY_REF = re.compile(r"\$\{([^}]*)\}")


@dataclass
class CompileContext:
    """Shared by every compiler stage of one file: positions in, issues out."""

    source: SourceMap
    lead_schema: LeadSchema | None = None
    issues: list[Issue] = field(default_factory=list)
    stage_values: dict[str, frozenset[str]] = field(default_factory=dict)
    base_dir: str = "."
    """Folder that relative file references (test leads) are resolved against."""
    item_scopes: list[str] = field(default_factory=list)
    """The lead lists being compiled into, innermost last (``lead.drivers``): ``item.dob``
    inside them means ``lead.drivers.dob`` of one item."""
    keeps: dict[str, object] = field(default_factory=dict)
    """Aggregates over one lead list share its kept-items chooser (chosen once per render)."""
    post_lists: dict[str, object] = field(default_factory=dict)
    """Each lead list the post sends with ``each:`` -> that field spec (its ``where`` and
    ``max_items``): aggregates in any stage count the same items the post sends."""

    # -- reporting ---------------------------------------------------------------------------

    def error(
        self, code: str, message: str, at: Path, *, hint: str | None = None, key: bool = False
    ) -> None:
        span = self.source.key_at(at) if key else self.source.at(at)
        self.issues.append(Issue(code, message, span, hint))

    def warn(
        self, code: str, message: str, at: Path, *, hint: str | None = None, key: bool = False
    ) -> None:
        span = self.source.key_at(at) if key else self.source.at(at)
        self.issues.append(Issue(code, message, span, hint, severity="warning"))

    @property
    def failed(self) -> bool:
        return any(i.severity == "error" for i in self.issues)

    # -- checks that compile a piece once ----------------------------------------------------

    def duration(self, text: str | None, at: Path, default: float) -> float:
        """Read '100ms', '2s', '5m', '1h' or a plain number of seconds; LP310 on anything else."""
        if text is None:
            return default
        m = _DURATION.match(str(text))
        if not m:
            self.error(
                "LP310",
                f"'{text}' is not a duration",
                at,
                hint="write a number with a unit: 100ms, 2s, 5m, 1h",
            )
            return default
        return float(m.group(1)) * _UNIT[m.group(2)]

    def item_path(self, dotted: str) -> str | None:
        """The lead-schema path an ``item.NAME`` reference means here (``lead.drivers.NAME``);
        None outside ``each:`` and aggregates, or when ``dotted`` is not about an item."""
        head, _, rest = dotted.partition(".")
        if head != "item" or not self.item_scopes:
            return None
        scope = self.item_scopes[-1]
        return f"{scope}.{rest}" if rest else scope

    def lead_field(self, dotted: str, at: Path) -> bool:
        """True if ``dotted`` names a field of the lead schema; else LP304 with did-you-mean."""
        schema = self.lead_schema
        if schema is None or dotted in schema.paths:
            return True
        self.error(
            "LP304",
            f"unknown lead field '{dotted}'",
            at,
            hint=hint_for(dotted, schema.paths)
            or "lead fields are declared in integrations/lead-schema.yaml",
        )
        return False

    def prior_value(self, stage: str, name: str, at: Path) -> bool:
        """True if an earlier stage extracts ``name``; else LP306."""
        names = self.stage_values.get(stage)
        if names is None:
            self.error(
                "LP306",
                f"'{stage}.{name}' refers to the {stage} stage, "
                "which does not come before this one",
                at,
            )
            return False
        if name not in names:
            self.error(
                "LP306",
                f"the {stage} stage does not extract '{name}'",
                at,
                hint=hint_for(name, names) or f"add it under stages.{stage}.response.extract",
            )
            return False
        return True

    def template(self, text: str, at: Path) -> Template:
        """Split text into literal parts and ``${env:NAME}`` references (LP309 on bad ones)."""
        parts: list[str | SecretRef] = []
        pos = 0
        for m in _ANY_REF.finditer(text):
            inner = ENV_REFERENCE.fullmatch(m.group(0))
            if inner is None:
                self.error(
                    "LP309",
                    f"'{m.group(0)}' is not a valid reference",
                    at,
                    hint="write ${env:NAME} with NAME made of letters, digits and _",
                )
                continue
            if m.start() > pos:
                parts.append(text[pos : m.start()])
            parts.append(SecretRef(inner.group(1)))
            pos = m.end()
        if pos < len(text):
            parts.append(text[pos:])
        return Template(tuple(parts) or ("",))

    def choice(self, value: str, choices: Iterable[str], what: str, at: Path) -> bool:
        options = sorted(choices)
        if value in options:
            return True
        self.error(
            "LP205",
            f"unknown {what} '{value}' — expected one of: {', '.join(options)}",
            at,
            hint=hint_for(value, options),
        )
        return False

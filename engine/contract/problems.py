"""A problem found while reading a buyer's spec, before it is placed at a line of the YAML."""

from __future__ import annotations


class SpecProblem(Exception):
    """The spec cannot be used: ``code`` (LP7xx), the message, a hint, and which key of the
    ``spec:`` section to point at (``operation``, ``element``; None for the section itself)."""

    def __init__(
        self, code: str, message: str, hint: str | None = None, *, at: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.at = at

"""The one exception tree of leadpost, and the stable codes of every problem we report.

    LeadpostError
    ├── AuthoringError            a user's file is wrong; carries every Issue found in it
    ├── LeadError                 an incoming lead does not match the lead schema
    └── RunError                  something went wrong while handling one lead
        ├── MappingError          the lead cannot be rendered for this buyer (refused unsent)
        ├── TransportError        the request failed on the wire (before or after sending)
        ├── UpstreamStatusError   the buyer answered with an HTTP error status
        ├── ExtractionError       the buyer's response could not be read
        ├── CircuitOpenError      the buyer's circuit breaker is open: nothing was sent
        └── AuthFailure           no usable credentials (token endpoint failed, secret unset)

Authoring problems are collected as :class:`Issue` values (code, message, hint, position) so a
file's problems are all reported at once; only the boundary turns them into an AuthoringError.
Every code is documented, with its fix, in dsl-spec.md (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from engine.positions import Span

Severity = Literal["error", "warning"]

#: Every stable problem code with a one-line title. dsl-spec.md documents each one.
CODES: dict[str, str] = {
    # LP1xx: reading the YAML text
    "LP100": "file cannot be read",
    "LP101": "YAML syntax error",
    "LP102": "duplicate key",
    "LP103": "tab character used for indentation",
    "LP104": "anchors, aliases and merge keys are not allowed",
    "LP105": "custom YAML tags are not allowed",
    "LP106": "file is empty or is not a mapping",
    "LP107": "too many entries in one list or mapping",
    "LP108": "expression too long or nested too deeply",
    "LP109": "lead too large or a lead value too long",
    # LP2xx: shape of the document
    "LP201": "unknown key",
    "LP202": "required key missing",
    "LP203": "wrong type of value",
    "LP204": "invalid value",
    "LP205": "unknown choice",
    "LP206": "not a list, or a list read as one value",
    "LP207": "list field settings do not suit the format",
    # LP3xx: meaning (compile)
    "LP301": "unknown transform",
    "LP302": "invalid transform arguments",
    "LP303": "invalid JMESPath expression",
    "LP304": "unknown lead field",
    "LP305": "invalid regular expression",
    "LP306": "unknown stage or extracted value",
    "LP307": "invalid CSS selector",
    "LP308": "invalid output field path",
    "LP309": "invalid secret reference",
    "LP310": "invalid duration",
    "LP311": "invalid time zone",
    "LP312": "conflicting settings",
    "LP313": "referenced file not found",
    "LP314": "unknown buyer",
    "LP315": "regular expression feature not supported",
    "LP360": "require_valid names a field without a validity",
    "LP361": "WS-Security login without a SOAP envelope",
    # LP4xx: lint (semantic rules)
    "LP401": "inline secret",
    "LP402": "plain http:// in production",
    "LP403": "TLS verification off in production",
    "LP404": "private or loopback address in production",
    "LP405": "PII field sent in a ping",
    "LP406": "translate map does not cover the lead schema's choices",
    "LP407": "substring rule also matches a failure",
    "LP408": "4xx status treated as success",
    "LP409": "stage has no response rules",
    "LP410": "private or local address without allow_private",
    "LP411": "allow_private in production",
    "LP412": "user name or password in a URL",
    "LP413": "address spelled unusually",
    # LP54x: durable delivery
    "LP540": "at_least_once delivery without an idempotency header",
    "LP541": "at_least_once delivery while on_timeout rejects",
    # LP5xx: incoming leads
    "LP501": "required lead field missing",
    "LP502": "lead field has the wrong type",
    "LP503": "invalid phone number",
    "LP504": "invalid email address",
    "LP505": "invalid US state",
    "LP506": "invalid ZIP code",
    "LP507": "invalid date or timestamp",
    "LP508": "invalid TrustedForm certificate URL",
    "LP509": "invalid Jornaya LeadiD token",
    "LP510": "value not among the allowed choices",
    "LP511": "unknown lead field",
    "LP512": "lead is not valid JSON",
    "LP513": "number outside the allowed range",
    "LP514": "list has too few or too many items",
    # LP55x: the service's intake (leadpost serve)
    "LP550": "lead not sent as JSON",
    "LP551": "request body too large",
    "LP552": "unknown campaign",
    "LP553": "API key missing or not valid",
    "LP554": "source may not post to this campaign",
    "LP555": "service overloaded",
    "LP556": "alert rules file problem",
    # LP6xx: embedded test cases
    "LP601": "test case payload differs",
    "LP602": "test case outcome differs",
    "LP603": "test case could not run",
    # LP7xx: the buyer's published spec (LP708 is the generated-leads check)
    "LP701": "spec file cannot be read",
    "LP702": "required property not produced",
    "LP703": "field not in the spec",
    "LP704": "type disagrees with the spec",
    "LP705": "choices not covered by the spec",
    "LP706": "length limit not guaranteed",
    "LP707": "pattern not guaranteed",
    "LP708": "a generated lead breaks the buyer's spec",
    "LP709": "required property may be left out",
    "LP710": "spec is not a valid schema",
    "LP711": "operation or element not found in the spec",
    "LP712": "operation has no request body for the stage's format",
    "LP713": "spec kind does not suit the stage's format",
    "LP714": "test case body breaks the spec",
    "LP330": "list may send more items than the spec allows",
    # LP80x: what a drafted buyer file (leadpost new buyer --from-spec) left to decide
    "LP800": "drafted field not mapped yet",
    "LP801": "drafted translate entry not decided yet",
    "LP802": "drafted production address not filled in",
    "LP803": "test body not recorded yet",
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a user's file or lead, with where it is and how to fix it."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered problem code {self.code!r}")

    def render(self, source: str | None = None) -> str:
        """``file:line:col: LPxxx message`` then, when the text is known, the line and a caret."""
        where = f"{self.span}: " if self.span else ""
        label = "warning " if self.severity == "warning" else ""
        out = f"{where}{label}{self.code} {self.message}"
        if self.hint:
            out += f"\n  hint: {self.hint}"
        if self.span and source is not None:
            out += "\n" + self.span.excerpt(source)
        return out


class LeadpostError(Exception):
    """Base of every error leadpost raises on purpose."""


@dataclass(eq=False)
class AuthoringError(LeadpostError):
    """A user's file is wrong. ``issues`` holds every problem found, in file order."""

    issues: list[Issue] = field(default_factory=list)
    source: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.report())

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def report(self) -> str:
        return "\n".join(i.render(self.source) for i in self.issues)


@dataclass(eq=False)
class LeadError(LeadpostError):
    """An incoming lead does not match the lead schema; ``issues`` names every bad field."""

    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__("; ".join(f"{i.code} {i.message}" for i in self.issues))

    @property
    def reasons(self) -> list[str]:
        return [i.message for i in self.issues]


class RunError(LeadpostError):
    """Something went wrong while handling one lead."""


class MappingError(RunError):
    """The lead cannot be rendered for this buyer; the lead is rejected before anything is sent."""

    def __init__(self, reason: str, *, field: str | None = None, span: Span | None = None):
        self.reason = reason
        self.field = field
        self.span = span
        where = f" (field {field!r}" + (f", {span}" if span else "") + ")" if field else ""
        super().__init__(f"{reason}{where}")


class TransportError(RunError):
    """The request failed on the wire. ``sent`` tells whether the buyer may have received it."""

    def __init__(self, reason: str, *, sent: bool):
        self.reason = reason
        self.sent = sent
        super().__init__(reason)


class UpstreamStatusError(RunError):
    """The buyer answered with an HTTP error status."""

    def __init__(self, status: int, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(f"HTTP {status}: {reason}")


class ExtractionError(RunError):
    """The buyer's response body could not be parsed or a value could not be extracted."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class CircuitOpenError(RunError):
    """The buyer's circuit breaker is open; no request was made."""

    def __init__(self, endpoint: str, retry_at: float):
        self.endpoint = endpoint
        self.retry_at = retry_at
        super().__init__(f"circuit open for {endpoint}")


class AuthFailure(RunError):
    """Credentials could not be obtained (the token endpoint failed, a secret is not set).

    Retryable: nothing reached the buyer, so the lead is queued and tried again later.
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def raise_if_errors(issues: Iterable[Issue], source: str | None = None) -> None:
    """Raise one AuthoringError carrying all issues if any of them is an error."""
    found = list(issues)
    if any(i.severity == "error" for i in found):
        raise AuthoringError(found, source)

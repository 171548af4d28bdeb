"""The shape of a buyer integration file: pydantic models, extra keys forbidden.

These models only describe what may be written. Meaning (lead fields exist, JMESPath parses,
transforms are known, durations read) is checked by the compiler, which reports positions.
Scalars arrive as the text the author wrote, so a value typed ``str`` is never reinterpreted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Outcome = Literal["accepted", "rejected", "duplicate", "error"]
OutputType = Literal["string", "integer", "number", "boolean"]
ErrorClassName = Literal[
    "transport", "unknown", "client_error", "auth", "rate_limited", "server_error", "bad_response"
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, frozen=True)


# ----------------------------------------------------------------------------------------------
# Fields
# ----------------------------------------------------------------------------------------------


class WhenCase(Model):
    """One ``if``/``then`` branch of a conditional field."""

    if_: str = Field(alias="if", description="JMESPath condition over the lead")
    then: FieldSpec | str = Field(description="the field to use when the condition holds")


class FieldSpec(Model):
    """How one output field gets its value. Exactly one source: from, value, concat or when."""

    from_: str | None = Field(None, alias="from", description="lead field, e.g. lead.phone")
    value: str | None = Field(None, description="constant text (may use ${env:NAME})")
    concat: list[FieldSpec | str] | None = Field(
        None, description="lead fields (or {value: text}) joined by `separator`"
    )
    separator: str | None = Field(None, description="text between concat parts (default space)")
    when: list[WhenCase] | None = Field(None, description="conditional: first matching `if` wins")
    else_: FieldSpec | str | None = Field(None, alias="else", description="used when no `if` holds")
    each: str | None = Field(
        None,
        description="a lead list (lead.drivers): send one entry per item; inside, item.NAME "
        "reads the item",
    )
    count: str | None = Field(None, description="the number of kept items of a lead list")
    min: str | None = Field(None, description="the least `of` over the kept items of a lead list")
    max: str | None = Field(
        None, description="the greatest `of` over the kept items of a lead list"
    )
    sum: str | None = Field(
        None, description="the total of the `of` numbers over the kept items of a lead list"
    )
    any: str | None = Field(
        None, description="true when `where` holds for at least one kept item of a lead list"
    )
    all: str | None = Field(
        None, description="true when `where` holds for every kept item of a lead list"
    )
    of: FieldSpec | str | None = Field(
        None,
        description="min, max and sum: the value of one item, e.g. {from: item.dob, "
        "transform: [age]}",
    )

    where: str | None = Field(
        None, description="each and aggregates: keep only the items where this condition holds"
    )
    max_items: Annotated[int, Field(gt=0)] | None = Field(
        None, description="each: send at most this many items"
    )
    extra_items: Literal["drop", "reject"] = Field(
        "drop", description="each: items beyond max_items are left out (drop) or refuse the lead"
    )
    names: str | None = Field(
        None,
        description="each, form and query only: the name of each item's field, e.g. "
        "driver{n}_{name} ({n} counts from 1, {i} from 0)",
    )
    transform: list[str | dict[str, Any]] = Field(
        default_factory=list, description="steps applied in order, e.g. [trim, {phone: dashes}]"
    )
    type: OutputType | None = Field(None, description="output type (JSON): string, integer, …")
    max_length: Annotated[int, Field(gt=0)] | None = None
    too_long: Literal["truncate", "reject"] = "truncate"
    if_missing: Literal["omit", "reject", "null", "empty"] | None = Field(
        None,
        description="when the value is missing: omit the field (default), reject the lead, "
        "null; each only: empty sends an empty list",
    )
    default: str | None = Field(None, description="text used when the value is missing")
    secret: bool | None = Field(
        None,
        description="whether a constant `value` is a secret (lint LP401); by default leadpost "
        "judges by the field's name and the value",
    )
    fields: dict[str, FieldSpec | str] | None = Field(
        None, description="each: the fields of one item (an object per item)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        sources = [
            k
            for k, v in (
                ("from", self.from_),
                ("value", self.value),
                ("concat", self.concat),
                ("when", self.when),
                ("each", self.each),
                ("count", self.count),
                ("min", self.min),
                ("max", self.max),
                ("sum", self.sum),
                ("any", self.any),
                ("all", self.all),
            )
            if v is not None
        ]
        if len(sources) != 1:
            got = " and ".join(sources) if sources else "none"
            raise ValueError(
                "a field needs exactly one of 'from', 'value', 'concat', 'when', 'each' or an "
                f"aggregate ('count', 'min', 'max', 'sum', 'any', 'all') (found {got})"
            )
        source = sources[0]
        listish = source in ("each", *AGGREGATES)
        for key in ("where", "max_items"):
            if getattr(self, key) is not None and not listish:
                raise ValueError(f"'{key}' only applies to 'each' and aggregates")
        for key in ("fields", "names"):
            if getattr(self, key) is not None and source != "each":
                raise ValueError(f"'{key}' only applies to 'each'")
        if self.of is not None and source not in ("min", "max", "sum"):
            raise ValueError("'of' only applies to 'min', 'max' and 'sum'")
        if source in ("min", "max", "sum") and self.of is None:
            raise ValueError(f"'{source}' needs 'of': the value of one item, e.g. of: item.age")
        if source in ("any", "all") and self.where is None:
            raise ValueError(f"'{source}' needs 'where': the condition an item meets")
        if self.separator is not None and self.concat is None:
            raise ValueError("'separator' only applies to 'concat'")
        if self.else_ is not None and self.when is None:
            raise ValueError("'else' only applies to 'when'")
        if self.if_missing == "empty" and source != "each":
            raise ValueError(
                "'if_missing: empty' sends an empty list, so it only applies to 'each'; "
                "write if_missing: null to send an empty value"
            )
        if self.default is not None and self.if_missing is not None:
            raise ValueError("use either 'default' or 'if_missing', not both")
        return self


Fields = dict[str, FieldSpec | str]

#: The aggregates over a lead list's kept items, usable in pings (they identify no one).
AGGREGATES = ("count", "min", "max", "sum", "any", "all")

# ----------------------------------------------------------------------------------------------
# Payload formats
# ----------------------------------------------------------------------------------------------


class XmlOptions(Model):
    root: str = Field(description="root element, e.g. Lead or soap:Envelope")
    declaration: bool = True
    encoding: str = "UTF-8"
    unencodable: Literal["transliterate", "remove", "reject"] = "transliterate"
    namespaces: dict[str, str] = Field(default_factory=dict, description="prefix: URI")
    default_namespace: str | None = None


class WrapInForm(Model):
    """Send the whole document inside one form field, e.g. ``key=…&xml=<lead…>``."""

    field: str
    fields: Fields = Field(default_factory=dict, description="the other form fields")


class Timeouts(Model):
    connect: str | None = None
    read: str | None = None
    total: str | None = None


# ----------------------------------------------------------------------------------------------
# Responses
# ----------------------------------------------------------------------------------------------


class Rule(Model):
    """One response rule: if every condition given holds, the outcome is decided."""

    status: int | str | list[int | str] | None = Field(
        None, description="200, '2xx' or a list; without it the rule applies to 2xx only"
    )
    if_: str | None = Field(None, alias="if", description="JMESPath over the JSON/XML body")
    match: str | None = Field(None, description="regular expression over the text body")
    select: str | None = Field(None, description="CSS selector that must match (HTML body)")
    contains: str | None = Field(None, description="text the body contains (prefer `if`)")
    outcome: Outcome
    reason: str | None = Field(None, description="reason recorded when this rule decides")


class ResponseSpec(Model):
    body: Literal["json", "xml", "html", "text"] = Field(
        "json", description="how to read the body, whatever the Content-Type says"
    )
    lenient_xml: bool = Field(False, description="recover from slightly malformed XML")
    rules: list[Rule] = Field(default_factory=list)
    otherwise: Outcome = Field("error", description="outcome of a 2xx that no rule matched")
    extract: dict[str, str] = Field(
        default_factory=dict, description="name: expression (buyer_lead_id, price, ping_id, …)"
    )


# ----------------------------------------------------------------------------------------------
# Stages
# ----------------------------------------------------------------------------------------------


class ContractSpec(Model):
    """The buyer's published spec for one stage's payload: exactly one of json_schema, openapi
    (with ``operation``) or xsd. Paths are relative to the buyer file's folder."""

    json_schema: str | None = Field(None, description="a JSON Schema file (draft 2020-12)")
    openapi: str | None = Field(None, description="an OpenAPI 3 document (JSON or YAML)")
    operation: str | None = Field(None, description="the OpenAPI operationId of this stage")
    xsd: str | None = Field(None, description="an XML Schema (XSD) file")
    element: str | None = Field(None, description="XSD: the global element of the payload")

    @model_validator(mode="after")
    def _one_kind(self) -> ContractSpec:
        kinds = [k for k in ("json_schema", "openapi", "xsd") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("name exactly one spec file: 'json_schema', 'openapi' or 'xsd'")
        if (self.openapi is None) != (self.operation is None):
            raise ValueError(
                "'openapi' and 'operation' go together: the document and its operationId"
            )
        if self.element is not None and self.xsd is None:
            raise ValueError("'element' only applies to an 'xsd' spec")
        return self


class StageSpec(Model):
    method: Literal["POST", "GET", "PUT", "PATCH"] = "POST"
    path: str = ""
    format: Literal["json", "xml", "form", "query"] = "json"
    xml: XmlOptions | None = None
    wrap_in_form: WrapInForm | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Timeouts = Field(default_factory=Timeouts)
    fields: Fields
    response: ResponseSpec = Field(default_factory=ResponseSpec)
    spec: ContractSpec | None = Field(None, description="the buyer's published spec of the payload")

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _format_options(self) -> StageSpec:
        if self.format == "xml" and self.xml is None:
            raise ValueError("format xml needs an 'xml' section with at least 'root'")
        if self.format != "xml" and self.xml is not None:
            raise ValueError("an 'xml' section only applies to format xml")
        if self.wrap_in_form is not None and self.format not in ("xml", "json"):
            raise ValueError("'wrap_in_form' carries an xml or json document")
        return self


class Stages(Model):
    ping: StageSpec | None = None
    post: StageSpec


# ----------------------------------------------------------------------------------------------
# Auth and environments
# ----------------------------------------------------------------------------------------------


class NoAuthSpec(Model):
    type: Literal["none"]


class ApiKeySpec(Model):
    type: Literal["api_key"]
    header: str | None = None
    query: str | None = None
    key: str
    prefix: str = ""

    @model_validator(mode="after")
    def _where(self) -> ApiKeySpec:
        if (self.header is None) == (self.query is None):
            raise ValueError("an api_key goes in exactly one place: 'header' or 'query'")
        return self


class BasicSpec(Model):
    type: Literal["basic"]
    username: str
    password: str


class BearerSpec(Model):
    type: Literal["bearer"]
    token: str


class OAuth2Spec(Model):
    type: Literal["oauth2"]
    token_url: str
    client_id: str
    client_secret: str
    scopes: list[str] = Field(default_factory=list)
    client_auth: Literal["body", "basic"] = "body"


class WsseSpec(Model):
    """OASIS WS-Security UsernameToken in the SOAP header (SOAP stages only)."""

    type: Literal["wsse_username_token"]
    username: str
    password: str = Field(description="read from the environment: ${env:NAME}")
    digest: bool = Field(
        True, description="send a PasswordDigest (true) or the password as text (false)"
    )
    timestamp: str | None = Field(
        None, description="add a wsu:Timestamp valid this long, e.g. 5m (default: none)"
    )
    must_understand: bool = Field(True, description='mark the header mustUnderstand="1"')


AuthSpec = Annotated[
    NoAuthSpec | ApiKeySpec | BasicSpec | BearerSpec | OAuth2Spec | WsseSpec,
    Field(discriminator="type"),
]


ForcedOutcome = Literal[
    "transport",
    "unknown",
    "client_error",
    "auth",
    "rate_limited",
    "server_error",
    "bad_response",
    "rejected",
    "duplicate",
    "timeout",
]


class ForceFailureSpec(Model):
    """A failure the buyer's test environment produces on request (``leadpost preflight``)."""

    headers: dict[str, str] = Field(default_factory=dict, description="headers asking for it")
    query: dict[str, str] = Field(default_factory=dict, description="query parameters asking")
    stage: Literal["ping", "post"] | None = Field(None, description="default: the post")
    expect: ForcedOutcome = Field(description="the outcome class expected, or timeout")

    @model_validator(mode="after")
    def _asks(self) -> ForceFailureSpec:
        if not self.headers and not self.query:
            raise ValueError("a forced failure needs 'headers' or 'query' saying how to ask for it")
        return self


class EnvironmentSpec(Model):
    url: str
    tls_verify: bool = True
    http2: bool = False
    proxy: str | None = None
    source_address: str | None = None
    token_url: str | None = None
    force_failure: list[ForceFailureSpec] = Field(
        default_factory=list, description="failures the test environment makes on request"
    )
    allow_private: bool = Field(
        False, description="a test environment may reach private and loopback addresses"
    )


# ----------------------------------------------------------------------------------------------
# Resilience and eligibility
# ----------------------------------------------------------------------------------------------


DEFAULT_RETRY_ON: tuple[ErrorClassName, ...] = ("transport", "server_error", "rate_limited", "auth")


class RetrySpec(Model):
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    interval: str = "2s"
    backoff_rate: Annotated[float, Field(ge=1.0, le=10.0)] = 2.0
    max_delay: str = "60s"
    jitter: Literal["full", "none"] = "full"
    retry_on: list[ErrorClassName] = Field(default_factory=lambda: list(DEFAULT_RETRY_ON))
    on_timeout: Literal["unknown", "retry", "reject"] = "unknown"
    max_wait: str = "5s"
    give_up_after: str = "1h"


class BreakerSpec(Model):
    consecutive_failures: Annotated[int, Field(ge=1)] = 10
    failure_rate: str = "50%"
    window: str = "5m"
    min_requests: Annotated[int, Field(ge=1)] = 20
    cooldown: str = "60s"


class FilterSpec(Model):
    states: list[str] | None = None
    zips: list[str] | None = None
    when: str | None = Field(None, description="JMESPath condition the lead must satisfy")
    require_valid: list[str] | None = Field(
        None, description="phone and email fields that must be valid, e.g. [lead.phone]"
    )


class CapsSpec(Model):
    per_hour: Annotated[int, Field(ge=0)] | None = None
    per_day: Annotated[int, Field(ge=0)] | None = None
    per_month: Annotated[int, Field(ge=0)] | None = None
    spend_per_day: str | None = None


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleSpec(Model):
    timezone: str
    days: list[Day] = Field(default_factory=lambda: list(ALL_DAYS))
    hours: list[str] = Field(default_factory=lambda: ["00:00-24:00"], description="'08:00-20:00'")

    @field_validator("days", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return [d.lower() if isinstance(d, str) else d for d in v] if isinstance(v, list) else v


# ----------------------------------------------------------------------------------------------
# Embedded tests
# ----------------------------------------------------------------------------------------------


class SampleResponseSpec(Model):
    status: Annotated[int, Field(ge=100, le=599)] = 200
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""


class TestCaseSpec(Model):
    __test__ = False

    name: str
    stage: Literal["ping", "post"] = "post"
    env: str = "test"
    lead: str | dict[str, Any] | None = Field(None, description="lead file path or inline lead")
    prior: dict[str, dict[str, str]] = Field(default_factory=dict)
    expect_body: str | None = None
    expect_reject: str | None = None
    expect_excluded: str | None = None
    response: SampleResponseSpec | None = None
    expect: dict[str, str | None] | None = Field(None, description="outcome and extracted values")

    @model_validator(mode="after")
    def _something_to_check(self) -> TestCaseSpec:
        lead_checks = (self.expect_body, self.expect_reject, self.expect_excluded)
        if all(c is None for c in lead_checks) and self.expect is None:
            raise ValueError(
                "a test needs 'expect_body', 'expect_reject', 'expect_excluded' or 'expect'"
            )
        if any(c is not None for c in lead_checks) and self.lead is None:
            raise ValueError("'expect_body', 'expect_reject' and 'expect_excluded' need a 'lead'")
        if self.expect is not None and self.response is None:
            raise ValueError("'expect' needs a sample 'response'")
        if self.expect is not None and "outcome" not in self.expect:
            raise ValueError("'expect' must name the 'outcome'")
        return self


# ----------------------------------------------------------------------------------------------
# The file
# ----------------------------------------------------------------------------------------------


class IntegrationSpec(Model):
    """One buyer integration file."""

    buyer: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")] = Field(
        description="short id: lowercase letters, digits and dashes"
    )
    name: str
    version: str
    description: str | None = None
    environments: dict[str, EnvironmentSpec]
    auth: AuthSpec = Field(default_factory=lambda: NoAuthSpec(type="none"))
    headers: dict[str, str] = Field(default_factory=dict)
    idempotency_header: str | None = "Idempotency-Key"
    delivery: Literal["at_most_once", "at_least_once"] = Field(
        "at_most_once",
        description="a post whose answer was lost when leadpost stopped: at_most_once parks it"
        " for an operator; at_least_once sends it again with the same idempotency key",
    )
    concurrency: Annotated[int, Field(ge=1, le=1000)] = 20
    price: str | None = Field(None, description="fixed price per accepted lead, e.g. 35.00")
    retry: RetrySpec = Field(default_factory=RetrySpec)
    circuit_breaker: BreakerSpec = Field(default_factory=BreakerSpec)
    filters: FilterSpec | None = None
    caps: CapsSpec | None = None
    schedule: ScheduleSpec | None = None
    stages: Stages
    tests: list[TestCaseSpec] = Field(default_factory=list)

    @field_validator("environments")
    @classmethod
    def _has_env(cls, v: dict[str, EnvironmentSpec]) -> dict[str, EnvironmentSpec]:
        if not v:
            raise ValueError("declare at least one environment, e.g. 'test' with its url")
        return v


WhenCase.model_rebuild()
FieldSpec.model_rebuild()

"""Hide personal data and secrets in what is logged or shown: bodies, headers, URLs, reasons.

Values of fields marked ``pii`` are replaced by a short mask that still helps a person
recognise a record ("J***", "***0142", "j***@gmail.com"); the request body is re-encoded with
the masked values so it keeps its format. Any text (a response body, a buyer's reason) is
scrubbed of every personal value the lead supplied. Secrets never appear: auth headers show
their scheme only, secret headers show their ``${env:NAME}`` reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from engine.plan import OMIT, ApiKeyAuth, IntegrationPlan, RenderContext, Rows, StagePlan

#: Bodies in logs and outcomes are cut to this many characters.
BODY_LIMIT = 4096
HIDDEN = "***"
#: Headers whose value is always hidden, whatever the buyer file says.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)

_EMAIL = re.compile(r"([^@\s]+)@([^@\s]+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")
_PHONE_CHARS = re.compile(r"[\d\s()+.\-]+")


def mask_value(value: Any) -> Any:
    """A recognisable but harmless stand-in for one personal value.

    ``"john.smith@gmail.com"`` → ``"j***@gmail.com"``; ``"(512) 555-0142"`` → ``"***0142"``;
    ``"John"`` → ``"J***"``; dates and numbers → ``"***"``. OMIT, None and booleans are kept.
    """
    if value is OMIT or value is None or isinstance(value, bool):
        return value
    if isinstance(value, Rows):  # a list field: every item's values masked
        return Rows(
            tuple(mask_value(v) for v in row) if isinstance(row, tuple) else mask_value(row)
            for row in value
        )
    if isinstance(value, int | float | Decimal):
        return HIDDEN
    text = str(value).strip()
    if not text:
        return value
    email = _EMAIL.fullmatch(text)
    if email:
        return f"{email.group(1)[0]}{HIDDEN}@{email.group(2)}"
    if _DATE.fullmatch(text):
        return HIDDEN
    digits = re.sub(r"\D", "", text)
    if _PHONE_CHARS.fullmatch(text) and len(digits) >= 7:
        return HIDDEN + digits[-4:]
    return text[0] + HIDDEN


def cut(text: str, limit: int = BODY_LIMIT) -> str:
    """``text`` limited to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (cut: {len(text) - limit} more characters)"


def decode(body: bytes) -> str:
    """Body bytes as text for a log (UTF-8, unreadable bytes shown as escapes)."""
    return body.decode("utf-8", "backslashreplace")


def _lead_values(lead: Mapping[str, Any], dotted: str) -> list[Any]:
    """The values at ``dotted``: one, or one per item when the path goes through lists."""
    nodes: list[Any] = [lead]
    for part in dotted.split("."):
        nodes = [n for node in nodes for n in (node if isinstance(node, list) else [node])]
        nodes = [n[part] for n in nodes if isinstance(n, Mapping) and part in n]
    return [v for n in nodes for v in (n if isinstance(n, list) else [n])]


def _flat(value: Any) -> list[Any]:
    """A rendered value's scalars (a list field's items' values, at every depth)."""
    if isinstance(value, tuple):
        return [v for item in value for v in _flat(item)]
    return [value]


class Scrubber:
    """Replaces every occurrence of known personal values in a text by their masks.

    The pattern is compiled at the first text that contains one of the values (for ASCII
    texts and values, found by a plain substring search first): most texts scrubbed — a body
    whose fields are masked already, a buyer's answer that does not echo the lead — contain
    none, and compiling a pattern of this lead's values cost more than the rest of recording
    the attempt."""

    __slots__ = ("_ascii", "_masks", "_pattern")

    def __init__(self, values: Iterable[Any]) -> None:
        masks: dict[str, str] = {}
        for value in values:
            if value is OMIT or value is None or isinstance(value, bool):
                continue
            text = str(value).strip()
            if len(text) >= 3:
                masks[text.lower()] = str(mask_value(text))
        self._masks = masks
        self._pattern: re.Pattern[str] | None = None
        self._ascii = all(value.isascii() for value in masks)
        """The substring pre-check is exact only for ASCII: re.IGNORECASE also pairs ı, İ, ſ,
        ς and the Kelvin sign with ASCII letters, which str.lower() does not."""

    def __bool__(self) -> bool:
        return bool(self._masks)

    def __call__(self, text: str) -> str:
        if not self._masks:
            return text
        if self._ascii and text.isascii():
            lowered = text.lower()
            if not any(value in lowered for value in self._masks):
                return text
        pattern = self._pattern
        if pattern is None:
            ordered = sorted(self._masks, key=len, reverse=True)
            body = "|".join(re.escape(t) for t in ordered)
            pattern = self._pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)
        masks = self._masks
        return pattern.sub(lambda m: masks.get(m.group(0).lower(), HIDDEN), text)

    @classmethod
    def for_stage(
        cls, stage: StagePlan, ctx: RenderContext, values: Sequence[Any] | None = None
    ) -> Scrubber:
        """A scrubber for the personal values a stage reads from the lead, and (when given)
        the values it computed from them."""
        found: list[Any] = []
        fields = stage.request.fields
        for i, f in enumerate(fields):
            if not f.pii:
                continue
            found += [v for path in f.reads for v in _lead_values(ctx.lead, path)]
            if values is not None and i < len(values):
                found += _flat(values[i])
        return cls(found)


def masked_body(stage: StagePlan, values: Sequence[Any]) -> bytes | None:
    """The stage's body encoded with personal values masked; None when the encoder refuses the
    masks (the caller then hides the body)."""
    fields = stage.request.fields
    masked = [mask_value(v) if f.pii else v for f, v in zip(fields, values, strict=True)]
    try:
        return stage.request.encoder.encode(masked)
    except Exception:
        return None


def secret_header_names(plan: IntegrationPlan, stage: StagePlan) -> dict[str, str]:
    """Lower-case names of headers carrying secrets, with the text to show instead."""
    names = dict.fromkeys(SECRET_HEADERS, HIDDEN)
    for name, template in stage.request.headers:
        if template.is_secret:
            names[name.lower()] = template.masked()
    auth = plan.auth
    if isinstance(auth, ApiKeyAuth) and auth.location == "header":
        names[auth.name.lower()] = auth.prefix + auth.key.masked()
    return names


def mask_headers(
    headers: Iterable[tuple[str, str]], secret: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """Headers with secret values replaced; an Authorization header keeps its scheme."""
    if not secret:  # nothing to hide (a buyer without header credentials): as they are
        return headers if isinstance(headers, tuple) else tuple(headers)
    out = []
    for name, value in headers:
        lower = name.lower()
        shown = secret.get(lower)
        if shown == HIDDEN and lower in ("authorization", "proxy-authorization"):
            scheme = value.strip().split(" ", 1)[0] if " " in value.strip() else ""
            shown = f"{scheme} {HIDDEN}".strip()
        out.append((name, value if shown is None else shown))
    return tuple(out)


def mask_url(url: str, plan: IntegrationPlan, scrub: Scrubber) -> str:
    """The URL with an API key sent as a query parameter hidden and personal values masked."""
    if "?" not in url:  # no query: nothing to hide (the common case, without parsing)
        return url
    auth = plan.auth
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret = auth.name if isinstance(auth, ApiKeyAuth) and auth.location == "query" else None
    masked = [(k, HIDDEN if k == secret else scrub(v)) for k, v in pairs]
    if masked == pairs:
        return url
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*")))

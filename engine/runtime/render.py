"""Render one stage of one lead into the exact HTTP request: pure, shared by CLI and runtime."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

from engine.errors import MappingError
from engine.frozen import frozen
from engine.plan import (
    OMIT,
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    EnvironmentPlan,
    IntegrationPlan,
    OAuth2Auth,
    RenderContext,
    Template,
)
from engine.runtime import wsse


@frozen
class RenderedRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str | None
    payload: bytes = b""
    """The encoded fields: the body, or the query string of a ``format: query`` stage."""


class MaskedEnviron(Mapping[str, str]):
    """An environment where every variable reads as its own ``${env:NAME}`` reference."""

    def __getitem__(self, name: str) -> str:
        return f"${{env:{name}}}"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def idempotency_key(lead_id: str, buyer: str, stage: str) -> str:
    """The key a buyer may deduplicate on: the same for every attempt of one stage of one lead
    to one buyer, so a resent post (retry, at-least-once redelivery) is recognisably the same."""
    return f"{lead_id}:{buyer}:{stage}"


def render_values(plan: IntegrationPlan, stage: str, ctx: RenderContext) -> list[object]:
    """Compute every field of the stage, in file order (OMIT for left-out fields)."""
    request = plan.stages[stage].request
    if request.render is not None:
        return request.render(ctx)
    return [f.compute(ctx) for f in request.fields]


def _text(t: Template, environ: Mapping[str, str], mask: bool) -> str:
    if mask:
        return t.masked()
    try:
        return t.resolve(environ)
    except KeyError as exc:
        raise MappingError(f"environment variable {exc.args[0]} is not set") from None


def render_request(
    plan: IntegrationPlan,
    stage: str,
    ctx: RenderContext,
    env: str,
    *,
    lead_id: str | None = None,
    mask: bool = False,
    with_auth: bool = False,
    values: Sequence[object] | None = None,
) -> RenderedRequest:
    """The request for ``stage`` in environment ``env``.

    ``values`` are the stage's field values when the caller computed them already (from
    :func:`render_values` with the same context). ``mask`` shows secrets as ``${env:NAME}``;
    ``with_auth`` adds the static auth headers (for display: the runtime applies auth through
    an httpx.Auth flow instead). Raises MappingError when the lead cannot be rendered for this
    buyer.
    """
    environment = plan.environments[env]
    request = plan.stages[stage].request
    if mask:
        ctx = dataclasses.replace(ctx, environ=MaskedEnviron())
    if values is None or mask:  # masking changes constants that read ${env:...}
        values = render_values(plan, stage, ctx)
    body = payload = request.encoder.encode(values)
    body = wsse.secure(plan, request, body, ctx, mask)  # a SOAP login made for this send
    headers: list[tuple[str, str]] = [
        (name, _text(t, ctx.environ, mask)) for name, t in request.headers
    ]
    query: list[tuple[str, str]] = []
    content_type: str | None = request.encoder.content_type
    if request.in_query:
        query_text = body.decode("ascii")
        body, content_type = b"", None
    else:
        query_text = ""
    if lead_id is not None and plan.idempotency_header:
        headers.append((plan.idempotency_header, idempotency_key(lead_id, plan.buyer, stage)))
    if with_auth:
        _auth_preview(plan, environment, headers, query, ctx.environ, mask)
    if content_type is not None and not any(h.lower() == "content-type" for h, _ in headers):
        headers.append(("Content-Type", content_type))
    url = environment.url.rstrip("/") + request.path if request.path else environment.url
    if query_text or query:  # most requests add nothing to the address: leave it as written
        parts = urlsplit(url)
        extra = "&".join(p for p in (query_text, urlencode(query)) if p)
        full_query = "&".join(p for p in (parts.query, extra) if p)
        url = urlunsplit(parts._replace(query=full_query))
    return RenderedRequest(request.method, url, tuple(headers), body, content_type, payload)


def _auth_preview(
    plan: IntegrationPlan,
    environment: EnvironmentPlan,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    environ: Mapping[str, str],
    mask: bool,
) -> None:
    auth = plan.auth
    if isinstance(auth, ApiKeyAuth):
        value = auth.prefix + _text(auth.key, environ, mask)
        (headers if auth.location == "header" else query).append((auth.name, value))
    elif isinstance(auth, BasicAuth):
        user = _text(auth.username, environ, mask)
        password = _text(auth.password, environ, mask)
        if mask:
            headers.append(("Authorization", f"Basic base64({user}:{password})"))
        else:
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            headers.append(("Authorization", f"Basic {token}"))
    elif isinstance(auth, BearerAuth):
        headers.append(("Authorization", "Bearer " + _text(auth.token, environ, mask)))
    elif isinstance(auth, OAuth2Auth):
        token_url = environment.token_url or auth.token_url
        headers.append(("Authorization", f"Bearer <access token from {token_url}>"))


__all__ = ["OMIT", "RenderedRequest", "render_request", "render_values"]

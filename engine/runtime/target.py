"""What every attempt at one buyer's stage in one environment needs, worked out once.

The executor sends the same stage of the same buyer thousands of times; everything that depends
only on the plan (the client, the auth flow, the timeouts, the names of secret headers, which
fields are personal, which secrets must be set, the parsed URL) is computed at first use and kept
in a :class:`Target`. Nothing here depends on a lead, so nothing personal is kept.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Any

import httpx

from engine.plan import (
    EnvironmentPlan,
    FieldPlan,
    IntegrationPlan,
    OAuth2Auth,
    SecretRef,
    StagePlan,
    Template,
)
from engine.runtime.auth import StaticAuth
from engine.runtime.masking import secret_header_names

#: The flow handed to httpx when the executor applied the credentials itself (or there are
#: none): httpx runs an auth flow for every request, and this one adds nothing.
NO_AUTH = httpx.Auth()


def secret_names(plan: IntegrationPlan) -> tuple[str, ...]:
    """The ``${env:NAME}`` names the auth settings read, in field order."""
    names: list[str] = []
    for f in dataclasses.fields(plan.auth):
        value = getattr(plan.auth, f.name)
        if isinstance(value, Template):
            names += [p.name for p in value.parts if isinstance(p, SecretRef)]
    return tuple(names)


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_http_problem(plan: IntegrationPlan, environment: EnvironmentPlan) -> str | None:
    """Why this environment may not be used: an address that cannot be read, or plain http://
    to a host other than this machine (leads and credentials would cross the network
    unencrypted). None when it is fine."""
    urls = [environment.url]
    if isinstance(plan.auth, OAuth2Auth):
        urls.append(environment.token_url or plan.auth.token_url)
    for text in urls:
        try:
            url = httpx.URL(text)
        except httpx.InvalidURL as exc:
            return f"{text} cannot be used as a web address ({exc})"
        if url.scheme == "http" and not _loopback(url.host):
            return (
                f"{text} is plain http:// to another machine; leads and credentials would travel "
                "unencrypted. Use https:// (http:// is only for a buyer simulated on 127.0.0.1)"
            )
    return None


@dataclass(slots=True, eq=False)
class Target:
    """One buyer's stage in one environment, ready to send (one per plan, stage, environment)."""

    plan: IntegrationPlan
    stage: StagePlan
    environment: EnvironmentPlan
    client: httpx.AsyncClient
    auth: httpx.Auth
    """The flow passed to ``client.send``: the OAuth flow, or :data:`NO_AUTH`."""
    static: StaticAuth | None
    """Fixed credentials the executor adds to the request itself before sending."""
    breaker_name: str
    extensions: dict[str, Any]
    """httpx request extensions: the stage's connect/read/pool timeouts."""
    secret_headers: dict[str, str]
    """Lower-case names of headers carrying secrets, with the text shown instead."""
    pii_fields: tuple[FieldPlan, ...]
    secrets: tuple[str, ...]
    """Environment variables the auth settings need."""
    insecure: str | None
    """Why the environment may not be sent to (plain http:// off this machine), or None."""
    _url_text: str | None = None
    _url: httpx.URL | None = None

    @classmethod
    def build(
        cls,
        plan: IntegrationPlan,
        stage: StagePlan,
        environment: EnvironmentPlan,
        client: httpx.AsyncClient,
        auth: httpx.Auth,
    ) -> Target:
        timeouts = stage.request.timeouts
        timeout = httpx.Timeout(timeouts.read, connect=timeouts.connect, pool=timeouts.connect)
        static = auth if isinstance(auth, StaticAuth) else None
        return cls(
            plan=plan,
            stage=stage,
            environment=environment,
            client=client,
            auth=auth if isinstance(plan.auth, OAuth2Auth) else NO_AUTH,
            static=static,
            breaker_name=f"{plan.buyer}/{environment.name}",
            extensions={"timeout": timeout.as_dict()},
            secret_headers=secret_header_names(plan, stage),
            pii_fields=tuple(f for f in stage.request.fields if f.pii),
            secrets=secret_names(plan),
            insecure=plain_http_problem(plan, environment),
        )

    @property
    def tracked(self) -> bool:
        """True when the auth flow may wait (an OAuth token fetch) before the request leaves."""
        return self.auth is not NO_AUTH

    def url(self, text: str) -> httpx.URL:
        """``text`` parsed (raises httpx.InvalidURL). A URL without a query is the same for
        every lead, so the last one is kept; a query may carry lead data and is never kept."""
        if text == self._url_text and self._url is not None:
            return self._url
        url = httpx.URL(text)
        if not url.query:
            self._url_text, self._url = text, url
        return url

    def missing_secret(self, environ: Any) -> str | None:
        """The first secret of the auth settings not set in ``environ``, if any."""
        for name in self.secrets:
            if name not in environ:
                return name
        return None

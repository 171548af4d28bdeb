"""What every attempt at one buyer's stage in one environment needs, worked out once.

The executor sends the same stage of the same buyer thousands of times; everything that depends
only on the plan (the wire, the credentials, the timeouts, the names of secret headers, which
fields are personal, which secrets must be set) is computed at first use and kept in a
:class:`Target`. Nothing here depends on a lead, so nothing personal is kept.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engine.plan import (
    EnvironmentPlan,
    FieldPlan,
    IntegrationPlan,
    OAuth2Auth,
    SecretRef,
    StagePlan,
    Template,
)
from engine.runtime.auth import OAuth2ClientCredentials, StaticAuth
from engine.runtime.masking import secret_header_names
from engine.runtime.wire import Wire


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
    """Why this environment may not be used: plain http:// to a host other than this machine
    (leads and credentials would cross the network unencrypted). None when it is fine."""
    urls = [environment.url]
    if isinstance(plan.auth, OAuth2Auth):
        urls.append(environment.token_url or plan.auth.token_url)
    for text in urls:
        url = urlsplit(text)
        if url.scheme == "http" and not _loopback(url.hostname or ""):
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
    wire: Wire
    static: StaticAuth | None
    """Fixed credentials (headers or query parameters) added to every request."""
    oauth: OAuth2ClientCredentials | None
    """OAuth credentials: a bearer header from the token cache, refreshed once on a 401."""
    breaker_name: str
    secret_headers: dict[str, str]
    """Lower-case names of headers carrying secrets, with the text shown instead."""
    pii_fields: tuple[FieldPlan, ...]
    secrets: tuple[str, ...]
    """Environment variables the auth settings need."""
    insecure: str | None
    """Why the environment may not be sent to (plain http:// off this machine), or None."""

    @classmethod
    def build(
        cls,
        plan: IntegrationPlan,
        stage: StagePlan,
        environment: EnvironmentPlan,
        wire: Wire,
        auth: object,
    ) -> Target:
        return cls(
            plan=plan,
            stage=stage,
            environment=environment,
            wire=wire,
            static=auth if isinstance(auth, StaticAuth) else None,
            oauth=auth if isinstance(auth, OAuth2ClientCredentials) else None,
            breaker_name=f"{plan.buyer}/{environment.name}",
            secret_headers=secret_header_names(plan, stage),
            pii_fields=tuple(f for f in stage.request.fields if f.pii),
            secrets=secret_names(plan),
            insecure=plain_http_problem(plan, environment),
        )

    def missing_secret(self, environ: Any) -> str | None:
        """The first secret of the auth settings not set in ``environ``, if any."""
        for name in self.secrets:
            if name not in environ:
                return name
        return None

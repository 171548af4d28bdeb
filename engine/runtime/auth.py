"""httpx auth flows built from auth plans: static keys, basic, bearer, OAuth 2.0 client credentials.

Secrets are read from the environment when the first request is sent, never at import or
compile time; a missing variable is an :class:`~engine.errors.AuthFailure` (retryable: the lead
is queued, never lost). OAuth tokens live in a shared :class:`TokenCache` keyed by token URL,
client id, scope and a fingerprint of the secret, so two credentials never share a token. The
logger ``leadpost.auth`` records token requests and refreshes, never a secret or a token.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import os
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field

import anyio
import httpx

from engine.clock import Clock
from engine.errors import AuthFailure
from engine.plan import (
    ApiKeyAuth,
    AuthPlan,
    BasicAuth,
    BearerAuth,
    EnvironmentPlan,
    OAuth2Auth,
    Template,
)

log = logging.getLogger("leadpost.auth")

#: Lifetime assumed when the token endpoint does not say (``expires_in`` absent or unreadable).
DEFAULT_EXPIRES_IN = 3600.0
#: A token is refreshed ahead of time once less than this share of its lifetime remains.
REFRESH_SHARE = 0.1
_SALT = os.urandom(16)
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _resolve(template: Template, environ: Mapping[str, str], what: str) -> str:
    try:
        return template.resolve(environ)
    except KeyError as exc:
        raise AuthFailure(
            f"the environment variable {exc.args[0]} is not set; set it to the {what}"
            " and restart leadpost"
        ) from None


class StaticAuth(httpx.Auth):
    """Fixed credentials added to every request: an API key (header or query parameter),
    HTTP Basic, or a bearer token."""

    def __init__(self, plan: ApiKeyAuth | BasicAuth | BearerAuth, environ: Mapping[str, str]):
        self.plan = plan
        self._environ = environ
        self._headers: dict[str, str] | None = None
        self._params: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"StaticAuth({self.plan.kind})"

    def _build(self) -> dict[str, str]:
        plan, env = self.plan, self._environ
        if isinstance(plan, ApiKeyAuth):
            key = _resolve(plan.key, env, f"API key ({plan.key.masked()})")
            if plan.location == "query":
                self._params = {plan.name: key}
                return {}
            return {plan.name: plan.prefix + key}
        if isinstance(plan, BasicAuth):
            user = _resolve(plan.username, env, "user name")
            password = _resolve(plan.password, env, "password")
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            return {"Authorization": f"Basic {pair}"}
        return {"Authorization": "Bearer " + _resolve(plan.token, env, "bearer token")}

    def parts(self) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, query parameters) that carry the credentials, built once per buyer and
        environment (raises AuthFailure when a secret is not set)."""
        if self._headers is None:
            self._headers = self._build()
        return self._headers, self._params

    def apply(self, request: httpx.Request) -> None:
        """Add the credentials to an httpx request (raises AuthFailure when a secret is not
        set)."""
        self.parts()
        if self._headers:
            request.headers.update(self._headers)
        if self._params:
            request.url = request.url.copy_merge_params(self._params)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.apply(request)
        yield request


@dataclass(frozen=True, slots=True)
class TokenKey:
    """Which credentials a cached token belongs to."""

    token_url: str
    client_id: str
    scope: str
    secret_digest: bytes = field(repr=False)
    """A salted hash of the client secret: a rotated or different secret gets its own token."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str = field(repr=False)
    obtained_at: float
    """Clock time when the token request was sent (expiry is measured from then)."""
    expires_at: float

    def refresh_due(self, now: float) -> bool:
        """True once less than ``REFRESH_SHARE`` of the lifetime remains."""
        return now >= self.expires_at - REFRESH_SHARE * (self.expires_at - self.obtained_at)

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


#: Fetches a new token: returns (access token, lifetime in seconds) or raises AuthFailure.
Fetch = Callable[[], Awaitable[tuple[str, float]]]


class TokenCache:
    """Access tokens shared by every request using the same credentials, one fetch at a time.

    A hundred concurrent requests without a token wait for one fetch. A token due for refresh
    but not expired keeps being used by other requests while one request refreshes it; if that
    refresh fails, the current token is used until it really expires.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._tokens: dict[TokenKey, AccessToken] = {}
        self._locks: dict[TokenKey, anyio.Lock] = {}
        self.fetched = 0
        """Tokens fetched (first ones and refreshes), for metrics."""
        self.failed = 0
        """Fetches that failed, for metrics."""

    def __len__(self) -> int:
        return len(self._tokens)

    def peek(self, key: TokenKey) -> AccessToken | None:
        return self._tokens.get(key)

    def invalidate(self, key: TokenKey, token: AccessToken) -> bool:
        """Drop ``token`` if it is still the cached one (a later token is kept)."""
        if self._tokens.get(key) is token:
            del self._tokens[key]
            return True
        return False

    async def get(self, key: TokenKey, fetch: Fetch) -> AccessToken:
        token = self._tokens.get(key)
        if token is not None and not token.refresh_due(self.clock.now()):
            return token
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = anyio.Lock()
        if token is not None and not token.expired(self.clock.now()) and lock.locked():
            return token
        async with lock:
            token = self._tokens.get(key)
            started = self.clock.now()
            if token is not None and not token.refresh_due(started):
                return token
            try:
                value, lifetime = await fetch()
            except AuthFailure:
                self.failed += 1
                if token is not None and not token.expired(self.clock.now()):
                    log.warning("keeping the current access token until it expires")
                    return token
                raise
            token = AccessToken(value, started, started + lifetime)
            self._tokens[key] = token
            self.fetched += 1
            return token


def _lifetime(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return DEFAULT_EXPIRES_IN
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_EXPIRES_IN
    return max(seconds, 1.0) if math.isfinite(seconds) else DEFAULT_EXPIRES_IN


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials: a cached bearer token; on a 401 from the buyer the token
    is dropped, fetched once more, and the request is sent once more."""

    def __init__(
        self,
        plan: OAuth2Auth,
        environ: Mapping[str, str],
        *,
        client: httpx.AsyncClient,
        cache: TokenCache,
        token_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.plan = plan
        self.token_url = token_url or plan.token_url
        self._environ = environ
        self._client = client
        self._cache = cache
        self._timeout = timeout
        self._scope = " ".join(plan.scopes)
        self._who = f"client {plan.client_id.masked()} at {self.token_url}"

    def __repr__(self) -> str:
        return f"OAuth2ClientCredentials({self._who})"

    def key(self) -> TokenKey:
        """The cache key of these credentials (reads the environment)."""
        client_id = _resolve(self.plan.client_id, self._environ, "OAuth client id")
        secret = _resolve(self.plan.client_secret, self._environ, "OAuth client secret")
        digest = hashlib.blake2b(secret.encode(), key=_SALT, digest_size=16).digest()
        return TokenKey(self.token_url, client_id, self._scope, digest)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OAuth2ClientCredentials works only with httpx.AsyncClient")

    async def token(self) -> tuple[TokenKey, AccessToken]:
        """The cached token of these credentials (fetched when missing or due; raises
        AuthFailure), with its cache key for :meth:`refused`."""
        key = self.key()
        return key, await self._cache.get(key, self._fetch)

    def refused(self, key: TokenKey, token: AccessToken) -> None:
        """The buyer answered 401 with ``token``: drop it, so the next :meth:`token` fetches a
        new one (the caller resends once)."""
        log.info(
            "the buyer refused the access token of %s (HTTP 401); getting a new one", self._who
        )
        self._cache.invalidate(key, token)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        key, token = await self.token()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code != 401:
            return
        self.refused(key, token)
        key, token = await self.token()
        request.headers["Authorization"] = f"Bearer {token.value}"
        yield request

    async def _fetch(self) -> tuple[str, float]:
        key = self.key()
        secret = _resolve(self.plan.client_secret, self._environ, "OAuth client secret")
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        auth: httpx.Auth = httpx.Auth()  # no auth: never the client's default
        if self.plan.client_auth == "basic":
            auth = httpx.BasicAuth(key.client_id, secret)
        else:
            form |= {"client_id": key.client_id, "client_secret": secret}
        log.info("requesting an access token for %s", self._who)
        where = f"the token endpoint {self.token_url}"
        try:
            with anyio.fail_after(self._timeout):
                response = await self._client.post(
                    self.token_url,
                    data=form,
                    auth=auth,
                    headers={"Accept": "application/json"},
                    timeout=self._timeout,
                )
        except TimeoutError:
            raise self._failed(f"{where} did not answer within {self._timeout:g} seconds") from None
        except httpx.HTTPError as exc:
            raise self._failed(f"{where} could not be reached: {exc}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not response.is_success:
            code = payload.get("error") if isinstance(payload, dict) else None
            detail = (
                f", error {code!r}" if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""
            )
            hint = " (check the client id and secret)" if response.status_code in (400, 401) else ""
            raise self._failed(f"{where} answered HTTP {response.status_code}{detail}{hint}")
        value = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(value, str) or not value:
            raise self._failed(f"{where} answered without an access_token in a JSON object")
        lifetime = _lifetime(payload.get("expires_in"))
        log.info("got an access token for %s, valid for %g seconds", self._who, lifetime)
        return value, lifetime

    def _failed(self, reason: str) -> AuthFailure:
        log.warning("could not get an access token for %s: %s", self._who, reason)
        return AuthFailure(f"could not get an access token: {reason}")


def build_auth(
    plan: AuthPlan,
    environ: Mapping[str, str],
    *,
    client: httpx.AsyncClient | None,
    cache: TokenCache,
    environment: EnvironmentPlan | None = None,
) -> httpx.Auth:
    """The auth flow for ``plan``; ``environment.token_url`` overrides the OAuth token URL.
    ``client`` (for token requests) is needed only for OAuth."""
    if isinstance(plan, OAuth2Auth):
        if client is None:
            raise ValueError("OAuth 2.0 credentials need an httpx client for token requests")
        url = environment.token_url if environment else None
        return OAuth2ClientCredentials(plan, environ, client=client, cache=cache, token_url=url)
    if isinstance(plan, ApiKeyAuth | BasicAuth | BearerAuth):
        return StaticAuth(plan, environ)
    return httpx.Auth()

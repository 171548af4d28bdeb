"""The go-live checklist items that need no network: each item one function returning an Item.

The items follow the industry guide's pre-deployment checklist: the endpoint URL is right for the
environment (test and production differ), the credentials are set and work, the field mapping
gives the expected output, timeouts leave headroom, and the retry, breaker, idempotency, caps and
schedule settings are listed. Items that send something live in :mod:`engine.preflight.sending`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from engine.authoring.explain import describe_retry
from engine.authoring.rules import BuyerFile, internal_hosts, is_production_env, plain_http, tls_off
from engine.plan import IntegrationPlan, OAuth2Auth, SecretRef
from engine.runtime.outcome import Outcome, Timings
from engine.runtime.target import secret_names

Status = Literal["pass", "fail", "skip", "info"]
#: Share of a time limit an observed latency may use before the headroom is too small.
HEADROOM = 0.8


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the checklist: what was checked, how it went, and why (never a secret)."""

    name: str
    status: Status
    detail: str
    notes: tuple[str, ...] = ()
    """Extra lines shown under the item: the masked request and answer of a failed send."""


def ms(seconds: float) -> str:
    """``42 ms`` or ``1.5 s``."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.3g} s"


# -- 1. the environment --------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")


def environment_item(plan: IntegrationPlan, env: str, buyer_file: BuyerFile | None) -> Item:
    """The environment's addresses: encrypted unless on this machine (LP402), certificates checked
    and public in production (LP403, LP404), and a test environment apart from production."""
    environment = plan.environments[env]
    problems: list[str] = []
    if buyer_file is not None and env in buyer_file.spec.environments:
        only = buyer_file.spec.model_copy(
            update={"environments": {env: buyer_file.spec.environments[env]}}
        )
        alone = BuyerFile(only, buyer_file.source, buyer_file.plan, buyer_file.schema)
        for rule in (plain_http, tls_off, internal_hosts):
            problems += [f"{i.message} ({i.hint})" if i.hint else i.message for i in rule(alone)]
    urls = [environment.url]
    if isinstance(plan.auth, OAuth2Auth):
        urls.append(environment.token_url or plan.auth.token_url)
    if is_production_env(env):
        note = "the production environment: test leads sent here are real leads"
    else:
        production = {
            _origin(url)
            for name, e in plan.environments.items()
            if name != env and is_production_env(name)
            for url in [e.url, e.token_url or ""]
            if url
        }
        shared = sorted({_origin(u) for u in urls} & production)
        if shared:
            problems.append(
                f"it uses the production host {', '.join(shared)}: test leads would be real leads"
            )
        note = (
            f"apart from production ({', '.join(sorted(production))})"
            if production
            else "no production environment in the file to compare with"
        )
    if problems:
        return Item("environment", "fail", f"{env} at {environment.url}: " + "; ".join(problems))
    return Item("environment", "pass", f"{env} at {environment.url}, {note}")


# -- 3. credentials ------------------------------------------------------------------------------


def needed_secrets(plan: IntegrationPlan) -> list[str]:
    """Every ``${env:NAME}`` the auth settings and the stages' headers read, once each."""
    names = list(secret_names(plan))
    for stage in plan.stages.values():
        for _, template in stage.request.headers:
            names += [p.name for p in template.parts if isinstance(p, SecretRef)]
    return list(dict.fromkeys(names))


def missing_secrets(plan: IntegrationPlan, environ: Mapping[str, str]) -> list[str]:
    return [name for name in needed_secrets(plan) if name not in environ]


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The result of fetching an OAuth token: whether it worked, and what to say."""

    ok: bool
    detail: str


def credentials_item(
    plan: IntegrationPlan,
    environ: Mapping[str, str],
    token: TokenCheck | None,
    sent: Sequence[tuple[str, Outcome]],
) -> Item:
    """Every secret is set; an OAuth token was obtained; for other kinds, the buyer took a test
    lead with them (``sent``: case name and each outcome of the test leads)."""
    names = needed_secrets(plan)
    missing = missing_secrets(plan, environ)
    if missing:
        what = ", ".join(missing)
        return Item("credentials", "fail", f"not set: {what}; set them where leadpost runs")
    listed = f"{', '.join(names)} set" if names else "no secrets needed"
    if token is not None:
        detail = f"{token.detail}; {listed}"
        return Item("credentials", "pass" if token.ok else "fail", detail)
    refused = next(((n, o) for n, o in sent if o.kind == "auth"), None)
    if refused is not None:
        detail = f"the buyer refused them on test lead '{refused[0]}': {refused[1].reason}"
        return Item("credentials", "fail", detail)
    if not names:
        return Item("credentials", "skip", "this buyer needs no credentials")
    accepted = next((n for n, o in sent if o.ok), None)
    if accepted is not None:
        return Item("credentials", "pass", f"{listed}; test lead '{accepted}' was accepted")
    return Item("credentials", "skip", f"{listed}, not proven: no test lead was accepted")


# -- 7. timeouts ---------------------------------------------------------------------------------


def _limit_check(
    what: str, observed: float, limits: Iterable[tuple[str, float]], problems: list[str]
) -> str:
    parts = []
    for label, limit in limits:
        parts.append(f"{label} {ms(limit)}")
        if observed > HEADROOM * limit:
            problems.append(f"{what} took {ms(observed)}, too close to the {label} of {ms(limit)}")
    return f"{what} {ms(observed)} (limits: {', '.join(parts)})"


def timeouts_item(
    plan: IntegrationPlan,
    observed: Mapping[str, Sequence[Timings]],
    connect: float | None,
    deadlines: Sequence[tuple[str, float]] = (),
) -> Item:
    """The slowest observed answers against each stage's read and total timeouts and, for the
    ping, the ping deadline of each campaign that pings this buyer; fails when an answer used
    more than :data:`HEADROOM` of a limit."""
    problems: list[str] = []
    shown: list[str] = []
    if connect is not None:
        limit = min(s.request.timeouts.connect for s in plan.stages.values())
        shown.append(_limit_check("connect", connect, [("connect timeout", limit)], problems))
    for name, stage in plan.stages.items():
        times = observed.get(name, ())
        if not times:
            continue
        t = stage.request.timeouts
        slowest = max(x.total for x in times)
        waited = max((x.wait if x.wait is not None else x.total) for x in times)
        limits = [("total timeout", t.total)]
        if name == "ping":
            limits += [(f"ping deadline of {campaign}", d) for campaign, d in deadlines]
        shown.append(_limit_check(f"slowest {name}", slowest, limits, problems))
        shown.append(_limit_check(f"longest {name} wait", waited, [("read timeout", t.read)], []))
        if waited > HEADROOM * t.read:
            problems.append(f"the {name} waited {ms(waited)} of its read timeout {ms(t.read)}")
    if not shown:
        return Item("timeouts", "skip", "nothing was measured: no test lead got an answer")
    if problems:
        return Item("timeouts", "fail", "; ".join(problems), tuple(shown))
    return Item("timeouts", "pass", "; ".join(shown))


# -- informational lines -------------------------------------------------------------------------


def retry_item(plan: IntegrationPlan) -> Item:
    return Item("retry policy", "info", describe_retry(plan.retry))


def breaker_item(plan: IntegrationPlan) -> Item:
    b = plan.breaker
    return Item(
        "circuit breaker",
        "info",
        f"opens after {b.consecutive_failures} failures in a row or {b.failure_rate:.0%} "
        f"failures over {b.window:g} s (at least {b.min_requests} requests); "
        f"tries again after {b.cooldown:g} s",
    )


def idempotency_item(plan: IntegrationPlan) -> Item:
    header = plan.idempotency_header
    if header is None:
        return Item("idempotency", "info", "no idempotency header: a retried post looks new")
    detail = f"each send carries {header}: <lead id>:{plan.buyer}:<stage>, the same on a retry"
    return Item("idempotency", "info", detail)


def limits_item(plan: IntegrationPlan) -> Item:
    c = plan.caps
    caps = [
        f"{value} {label}"
        for value, label in (
            (c.per_hour, "per hour"),
            (c.per_day, "per day"),
            (c.per_month, "per month"),
        )
        if value is not None
    ]
    if c.spend_per_day is not None:
        caps.append(f"spend at most {c.spend_per_day} per day")
    s = plan.schedule
    when = "always open" if s is None else f"open {len(s.days)} days a week ({s.timezone})"
    text = f"caps: {', '.join(caps) or 'none'}; schedule: {when}; "
    return Item("caps and schedule", "info", text + f"at most {plan.concurrency} at once")


def volume_item(plan: IntegrationPlan) -> Item:
    detail = (
        "not tested here: preflight sends one lead at a time; agree the expected volume and "
        f"rate limits with the buyer (this file sends at most {plan.concurrency} at once)"
    )
    return Item("volume", "skip", detail)


def documented_item(where: str | None) -> Item:
    detail = f"this report, saved as {where}" if where else "this report (not saved)"
    return Item("results documented", "info", detail + "; attach it to the pull request")


def confirmation_item(ids: Sequence[tuple[str, str]]) -> Item:
    """The manual last step: the buyer confirms the test leads arrived (our id, the buyer's)."""
    if not ids:
        return Item("buyer confirmation", "skip", "no test lead was accepted to confirm")
    shown = ", ".join(f"{ours} (their id {theirs})" if theirs else ours for ours, theirs in ids)
    return Item("buyer confirmation", "info", f"to do: ask the buyer to confirm {shown}")

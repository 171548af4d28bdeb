"""The semantic rules of ``leadpost lint`` (LP401–LP413, LP540–LP541): one small function each.

Each rule reads a :class:`BuyerFile` (the validated spec, its positions, the compiled plan when
there is one, the lead schema) and yields the issues it finds. :data:`BUYER_RULES` lists them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.authoring.secrets import leaf_name, looks_secret
from engine.compiler.context import CompileContext
from engine.compiler.fields import compile_fields
from engine.compiler.response_lint import rule_problems
from engine.dsl import models as m
from engine.dsl.loader import SourceMap
from engine.errors import Issue
from engine.lead import LeadSchema
from engine.plan import ENV_REFERENCE, FieldPlan, IntegrationPlan
from engine.positions import Span
from engine.runtime.addresses import (
    BadURL,
    Host,
    host_refusal,
    is_production,
    simulated,
    url_host,
)
from engine.transforms.registry import PING_SAFE
from engine.transforms.values import TranslateArgs


@dataclass(frozen=True, slots=True)
class BuyerFile:
    """What a buyer rule looks at: the validated spec, positions, the plan (None on errors)."""

    spec: m.IntegrationSpec
    source: SourceMap
    plan: IntegrationPlan | None
    schema: LeadSchema | None

    def at(self, *path: str | int) -> Span:
        """The position of the value at ``path`` (or of its nearest written ancestor)."""
        return self.source.at(path)

    def stages(self) -> Iterator[tuple[str, m.StageSpec]]:
        for name in ("ping", "post"):
            stage = getattr(self.spec.stages, name)
            if stage is not None:
                yield name, stage


#: A semantic rule: the issues it finds in one buyer file.
Rule = Callable[[BuyerFile], Iterator[Issue]]

_CASE_ONLY = frozenset({"trim", "upper", "lower", "title"})

#: True for an environment named like production: ``production``, ``prod``, ``live`` … (the
#: runtime's own test, so lint and the runtime agree on which environments are production).
is_production_env = is_production


def _env_name(buyer: str, what: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", f"{buyer}_{what}".upper()).strip("_")


def _inline(text: str) -> bool:
    return bool(text.strip()) and ENV_REFERENCE.search(text) is None


# -- LP401 inline secrets ------------------------------------------------------------------------


def inline_secrets(f: BuyerFile) -> Iterator[Issue]:
    """Secrets written in the file instead of read from the environment with ``${env:NAME}``."""
    found: list[tuple[str, str, tuple[str | int, ...]]] = []
    auth = f.spec.auth
    for attr in ("key", "password", "token", "client_secret"):
        value = getattr(auth, attr, None)
        if isinstance(value, str):
            found.append((f"auth {attr}", value, ("auth", attr)))
    for name, value in f.spec.headers.items():
        if looks_secret(name, value):
            found.append((f"header '{name}'", value, ("headers", name)))
    for stage_name, stage in f.stages():
        at = ("stages", stage_name)
        for name, value in stage.headers.items():
            if looks_secret(name, value):
                found.append((f"header '{name}'", value, (*at, "headers", name)))
        groups: list[tuple[m.Fields, tuple[str | int, ...]]] = [(stage.fields, (*at, "fields"))]
        if stage.wrap_in_form is not None:
            groups.append((stage.wrap_in_form.fields, (*at, "wrap_in_form", "fields")))
        for fields, fields_at in groups:
            for name, spec in fields.items():
                if isinstance(spec, m.FieldSpec) and spec.value and _secret_field(name, spec):
                    found.append((f"field '{name}'", spec.value, (*fields_at, name, "value")))
    for label, value, path in found:
        if _inline(value):
            what = str(path[-1] if path[-1] != "value" else leaf_name(str(path[-2])))
            suggested = _env_name(f.spec.buyer, what)
            also = " (if it is not a secret, write 'secret: false' in the field)"
            yield Issue(
                "LP401",
                f"the {label} is written in the file; secrets must not be kept in buyer files",
                f.at(*path),
                f"write ${{env:{suggested}}} and set {suggested} where leadpost runs"
                + (also if path[-1] == "value" else ""),
            )


def _secret_field(name: str, spec: m.FieldSpec) -> bool:
    """A field constant is a secret when the author says so, else when it looks like one."""
    if spec.secret is not None:
        return spec.secret
    if spec.value == "TODO":  # a drafted placeholder (LP800), not a secret yet
        return False
    return spec.value is not None and looks_secret(name, spec.value)


# -- LP402–LP404 production environments -------------------------------------------------------


def _production_urls(f: BuyerFile) -> Iterator[tuple[str, str, str, tuple[str | int, ...]]]:
    """(environment, what, url, position) of every address a production environment uses."""
    for env, what, url, at in _urls(f):
        if is_production(env):
            yield env, what, url, at


def _urls(f: BuyerFile) -> Iterator[tuple[str, str, str, tuple[str | int, ...]]]:
    """(environment, what, url, position) of every address any environment uses."""
    oauth = f.spec.auth if isinstance(f.spec.auth, m.OAuth2Spec) else None
    for name, env in f.spec.environments.items():
        yield name, "sends leads", env.url, ("environments", name, "url")
        if env.token_url is not None:
            yield name, "fetches tokens", env.token_url, ("environments", name, "token_url")
        elif oauth is not None:
            yield name, "fetches tokens", oauth.token_url, ("auth", "token_url")


def plain_http(f: BuyerFile) -> Iterator[Issue]:
    """LP402: traffic must be encrypted; http:// only to a buyer simulated on this machine (any
    environment but production). The runtime refuses the same addresses."""
    for env, what, url, at in _urls(f):
        if not url.strip().lower().startswith("http://"):
            continue
        try:
            host = urlsplit(url.strip()).hostname or ""
        except ValueError:
            continue  # the compiler reports the unreadable address (LP204)
        if is_production(env):
            hint = "use https:// in production; http:// is only for local testing"
        elif host == "localhost" or _is_loopback(host):
            continue
        else:
            hint = "use https://, or http://127.0.0.1 for a buyer simulated on this machine"
        yield Issue(
            "LP402", f"environment '{env}' {what} over plain http://, unencrypted", f.at(*at), hint
        )


def _is_loopback(host: str) -> bool:
    try:
        read = url_host(f"http://{host}/") if host else None
    except BadURL:
        return False
    return read is not None and read.ip is not None and read.ip.is_loopback


def tls_off(f: BuyerFile) -> Iterator[Issue]:
    """LP403: production must check the buyer's certificate."""
    for name, env in f.spec.environments.items():
        if is_production(name) and not env.tls_verify:
            yield Issue(
                "LP403",
                f"environment '{name}' does not check the buyer's TLS certificate",
                f.at("environments", name, "tls_verify"),
                "remove 'tls_verify: false': in production anyone could pose as the buyer",
            )


def is_internal_host(host: str) -> bool:
    """True for a host the runtime refuses in production: localhost, and private, loopback,
    link-local, CGNAT, unspecified, metadata … addresses in any spelling (``0x7f000001``)."""
    try:
        name = host.strip()
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"  # an IPv6 address, as a URL writes it
        read = url_host(f"https://{name}/") if name else None
    except BadURL:
        return False
    return read is not None and host_refusal(read) is not None


def _hosts(f: BuyerFile) -> Iterator[tuple[str, str, str, Host, tuple[str | int, ...]]]:
    """(environment, what, url, host, position) of every readable address (LP413 reports the
    others)."""
    for env, what, url, at in _urls(f):
        try:
            host = url_host(url)
        except BadURL:
            continue
        if host is not None:
            yield env, what, url, host, at


def internal_hosts(f: BuyerFile) -> Iterator[Issue]:
    """LP404: production must not reach into our own network (SSRF) — the policy the runtime
    applies to every address it dials, here to the host written in the file."""
    for env, _, _, host, at in _hosts(f):
        if not is_production(env):
            continue
        reason = host_refusal(host)
        if reason is not None:
            yield Issue(
                "LP404",
                f"environment '{env}' points at {host.text}, a private or local address"
                f" ({reason.removeprefix('address not allowed: ')})",
                f.at(*at),
                "production must reach the buyer over the internet: use its public host name;"
                " leadpost refuses to connect there",
            )


def private_without_leave(f: BuyerFile) -> Iterator[Issue]:
    """LP410: another environment pointing at a private or local address the runtime would
    refuse: it must say ``allow_private: true`` (http:// to this machine needs nothing)."""
    for env, what, _, host, at in _hosts(f):
        if is_production(env):
            continue
        spec = f.spec.environments[env]
        reason = host_refusal(host, allow_private=spec.allow_private or simulated(spec.url))
        if reason is None:
            continue
        allowed = host_refusal(host, allow_private=True) is None
        yield Issue(
            "LP410",
            f"environment '{env}' {what} at {host.text}, which leadpost refuses to connect to"
            f" ({reason.removeprefix('address not allowed: ')})",
            f.at(*at),
            f"write 'allow_private: true' under environments.{env} for a buyer on a local network"
            if allowed
            else "use the buyer's public host name",
        )


def allow_private_in_production(f: BuyerFile) -> Iterator[Issue]:
    """LP411: production never reaches private addresses; ``allow_private`` there is a mistake."""
    for name, env in f.spec.environments.items():
        if is_production(name) and env.allow_private:
            yield Issue(
                "LP411",
                f"environment '{name}' says allow_private, which production ignores:"
                " it only ever connects to public addresses",
                f.at("environments", name, "allow_private"),
                "remove 'allow_private: true' from the production environment",
            )


def url_problems(f: BuyerFile) -> Iterator[Issue]:
    """LP412 a user name or password in a URL; LP413 an unusual spelling of an IP address
    (``0x7f000001``, ``0177.0.0.1``). Unreadable addresses are the compiler's LP204."""
    for env, what, url, at in _urls(f):
        try:
            host = url_host(url)
        except BadURL:
            continue  # the compiler reports it (LP204)
        if host is not None and host.ip is not None and not host.canonical:
            yield Issue(
                "LP413",
                f"environment '{env}' {what} at '{host.text}', an unusual spelling of the"
                f" address {host.ip}",
                f.at(*at),
                f"write the address as {host.ip}, or better, the buyer's host name",
            )
        netloc = url.strip().split("//", 1)[-1].split("/", 1)[0]
        if "@" in netloc:
            yield Issue(
                "LP412",
                f"environment '{env}' {what} at an address with a user name or password in it;"
                " it would be written in logs and reports",
                f.at(*at),
                "remove 'user:password@' and use auth: (with ${env:NAME} for the password)",
            )


# -- LP405 PII in pings, LP406 translate coverage -----------------------------------------------


def _ping_fields(f: BuyerFile) -> tuple[FieldPlan, ...]:
    """The ping's compiled fields: from the plan, or compiled alone when the file has errors."""
    if f.plan is not None:
        stage = f.plan.stages.get("ping")
        return stage.request.fields if stage is not None else ()
    if f.spec.stages.ping is None:
        return ()
    scratch = CompileContext(f.source, f.schema)  # its issues are the compiler's to report
    return compile_fields(f.spec.stages.ping.fields, ("stages", "ping", "fields"), scratch)


def pii_in_ping(f: BuyerFile) -> Iterator[Issue]:
    """LP405: a ping goes to buyers before they win the lead; it must not identify the person.

    Uses the same flag the runtime enforces: a field reading a PII lead field, unless a
    ping-safe reduction (age, birth_year, zip3, hash, …) or an aggregate makes it anonymous.
    """
    if f.schema is None:
        return
    for field in _ping_fields(f):
        pii = [r for r in field.reads if f.schema.is_pii(r)] if field.pii else []
        if pii:
            yield Issue(
                "LP405",
                f"ping field '{field.name}' sends {', '.join(pii)}, which identifies the consumer",
                field.span,
                "send personal details only in the post, once the buyer has won the lead; a "
                "ping may send a reduction of them that identifies no one: "
                + ", ".join(PING_SAFE)
                + " (e.g. transform: [age]), or a count/min/max/sum/any/all over a list",
            )


def _field_specs(
    fields: m.Fields, at: tuple[str | int, ...]
) -> Iterator[tuple[str, m.FieldSpec, tuple[str | int, ...]]]:
    """Every field spec, including those inside ``when`` branches, with its position."""
    for name, spec in fields.items():
        yield from _nested(name, spec, (*at, name))


def _nested(
    name: str, spec: m.FieldSpec | str | None, at: tuple[str | int, ...]
) -> Iterator[tuple[str, m.FieldSpec, tuple[str | int, ...]]]:
    if not isinstance(spec, m.FieldSpec):
        return
    yield name, spec, at
    for j, case in enumerate(spec.when or ()):
        yield from _nested(name, case.then, (*at, "when", j, "then"))
    yield from _nested(name, spec.else_, (*at, "else"))


def translate_coverage(f: BuyerFile) -> Iterator[Issue]:
    """LP406: a translate of an enum lead field must map every choice (or say what to do)."""
    if f.schema is None:
        return
    for stage_name, stage in f.stages():
        for name, spec, at in _field_specs(stage.fields, ("stages", stage_name, "fields")):
            choices = f.schema.enum_values(spec.from_.strip()) if spec.from_ else None
            if not choices:
                continue
            for i, step in enumerate(spec.transform):
                if isinstance(step, dict) and set(step) == {"translate"}:
                    yield from _coverage(
                        f, name, spec.from_ or "", choices, step, (*at, "transform", i)
                    )
                    break
                if not (isinstance(step, str) and step in _CASE_ONLY):
                    break  # the value was changed: it is no longer the lead's choice


def _coverage(
    f: BuyerFile,
    name: str,
    source: str,
    choices: tuple[str, ...],
    step: dict[str, object],
    at: tuple[str | int, ...],
) -> Iterator[Issue]:
    try:
        args = TranslateArgs.model_validate(step["translate"])
    except ValueError:
        return  # the compiler reports bad arguments
    if args.default is not None or args.unmapped == "keep":
        return
    mapped = {k.casefold() for k in args.map}
    missing = [c for c in choices if c.casefold() not in mapped]
    if missing:
        listed = ", ".join(f"'{c}'" for c in missing)
        yield Issue(
            "LP406",
            f"field '{name}' translates {source.strip()} but has no entry for {listed}; "
            "leads with that value will be refused",
            f.at(*at, "translate"),
            "add the missing choices, a 'default', or 'unmapped: keep'",
            severity="warning",
        )


# -- LP407–LP409 response rules ----------------------------------------------------------------


def risky_rules(f: BuyerFile) -> Iterator[Issue]:
    """LP407 substring rules that also match failures; LP408 error statuses accepted."""
    for stage_name, stage in f.stages():
        rules_at = ("stages", stage_name, "response", "rules")
        for problem in rule_problems(stage.response):
            rule = stage.response.rules[problem.rule]
            key = "status" if problem.code == "LP408" else "contains" if rule.contains else "match"
            yield Issue(
                problem.code,
                problem.message,
                f.at(*rules_at, problem.rule, key),
                problem.hint,
                severity="warning",
            )


_OUTCOME_WORDS = {"error": "an error", "rejected": "rejected", "duplicate": "a duplicate"}


def missing_rules(f: BuyerFile) -> Iterator[Issue]:
    """LP409: without rules every answer gets the ``otherwise`` outcome."""
    for stage_name, stage in f.stages():
        response = stage.response
        if response.rules or response.otherwise == "accepted":
            continue
        yield Issue(
            "LP409",
            f"the {stage_name} stage has no response rules: every response will be "
            f"{_OUTCOME_WORDS[response.otherwise]}",
            f.at("stages", stage_name, "response"),
            "add rules saying which answers mean accepted, e.g. "
            "- {if: \"status == 'success'\", outcome: accepted}",
            severity="warning",
        )


def delivery_guarantee(f: BuyerFile) -> Iterator[Issue]:
    """LP540 at_least_once resends without a key the buyer can deduplicate on; LP541 it cannot
    resend what on_timeout: reject gives up on."""
    if f.spec.delivery != "at_least_once":
        return
    header = f.spec.idempotency_header
    if header is None or header.lower() in ("off", "none", ""):
        yield Issue(
            "LP540",
            "delivery: at_least_once sends a post again after a crash, but the buyer gets no"
            " idempotency header to recognise the repeat, so it may count the lead twice",
            f.at("delivery"),
            "set idempotency_header (e.g. Idempotency-Key) to the header the buyer deduplicates"
            " on, or use delivery: at_most_once",
            severity="warning",
        )
    if f.spec.retry.on_timeout == "reject":
        yield Issue(
            "LP541",
            "delivery: at_least_once has no effect: on_timeout: reject treats a lost answer as"
            " a rejection and offers the lead to the next buyer instead of resending it",
            f.at("delivery"),
            "remove on_timeout: reject (so a lost answer is resent), or use delivery: at_most_once",
            severity="warning",
        )


#: Every buyer rule, in code order.
BUYER_RULES: list[Rule] = [
    inline_secrets,
    plain_http,
    tls_off,
    internal_hosts,
    private_without_leave,
    allow_private_in_production,
    url_problems,
    pii_in_ping,
    translate_coverage,
    risky_rules,
    missing_rules,
    delivery_guarantee,
]

"""The semantic rules of ``leadpost lint`` (LP401–LP409, LP540–LP541): one small function each.

Each rule reads a :class:`BuyerFile` (the validated spec, its positions, the compiled plan when
there is one, the lead schema) and yields the issues it finds. :data:`BUYER_RULES` lists them.
"""

from __future__ import annotations

import ipaddress
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

_PRODUCTION = re.compile(r"^(?:production|prod|live)(?:[-_ .].*)?$", re.IGNORECASE)
_CASE_ONLY = frozenset({"trim", "upper", "lower", "title"})


def is_production_env(name: str) -> bool:
    """True for an environment named like production: ``production``, ``prod``, ``live`` …"""
    return _PRODUCTION.match(name) is not None


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
        if _PRODUCTION.match(env):
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
        host = urlsplit(url.strip()).hostname or ""
        if _PRODUCTION.match(env):
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
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_off(f: BuyerFile) -> Iterator[Issue]:
    """LP403: production must check the buyer's certificate."""
    for name, env in f.spec.environments.items():
        if _PRODUCTION.match(name) and not env.tls_verify:
            yield Issue(
                "LP403",
                f"environment '{name}' does not check the buyer's TLS certificate",
                f.at("environments", name, "tls_verify"),
                "remove 'tls_verify: false': in production anyone could pose as the buyer",
            )


def is_internal_host(host: str) -> bool:
    """True for localhost and private, loopback, link-local or unspecified IP addresses."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(int(name) if name.isdigit() else name)
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified


def internal_hosts(f: BuyerFile) -> Iterator[Issue]:
    """LP404: production must not reach into our own network (SSRF)."""
    for env, _, url, at in _production_urls(f):
        host = urlsplit(url.strip()).hostname
        if host and is_internal_host(host):
            yield Issue(
                "LP404",
                f"environment '{env}' points at {host}, a private or local address",
                f.at(*at),
                "production must reach the buyer over the internet: use its public host name",
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

    Uses the same flag the runtime enforces: a field reading a PII lead field, unless hashed.
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
                "send personal details only in the post, once the buyer has won the lead",
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
    pii_in_ping,
    translate_coverage,
    risky_rules,
    missing_rules,
    delivery_guarantee,
]

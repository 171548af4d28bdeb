"""Alert rules: the guide's thresholds in a YAML file, judged on the store's numbers.

A rules file (the default is ``alerts.yaml`` beside this module, the guide's list)::

    window: 1h                       # how far back rates and times are measured
    rules:
      - name: delivery success below 85%
        severity: critical           # critical | warning
        measure: success_rate        # see MEASURES
        below: 0.85                  # or above: / at_least:
        min_posts: 10                # rates need this many posts first

Most measures are per buyer; ``queue_depth`` is the service's. :class:`AlertBook` keeps which
alerts are firing: each new one is logged (and POSTed to a webhook, if one is set) once, and
again when it resolves. A file with problems is refused whole with every problem at its line
(LP556); a service that is reloading keeps its previous rules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.dsl.loader import load_yaml
from engine.errors import AuthoringError, Issue
from engine.store.journal import DurableStore

log = logging.getLogger("leadpost.alerts")

DEFAULT_RULES = Path(__file__).with_name("alerts.yaml")
#: measure -> (what it is, per buyer?)
MEASURES: dict[str, tuple[str, bool]] = {
    "success_rate": ("accepted posts / answered posts in the window", True),
    "consecutive_failures": ("the buyer's latest posts not accepted, in a row", True),
    "breaker_open": ("1 while the buyer's circuit breaker is open", True),
    "response_ms": ("mean response time in the window (ms)", True),
    "response_vs_baseline": ("mean response time in the window / over the day before", True),
    "error_rate_vs_baseline": ("share of errors in the window / over the day before", True),
    "auth_failures": ("authentication failures in the window", True),
    "health_check_failed": ("1 when the buyer's latest scheduled health check failed", True),
    "queue_depth": ("posts waiting in the retry queue", False),
}
COMPARE = ("below", "above", "at_least")
BASELINE = 24 * 3600.0
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: Outcome classes that count as errors (a refusal by the buyer is not an error).
ERRORS = ("transport", "unknown", "client_error", "auth", "rate_limited", "server_error",
          "bad_response", "late")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    severity: str
    measure: str
    compare: str
    threshold: float
    min_posts: int = 5

    def fires(self, value: float) -> bool:
        if self.compare == "below":
            return value < self.threshold
        if self.compare == "above":
            return value > self.threshold
        return value >= self.threshold


@dataclass(frozen=True, slots=True)
class Rules:
    window: float
    rules: tuple[Rule, ...]
    file: str


@dataclass(frozen=True, slots=True)
class Fired:
    rule: str
    severity: str
    buyer: str | None
    value: float
    message: str

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.rule, self.buyer)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "buyer": self.buyer,
                "value": self.value, "message": self.message}  # fmt: skip


def _problem(doc: Any, path: tuple[str | int, ...], text: str) -> Issue:
    return Issue("LP556", text, span=doc.source.at(path))


def load_rules(path: str | Path = DEFAULT_RULES) -> Rules:
    """The rules in ``path``; AuthoringError naming every problem (LP556) otherwise."""
    doc = load_yaml(path)
    data = doc.data
    problems: list[Issue] = []
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise AuthoringError([_problem(doc, (), "write a mapping with a list under 'rules:'")])
    window = _duration(data.get("window", "1h"))
    if window is None:
        problems.append(_problem(doc, ("window",), "window: write a duration like 1h or 30m"))
    rules = []
    for i, raw in enumerate(data["rules"]):
        at: tuple[str | int, ...] = ("rules", i)
        if not isinstance(raw, dict):
            problems.append(_problem(doc, at, f"rule {i + 1}: write a mapping"))
            continue
        rule, found = _rule(raw, f"rule {i + 1}")
        problems += [_problem(doc, (*at, key), text) for key, text in found]
        if rule is not None:
            rules.append(rule)
    if problems:
        raise AuthoringError(problems, doc.source.text)
    return Rules(window or 3600.0, tuple(rules), str(path))


def _duration(value: Any) -> float | None:
    m = _DURATION.match(str(value).strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def _rule(raw: Mapping[str, Any], label: str) -> tuple[Rule | None, list[tuple[str, str]]]:
    found: list[tuple[str, str]] = []
    known = {"name", "severity", "measure", "min_posts", *COMPARE}
    for key in raw:
        if key not in known:
            found.append((key, f"{label}: unknown key '{key}'; use {', '.join(sorted(known))}"))
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        found.append(("name", f"{label}: give the rule a name"))
    severity = raw.get("severity")
    if severity not in ("critical", "warning"):
        found.append(("severity", f"{label}: severity is critical or warning"))
    measure = raw.get("measure")
    if measure not in MEASURES:
        found.append(("measure", f"{label}: measure is one of {', '.join(MEASURES)}"))
    given = [c for c in COMPARE if c in raw]
    if len(given) != 1:
        found.append((label, f"{label}: give exactly one of below, above, at_least"))
    threshold = raw.get(given[0]) if len(given) == 1 else None
    if len(given) == 1 and not isinstance(threshold, int | float | str):
        found.append((given[0], f"{label}: {given[0]} is a number"))
    try:
        value = float(str(threshold)) if threshold is not None else 0.0
    except ValueError:
        found.append((given[0], f"{label}: {given[0]} is a number, not {threshold!r}"))
        value = 0.0
    min_posts = str(raw.get("min_posts", 5))
    if not min_posts.isdigit() or int(min_posts) < 1:
        found.append(("min_posts", f"{label}: min_posts is a whole number of 1 or more"))
    if found:
        return None, found
    return Rule(str(name), str(severity), str(measure), given[0], value, int(min_posts)), []


# -- the numbers --------------------------------------------------------------------------------


def _per_buyer(store: DurableStore, since: float, until: float) -> dict[str, dict[str, float]]:
    rows = store.backend.read(
        "SELECT buyer,"
        " SUM(CASE WHEN stage = 'post' AND state <> 'sending' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN stage = 'post' AND kind = 'accepted' THEN 1 ELSE 0 END),"
        " AVG(ms), COUNT(*),"
        f" SUM(CASE WHEN kind IN ({', '.join('?' * len(ERRORS))}) THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN kind = 'auth' THEN 1 ELSE 0 END)"
        " FROM attempts WHERE started_at >= ? AND started_at < ? GROUP BY buyer",
        (*ERRORS, since, until),
    )
    return {
        b: {"posts": float(p or 0), "accepted": float(a or 0),
            "mean_ms": float(ms) if ms is not None else 0.0, "attempts": float(n or 0),
            "errors": float(e or 0), "auth": float(au or 0)}
        for b, p, a, ms, n, e, au in rows
    }  # fmt: skip


def _streak(store: DurableStore, buyer: str, limit: int = 50) -> int:
    rows = store.backend.read(
        "SELECT kind FROM attempts WHERE buyer = ? AND stage = 'post' AND state <> 'sending'"
        " ORDER BY started_at DESC, id DESC LIMIT ?",
        (buyer, limit),
    )
    count = 0
    for (kind,) in rows:
        if kind == "accepted":
            break
        count += 1
    return count


def measure(
    store: DurableStore,
    rules: Rules,
    now: float,
    breakers: Mapping[str, str],
    health: Mapping[str, bool] | None = None,
) -> tuple[dict[str, dict[str, float]], float]:
    """Every per-buyer measure, and the queue depth (reads the store: call it in a thread).
    ``health``: buyer -> whether its latest scheduled health check failed."""
    store.writer.flush()
    health = health or {}
    recent = _per_buyer(store, now - rules.window, now + 1.0)
    before = _per_buyer(store, now - rules.window - BASELINE, now - rules.window)
    buyers = set(recent) | {name.split("/", 1)[0] for name in breakers} | set(health)
    out: dict[str, dict[str, float]] = {}
    for b in sorted(buyers):
        r = recent.get(b, {})
        base = before.get(b, {})
        posts = r.get("posts", 0.0)
        m: dict[str, float] = {"posts": posts}
        if posts:
            m["success_rate"] = r["accepted"] / posts
        m["consecutive_failures"] = float(_streak(store, b))
        m["breaker_open"] = float(any(
            n.split("/", 1)[0] == b and s == "open" for n, s in breakers.items()
        ))  # fmt: skip
        if b in health:
            m["health_check_failed"] = float(health[b])
        if r.get("attempts"):
            m["response_ms"] = r["mean_ms"]
            m["auth_failures"] = r["auth"]
            if base.get("attempts") and base["mean_ms"] > 0:
                m["response_vs_baseline"] = r["mean_ms"] / base["mean_ms"]
            if base.get("attempts") and base["errors"] > 0:
                share = r["errors"] / r["attempts"]
                m["error_rate_vs_baseline"] = share / (base["errors"] / base["attempts"])
        out[b] = m
    depth = float(store.backend.read("SELECT COUNT(*) FROM jobs")[0][0])
    return out, depth


def judge(rules: Rules, per_buyer: Mapping[str, Mapping[str, float]], depth: float) -> list[Fired]:
    """The alerts the measures fire."""
    fired = []
    for rule in rules.rules:
        if not MEASURES[rule.measure][1]:
            if rule.fires(depth):
                fired.append(_fired(rule, None, depth))
            continue
        for buyer, m in per_buyer.items():
            value = m.get(rule.measure)
            if value is None:
                continue
            if rule.measure == "success_rate" and m.get("posts", 0.0) < rule.min_posts:
                continue
            if rule.fires(value):
                fired.append(_fired(rule, buyer, value))
    return fired


def _shown(measure: str, value: float) -> str:
    if measure == "success_rate":
        return f"{value * 100:.1f}%"
    if measure.endswith("_vs_baseline"):
        return f"{value:.2f}x its baseline"
    if measure == "response_ms":
        return f"{value:.0f} ms"
    return f"{value:g}"


def _fired(rule: Rule, buyer: str | None, value: float) -> Fired:
    limit = _shown(rule.measure, rule.threshold).replace(" its baseline", "")
    words = {"below": "below", "above": "above", "at_least": "at least"}[rule.compare]
    who = f"{buyer}: " if buyer else ""
    text = f"{who}{rule.name} ({rule.measure} {_shown(rule.measure, value)}, {words} {limit})"
    return Fired(rule.name, rule.severity, buyer, round(value, 4), text)


class AlertBook:
    """Which alerts fire now; says which started and which resolved at each look."""

    def __init__(self) -> None:
        self.active: dict[tuple[str, str | None], Fired] = {}

    def update(self, fired: Sequence[Fired]) -> tuple[list[Fired], list[Fired]]:
        now = {f.key: f for f in fired}
        started = [f for k, f in now.items() if k not in self.active]
        resolved = [f for k, f in self.active.items() if k not in now]
        self.active = now
        for f in started:
            log.log(logging.ERROR if f.severity == "critical" else logging.WARNING,
                    "alert %s: %s", f.severity, f.message)  # fmt: skip
        for f in resolved:
            log.info("alert resolved: %s", f.message)
        return started, resolved

    def current(self) -> list[dict[str, Any]]:
        order = {"critical": 0, "warning": 1}
        items = sorted(self.active.values(), key=lambda f: (order[f.severity], f.message))
        return [f.to_dict() for f in items]

"""Find accepting response rules that would also accept a failure (help for ``leadpost lint``).

A rule like ``contains: Success`` accepts ``{"Success": false}`` too. For every accepting rule
with a plain ``contains`` term (or an unanchored, unstructured ``match``), typical failure bodies
are generated from its words and tried against the real matcher. Accepting an HTTP error status
is flagged as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.dsl.models import ResponseSpec, Rule
from engine.patterns import PatternError, compile_pattern

_PLAIN_TERM = re.compile(r"\w[\w\s-]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
# Parts of a pattern that are not text to search for: flags, group names, escapes like \d.
_NOT_TEXT = re.compile(r"\(\?[aiLmsux]+\)|\(\?P<\w+>|\(\?P=\w+\)|\\.")
# Anchors, lookarounds and punctuation that tie a pattern to one response format.
_ANCHORS = re.compile(r"\^|\$|\\[AZbBG|,;:=]|\(\?<?[=!]")
_PUNCTUATION = re.compile(r"[\"'=:<>{}]")
_ERROR_STATUS = re.compile(r"^\s*[45](?:[0-9][0-9]|xx)\s*$", re.IGNORECASE)
_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One risky response rule: LP407 (matches a failure too) or LP408 (accepts an HTTP error)."""

    code: str
    rule: int
    """Index of the rule in ``response.rules`` (0-based)."""
    message: str
    hint: str


def failure_bodies(term: str) -> list[str]:
    """Typical failure responses that mention ``term``: negations and ``"term": false``."""
    variants = dict.fromkeys([term, term.lower(), term.upper(), term.capitalize()])
    bodies: list[str] = []
    for v in variants:
        low = v.lower()
        bodies += [
            f'{{"{v}": false}}',
            f'{{"{v}":false}}',
            f'{{"{v}": "false"}}',
            f"<{v}>false</{v}>",
            f"{v}=false",
            f"NOT {v}" if v.isupper() else f"not {v}",
            f"not {v}" if v.isupper() else f"NOT {v}",
            f"Not {v}",
            f"no_{v}",
            f"No {v}",
            f"un{v}",
            f"Un{low}",
            f"un{low}ful",
            f"Un{low}ful",
        ]
    return list(dict.fromkeys(bodies))


def rule_problems(spec: ResponseSpec) -> list[RuleProblem]:
    """Every accepting rule that also matches a typical failure or accepts an HTTP error."""
    problems: list[RuleProblem] = []
    for i, rule in enumerate(spec.rules):
        if rule.outcome != "accepted":
            continue
        problem = _substring_problem(i, rule, spec.body)
        if problem is not None:
            problems.append(problem)
        bad = [str(s) for s in _statuses(rule) if _ERROR_STATUS.match(str(s))]
        if bad:
            problems.append(
                RuleProblem(
                    "LP408",
                    i,
                    f"this rule accepts the lead when the buyer answers with HTTP status "
                    f"{', '.join(bad)}, which means the request failed",
                    "accept only 2xx responses; use outcome: rejected or duplicate for 4xx",
                )
            )
    return problems


def substring_rule_problems(spec: ResponseSpec) -> list[tuple[int, str]]:
    """(rule index, message) for each risky accepting rule; see :func:`rule_problems`."""
    return [(p.rule, p.message) for p in rule_problems(spec)]


def _statuses(rule: Rule) -> list[int | str]:
    if rule.status is None:
        return []
    return rule.status if isinstance(rule.status, list) else [rule.status]


def _examples(hits: list[str], *, structured_first: bool) -> list[str]:
    """One failure body of each kind found (a JSON/XML value, a negation, a prefix)."""
    first: dict[int, str] = {}
    for body in hits:
        family = 0 if body[0] in "{<" or "=" in body else 1 if " " in body or "_" in body else 2
        first.setdefault(family, body)
    order = (0, 1, 2) if structured_first else (1, 2, 0)
    return [first[f] for f in order if f in first][:_EXAMPLES]


def _unstructured(pattern: str) -> bool:
    return not _ANCHORS.search(pattern) and not _PUNCTUATION.search(_NOT_TEXT.sub(" ", pattern))


def _substring_problem(i: int, rule: Rule, body: str) -> RuleProblem | None:
    if rule.contains is not None and _PLAIN_TERM.fullmatch(rule.contains.strip()):
        term = rule.contains
        hits = [b for b in failure_bodies(term.strip()) if term in b]
        what = f"'contains: {term}'"
    elif rule.match is not None and _unstructured(rule.match):
        try:
            pattern = compile_pattern(rule.match)
        except PatternError:
            return None
        words = dict.fromkeys(_WORD.findall(_NOT_TEXT.sub(" ", rule.match)))
        candidates = [b for w in words for b in failure_bodies(w)]
        hits = [b for b in candidates if pattern.search(b)]
        what = f"'match: {rule.match}'"
    else:
        return None
    if not hits:
        return None
    shown = [f"`{b}`" for b in _examples(hits, structured_first=body in ("json", "xml"))]
    examples = " and ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 1 else shown)
    if body in ("json", "xml"):
        hint = "test the value instead, e.g. if: success == `true` or if: status == 'accepted'"
    else:
        hint = "match the whole answer with anchors, e.g. match: '^OK\\|' or match: '^Success$'"
    return RuleProblem(
        "LP407",
        i,
        f"{what} also matches failure responses such as {examples}, "
        "so a refused lead could be counted as sold",
        hint,
    )

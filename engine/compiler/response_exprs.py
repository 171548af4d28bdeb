"""Compile the expressions of response rules and extracts: statuses, JMESPath, CSS, regex."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cssselect
import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult
from lxml import etree

from engine.compiler.bodies import BodyKind, css_text
from engine.compiler.context import CompileContext, Path
from engine.compiler.jmes import CompiledExpression, Search, flatten_wildcards
from engine.compiler.jmes_functions import FUNCTION_TABLE, REGEX_FUNCTIONS, Regex, captured
from engine.dsl.suggest import hint_for
from engine.errors import Issue
from engine.files import MAX_EXPRESSION, MAX_EXPRESSION_DEPTH
from engine.patterns import UNSUPPORTED_HINT, Pattern, PatternError, compile_pattern
from engine.positions import Span
from engine.transforms.spans import SpanError, parse_span

#: (body, all) -> the raw value found, or None. ``all``: every match (for reasons), not the first.
Extractor = Callable[[Any, bool], Any]

StatusSpec = int | str | list[int | str] | None

_STATUS = re.compile(r"^\s*(?:([1-5][0-9][0-9])|([1-5])xx)\s*$", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"^(?P<css>.*\S)\s+@(?P<attr>[A-Za-z_][\w.:-]*)$", re.DOTALL)
_FUNCTIONS = FUNCTION_TABLE
_CSS_TOKEN = re.compile(r"got <(?P<kind>\w+)(?: '(?P<value>.*)')? at (?P<at>\d+)>")
_SOUP_CONTAINS = re.compile(r":-soup-contains(?:-own)?\(")
_FALSE_TEXTS = frozenset({"false", "0"})
_JMESPATH_HINT = (
    "write text in single quotes (status == 'ok'), numbers and true/false in backquotes "
    "(success == `true`), and wrap a condition that starts with a quote or [ in double quotes"
)


@dataclass(frozen=True, slots=True)
class StatusSet:
    """HTTP statuses a rule applies to: exact codes and classes (2 for "2xx")."""

    exact: frozenset[int]
    classes: frozenset[int]

    def __call__(self, status: int) -> bool:
        return status in self.exact or status // 100 in self.classes


SUCCESS_ONLY = StatusSet(frozenset(), frozenset({2}))


def status_text(spec: StatusSpec) -> str:
    """The status condition as written, "2xx" when absent."""
    if spec is None:
        return "2xx"
    if isinstance(spec, list):
        return ", ".join(str(s) for s in spec)
    return str(spec)


def compile_status(spec: StatusSpec, at: Path, ctx: CompileContext) -> StatusSet | None:
    """Read ``200``, ``"4xx"`` or a list of them (LP204 on anything else)."""
    if spec is None:
        return SUCCESS_ONLY
    items = spec if isinstance(spec, list) else [spec]
    exact: set[int] = set()
    classes: set[int] = set()
    for j, item in enumerate(items):
        m = _STATUS.match(str(item))
        if m is None:
            where = (*at, j) if isinstance(spec, list) else at
            ctx.error(
                "LP204",
                f"'{item}' is not an HTTP status",
                where,
                hint="write a code such as 200 or 409, a class such as 2xx or 4xx, or a list",
            )
            return None
        if m.group(1):
            exact.add(int(m.group(1)))
        else:
            classes.add(int(m.group(2)))
    return StatusSet(frozenset(exact), frozenset(classes))


def holds(value: Any) -> bool:
    """Whether a condition's result counts as true.

    Not true: null, false, 0, empty text, empty list or object, and the texts "false" and "0"
    (buyers often quote booleans, and XML values are always text).
    """
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_TEXTS and value != ""
    return bool(value)


def check_functions(
    parsed: ParsedResult,
    expr: str,
    at: Path,
    ctx: CompileContext,
    patterns: dict[str, Regex] | None = None,
) -> bool:
    """LP303 for a JMESPath function that does not exist or gets the wrong number of arguments;
    the patterns of ``matches()`` and ``capture()`` are compiled into ``patterns`` (LP305)."""
    stack = [parsed.parsed]
    found = {} if patterns is None else patterns
    while stack:
        node = stack.pop()
        if node.get("type") == "function_expression":
            name, args = node["value"], len(node["children"])
            entry = _FUNCTIONS.get(name)
            where = point(ctx, at, expr, max(expr.find(f"{name}("), 0))
            if entry is None:
                hint = hint_for(name, _FUNCTIONS) or (
                    "see the list at https://jmespath.org/specification.html#built-in-functions"
                )
                message = f"unknown JMESPath function '{name}'"
                ctx.issues.append(Issue("LP303", message, where, hint))
                return False
            signature = entry["signature"]
            variadic = bool(signature) and signature[-1].get("variadic", False)
            wanted = len(signature)
            if args < wanted - variadic or (not variadic and args > wanted):
                count = f"{'at least ' if variadic else ''}{wanted} argument" + "s" * (wanted != 1)
                message = f"the JMESPath function '{name}' takes {count}, not {args}"
                ctx.issues.append(Issue("LP303", message, where, None))
                return False
            if name in REGEX_FUNCTIONS and not _regex_argument(node, name, expr, at, ctx, found):
                return False
            if name == "within" and not _span_argument(node, expr, at, ctx):
                return False
        stack.extend(c for c in node.get("children", ()) if isinstance(c, dict))
    return True


def _span_argument(node: Any, expr: str, at: Path, ctx: CompileContext) -> bool:
    """``within(date, '5y', timestamp)``: the span is written as text and readable (LP303)."""
    span = node["children"][1]
    where = point(ctx, at, expr, max(expr.find("within("), 0))
    if span.get("type") != "literal" or not isinstance(span.get("value"), str):
        hint = "write it in quotes: within(item.date, '5y', timestamp)"
        ctx.issues.append(Issue("LP303", "within() takes its span as text, like '5y'", where, hint))
        return False
    try:
        parse_span(span["value"])
    except SpanError as exc:
        ctx.issues.append(Issue("LP303", f"within(): {exc}", where, None))
        return False
    return True


def _regex_argument(
    node: Any,
    name: str,
    expr: str,
    at: Path,
    ctx: CompileContext,
    found: dict[str, Regex],
) -> bool:
    """The pattern of ``matches()``/``capture()``: text in quotes, compiled once (LP303, LP305)."""
    pattern = node["children"][1]
    where = point(ctx, at, expr, max(expr.find(f"{name}("), 0))
    if pattern.get("type") != "literal" or not isinstance(pattern.get("value"), str):
        message = f"the pattern of {name}() must be written as text in single quotes"
        hint = f"for example {name}(message, '^OK')"
        ctx.issues.append(Issue("LP303", message, where, hint))
        return False
    text: str = pattern["value"]
    if text in found:
        return True
    offset = expr.find(text, max(expr.find(f"{name}("), 0))
    compiled = compile_regex(text, at, ctx, within=(expr, offset))
    if compiled is None:
        return False
    found[text] = compiled
    return True


def _css_problem(exc: cssselect.SelectorError) -> tuple[int, str]:
    """(character offset, plain words) for a CSS selector error."""
    text = str(exc)
    m = _CSS_TOKEN.search(text)
    if m is None:
        return 0, text
    if m.group("kind") == "EOF":
        return int(m.group("at")), "the selector ends too early"
    return int(m.group("at")), f"'{m.group('value')}' is not expected here"


def compile_css(selector: str, at: Path, ctx: CompileContext) -> Callable[[Any], list[Any]] | None:
    """A CSS selector as a compiled XPath over an HTML tree (LP307 when it is not valid)."""
    try:
        xpath = etree.XPath(cssselect.HTMLTranslator().css_to_xpath(selector))
    except (cssselect.SelectorError, etree.XPathError) as exc:
        offset, problem = _css_problem(exc) if isinstance(exc, cssselect.SelectorError) else (0, "")
        message = f"'{selector}' is not a valid CSS selector: {problem or exc}"
        hint = "for example: div.result, #lead-id, span[data-status=ok]"
        soup = _SOUP_CONTAINS.search(selector)
        if soup is not None:  # BeautifulSoup's spelling; cssselect (and leadpost) say :contains
            offset = soup.start()
            message = f"'{soup.group(0)}' is BeautifulSoup's spelling, which leadpost does not read"
            hint = "write :contains('text'): the element's text contains it (capitals matter)"
        ctx.issues.append(Issue("LP307", message, point(ctx, at, selector, offset), hint))
        return None

    def select(tree: Any) -> list[Any]:
        found = xpath(tree)
        return found if isinstance(found, list) else []

    return select


def point(ctx: CompileContext, at: Path, text: str, offset: int) -> Span:
    """Where character ``offset`` of ``text`` (the value written at ``at``) is in the file.

    Exact when the value is written on one line as is (plain or quoted without escapes);
    otherwise the start of the value.
    """
    span = ctx.source.at(at)
    lines = ctx.source.text.splitlines()
    if not 1 <= span.line <= len(lines):
        return span
    line, start = lines[span.line - 1], span.col - 1
    if line[start : start + 1] in ("'", '"'):
        start += 1
    if line[start : start + len(text)] != text:
        return span
    return Span(span.file, span.line, start + min(offset, len(text)) + 1)


def _jmespath_problem(exc: jmespath.exceptions.JMESPathError, expr: str) -> tuple[int, str]:
    """(character offset, plain words) for a JMESPath syntax error."""
    position = getattr(exc, "lex_position", None)
    offset = position if isinstance(position, int) else 0
    if isinstance(exc, jmespath.exceptions.IncompleteExpressionError):
        return len(expr), "the expression ends too early"
    if isinstance(exc, jmespath.exceptions.LexerError):
        m = re.match(r"Unclosed (.) delimiter", exc.message or "")
        if m:
            return offset, f"the {m.group(1)} opened here is never closed"
        return offset, f"'{exc.lexer_value}' is not allowed here"
    token = getattr(exc, "token_value", None)
    if getattr(exc, "token_type", None) == "eof" or token in (None, ""):
        return len(expr), "the expression ends too early"
    return offset, f"'{token}' is not expected here"


def compile_jmespath(
    expr: str, at: Path, ctx: CompileContext, what: str = "this expression"
) -> Search | None:
    """Compile a JMESPath expression once into a search function (LP303, pointing at the problem,
    when it is invalid)."""
    compiled = compile_expression(expr, at, ctx, what)
    return None if compiled is None else compiled.search


def compile_expression(
    expr: str, at: Path, ctx: CompileContext, what: str = "this expression"
) -> CompiledExpression | None:
    """The compiled expression (closures plus its syntax tree), or None after LP303 (or LP108
    for an expression too long or too deeply nested to compile safely)."""
    too_big = expression_limit(expr)
    if too_big is not None:
        message, offset = too_big
        ctx.issues.append(Issue("LP108", f"{what} {message}", point(ctx, at, expr, offset)))
        return None
    try:
        parsed = jmespath.compile(expr)
    except RecursionError:  # a shape the depth count missed: still our error, never a crash
        ctx.issues.append(Issue("LP108", f"{what} is nested too deeply", point(ctx, at, expr, 0)))
        return None
    except jmespath.exceptions.JMESPathError as exc:
        offset, problem = _jmespath_problem(exc, expr)
        message = f"{what} is not valid JMESPath: {problem} (character {offset + 1})"
        ctx.issues.append(Issue("LP303", message, point(ctx, at, expr, offset), _JMESPATH_HINT))
        return None
    patterns: dict[str, Regex] = {}
    if not check_functions(parsed, expr, at, ctx, patterns):
        return None
    return CompiledExpression(ParsedResult(expr, flatten_wildcards(parsed.parsed)), patterns)


def expression_limit(expr: str) -> tuple[str, int] | None:
    """(what is wrong, where) when ``expr`` is longer than :data:`MAX_EXPRESSION` characters or
    nests brackets deeper than :data:`MAX_EXPRESSION_DEPTH` (the JMESPath parser recurses once
    per level); None when it is within the limits. Quoted text is not counted."""
    if len(expr) > MAX_EXPRESSION:
        return f"is {len(expr):,} characters long; at most {MAX_EXPRESSION:,} are allowed", 0
    depth, quote = 0, ""
    for i, c in enumerate(expr):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'`\"":
            quote = c
        elif c in "([{":
            depth += 1
            if depth > MAX_EXPRESSION_DEPTH:
                return f"nests brackets more than {MAX_EXPRESSION_DEPTH} deep", i
        elif c in ")]}":
            depth = max(depth - 1, 0)
    return None


def compile_regex(
    pattern: str, at: Path, ctx: CompileContext, within: tuple[str, int] | None = None
) -> Pattern | None:
    """Compile a regular expression once, with RE2 (LP305 when it is malformed, LP315 when it
    needs a feature RE2 lacks; both pointing at the problem).

    ``within``: the pattern is written inside a longer expression, at this offset of this text
    (``matches(message, '^OK')``), so the caret points into the expression.
    """
    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        offset = exc.offset
        text, start = within if within is not None and within[1] >= 0 else (pattern, 0)
        where = point(ctx, at, text, start + offset)
        if exc.unsupported:
            ctx.issues.append(
                Issue("LP315", f"{exc.message} (character {offset + 1})", where, UNSUPPORTED_HINT)
            )
            return None
        message = f"invalid regular expression: {exc.message} (character {offset + 1})"
        hint = "write a backslash before characters meant literally, e.g. \\| or \\("
        ctx.issues.append(Issue("LP305", message, where, hint))
        return None


def compile_extractor(
    kind: BodyKind, name: str, expr: str, at: Path, ctx: CompileContext
) -> Extractor | None:
    """How one ``extract`` entry reads its value from a body of ``kind``."""
    if not name.isidentifier():
        ctx.error(
            "LP204",
            f"'{name}' cannot name an extracted value",
            at,
            key=True,
            hint="use letters, digits and _ only, e.g. buyer_lead_id",
        )
        return None
    if not expr.strip():
        ctx.error("LP204", f"the expression for '{name}' is empty", at)
        return None
    if kind in ("json", "xml"):
        search = compile_jmespath(expr, at, ctx)
        return None if search is None else _jmespath_extractor(search)
    if kind == "html":
        m = _ATTRIBUTE.match(expr)
        css = compile_css(m.group("css") if m else expr, at, ctx)
        return None if css is None else _css_extractor(css, m.group("attr") if m else None)
    pattern = compile_regex(expr, at, ctx)
    return None if pattern is None else _regex_extractor(pattern)


def _jmespath_extractor(search: Search) -> Extractor:
    def extract(body: Any, _all: bool) -> Any:
        return search(body.doc)

    return extract


def _css_extractor(css: Callable[[Any], list[Any]], attr: str | None) -> Extractor:
    def extract(body: Any, all_: bool) -> Any:
        found = [
            el.get(attr) if attr is not None else css_text(el)
            for el in css(body.tree)
            if isinstance(el.tag, str)
        ]
        found = [v for v in found if v is not None]
        if all_:
            return found or None
        return found[0] if found else None

    return extract


def _regex_extractor(pattern: Pattern) -> Extractor:
    def extract(body: Any, _all: bool) -> Any:
        m = pattern.search(body.text)
        return None if m is None else captured(m, pattern)

    return extract

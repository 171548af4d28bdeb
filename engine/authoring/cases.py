"""``leadpost test``: run the test cases embedded in buyer files and report what differs.

A case renders its lead for one stage and compares the body with ``expect_body`` byte for byte,
or expects the lead to be refused (``expect_reject``), or feeds a sample response to the stage's
rules and compares the outcome and extracted values (``expect``). Secrets are never needed:
every ``${env:NAME}`` the file uses reads the text ``${env:NAME}`` itself, so an expected body
shows where each secret goes.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from lxml import etree

from engine.dsl.kinds import guess_kind, kind_of
from engine.dsl.loader import load_yaml
from engine.errors import AuthoringError, Issue, LeadError, MappingError
from engine.lead import LeadSchema, lead_timestamp, validate_lead
from engine.lead.schema import load_lead_schema
from engine.loading import (
    check_integration,
    display_name,
    find_lead_schema,
    schema_for,
    yaml_files,
)
from engine.plan import IntegrationPlan, Interpretation, RenderContext, TestCasePlan
from engine.runtime.classify import classify_answer
from engine.runtime.eligibility import schedule_reason
from engine.runtime.render import MaskedEnviron, render_request

_FORM = re.compile(rb"[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*")


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The result of one test case; ``problems`` is empty when it passed."""

    name: str
    file: str
    line: int
    problems: tuple[Issue, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class FileTests:
    """The cases of one file, or the problems that kept the file from compiling."""

    file: str
    source: str
    issues: tuple[Issue, ...]
    cases: tuple[CaseResult, ...]
    blocked: tuple[str, ...] = ()
    """A broken lead schema: the buyer files that read it, not run until it is fixed."""

    @property
    def compiled(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


@dataclass(frozen=True, slots=True)
class TestReport:
    """Every file's results. ``ok`` is False when a case failed or a file has errors."""

    __test__ = False  # not a pytest class

    files: tuple[FileTests, ...]

    @property
    def cases(self) -> list[CaseResult]:
        return [c for f in self.files for c in f.cases]

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.cases if not c.passed)

    @property
    def broken_files(self) -> int:
        return sum(1 for f in self.files if not f.compiled)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.broken_files == 0


def test_environ() -> Mapping[str, str]:
    """Every ``${env:NAME}`` reads as its own reference: cases need no real secrets, and an
    expected body shows ``${env:NAME}`` exactly as ``leadpost render`` does."""
    return MaskedEnviron()


# -- comparing -----------------------------------------------------------------------------------


def _pretty(body: bytes) -> str | None:
    """JSON, XML or a form laid out one item per line, or None when the body is none of them."""
    if _FORM.fullmatch(body):
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return "\n".join(f"{k} = {v}" for k, v in pairs)
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return str(etree.tostring(root, pretty_print=True, encoding="unicode"))


def _visible_lines(body: bytes) -> list[str]:
    text = body.decode("utf-8", "backslashreplace")
    return [line.replace("\r", "\\r").replace("\t", "\\t") for line in text.split("\n")]


def body_diff(expected: bytes, actual: bytes) -> str:
    """A readable unified diff: of the laid-out JSON/XML when both parse, else of the bytes."""
    want, got = _pretty(expected), _pretty(actual)
    if want is not None and got is not None and want != got:
        lines = difflib.unified_diff(
            want.splitlines(), got.splitlines(), "expected", "rendered", lineterm="", n=3
        )
        return "\n".join(lines)
    lines = difflib.unified_diff(
        _visible_lines(expected), _visible_lines(actual), "expected", "rendered", lineterm="", n=3
    )
    note = "same content, but the bytes differ (spacing, escaping or encoding):\n"
    return (note if want is not None and want == got else "") + "\n".join(lines)


def same_body(expected: bytes, actual: bytes) -> bool:
    """Byte equality, forgiving the one final newline a YAML ``|`` block adds to expect_body."""
    if expected == actual:
        return True
    return expected.endswith(b"\n") and not actual.endswith(b"\n") and expected[:-1] == actual


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_problem(name: str, expected: str | None, interp: Interpretation) -> str | None:
    if name == "reason":
        actual = interp.values.get("reason", interp.reason)
    else:
        actual = interp.values.get(name)
    if expected is None:
        return None if actual is None else f"expected no {name}, got {_as_text(actual)}"
    if actual is None:
        return f"expected {name} = {expected}, but nothing was extracted"
    if name == "price":
        try:
            if Decimal(expected) == Decimal(_as_text(actual)):
                return None
        except InvalidOperation:
            return f"the expected price '{expected}' is not a number"
    elif _as_text(actual) == expected:
        return None
    return f"expected {name} = {expected}, got {_as_text(actual)}"


# -- running -------------------------------------------------------------------------------------


def _lead_context(
    case: TestCasePlan, schema: LeadSchema | None, environ: Mapping[str, str]
) -> RenderContext | str:
    """The render context of the case's lead, or why the lead cannot be used."""
    if schema is None:
        return "no lead-schema.yaml was found in this file's folder or above it"
    try:
        lead = validate_lead(schema, case.lead)
        now = lead_timestamp(lead)
    except LeadError as exc:
        return "the test lead does not match the lead schema: " + "; ".join(exc.reasons)
    return RenderContext(lead, now, dict(case.prior), environ)


def _check_request(
    plan: IntegrationPlan, case: TestCasePlan, ctx: RenderContext, problems: list[Issue]
) -> None:
    try:
        rendered = render_request(plan, case.stage, ctx, case.env, mask=False)
    except MappingError as exc:
        if case.expect_reject is None:
            problems.append(Issue("LP602", f"expected a request, but the lead was refused: {exc}"))
        elif case.expect_reject.casefold() not in exc.reason.casefold():
            problems.append(
                Issue(
                    "LP602",
                    f"the lead was refused, but not for '{case.expect_reject}': {exc}",
                )
            )
        return
    if case.expect_reject is not None:
        problems.append(
            Issue(
                "LP602",
                f"expected the lead to be refused ('{case.expect_reject}'), but it was rendered",
            )
        )
    if case.expect_body is not None and not same_body(case.expect_body, rendered.payload):
        diff = body_diff(case.expect_body, rendered.payload)
        what = "query string" if plan.stages[case.stage].request.in_query else "request body"
        problems.append(Issue("LP601", f"the {what} differs from expect_body:\n" + diff))


#: Names a test may use for an outcome class: a rule's ``error`` is the class ``bad_response``.
_SAME_AS = {"error": "bad_response"}


def answer_outcome(status: int, interp: Interpretation) -> str:
    """The outcome class a delivery would record for this answer: the deciding rule's outcome,
    else the status's class (``client_error``, ``server_error``, ``rate_limited``, ``auth``)."""
    return classify_answer(status, interp).kind


def exclusion(plan: IntegrationPlan, ctx: RenderContext) -> str | None:
    """Why the buyer's filters, or its schedule at the lead's timestamp, exclude the lead."""
    reason = plan.filters.check(ctx.lead) if plan.filters is not None else None
    if reason is None and plan.schedule is not None:
        reason = schedule_reason(plan.schedule, ctx.now)
    return reason


def excluded_problem(wanted: str, reason: str | None) -> str | None:
    """What is wrong when a case expects exclusion for ``wanted`` and got ``reason``."""
    if reason is None:
        return (
            f"expected the buyer's filters to exclude the lead ('{wanted}'), "
            "but they let it through"
        )
    if wanted.casefold() not in reason.casefold():
        return f"the lead was excluded, but not for '{wanted}': {reason}"
    return None


def _check_excluded(
    plan: IntegrationPlan, case: TestCasePlan, ctx: RenderContext, problems: list[Issue]
) -> None:
    assert case.expect_excluded is not None
    problem = excluded_problem(case.expect_excluded, exclusion(plan, ctx))
    if problem is not None:
        problems.append(Issue("LP602", problem))


def _check_response(plan: IntegrationPlan, case: TestCasePlan, problems: list[Issue]) -> None:
    assert case.response is not None
    sample = case.response
    interp = plan.stages[case.stage].response.interpret(sample.status, sample.headers, sample.body)
    outcome = answer_outcome(sample.status, interp)
    wanted = case.expect_outcome
    if wanted is not None and outcome != _SAME_AS.get(wanted, wanted):
        why = f" ({interp.reason})" if interp.reason else ""
        shown = "error (bad_response)" if outcome == "bad_response" else outcome
        problems.append(Issue("LP602", f"expected outcome {wanted}, got {shown}{why}"))
    for name, expected in case.expect_values.items():
        problem = _value_problem(name, expected, interp)
        if problem is not None:
            problems.append(Issue("LP602", problem))


def run_case(
    plan: IntegrationPlan,
    case: TestCasePlan,
    schema: LeadSchema | None,
    environ: Mapping[str, str] | None = None,
) -> CaseResult:
    """Run one embedded test case; never raises."""
    env = test_environ() if environ is None else environ
    problems: list[Issue] = []
    try:
        lead_checks = (case.expect_body, case.expect_reject, case.expect_excluded)
        if case.lead is not None and any(c is not None for c in lead_checks):
            ctx = _lead_context(case, schema, env)
            if isinstance(ctx, str):
                problems.append(Issue("LP603", ctx))
            elif case.expect_excluded is not None:
                _check_excluded(plan, case, ctx, problems)
            if not isinstance(ctx, str) and (case.expect_body is not None or case.expect_reject):
                _check_request(plan, case, ctx, problems)
        if case.response is not None:
            _check_response(plan, case, problems)
    except Exception as exc:  # a case must report, never crash the whole run
        problems.append(Issue("LP603", f"the test could not run: {exc or type(exc).__name__}"))
    return CaseResult(case.name, plan.file, case.span.line, tuple(problems))


def run_plan_tests(
    plan: IntegrationPlan, schema: LeadSchema | None, environ: Mapping[str, str] | None = None
) -> list[CaseResult]:
    """Every embedded case of one compiled file, in file order."""
    env = test_environ() if environ is None else environ
    return [run_case(plan, case, schema, env) for case in plan.tests]


def run_file(path: str | Path) -> FileTests:
    """Compile one buyer file and run its cases."""
    p = Path(path)
    plan, issues, text = check_integration(p)
    if plan is None:
        return FileTests(display_name(p), text, tuple(issues), ())
    return FileTests(plan.file, text, tuple(issues), tuple(run_plan_tests(plan, schema_for(p))))


def run_tests(paths: Iterable[str | Path]) -> TestReport:
    """Run the cases of every buyer file named or found under ``paths``.

    Files that are not buyer files (no top-level ``buyer:``, e.g. campaigns) have no cases and
    are skipped; a file that cannot be read is reported.
    """
    found = [p for p in yaml_files(paths) if _maybe_buyer(p)]
    broken = _broken_schemas(found)
    rest = [p for p in found if find_lead_schema(p) not in broken]
    return TestReport((*broken.values(), *(run_file(p) for p in rest)))


def _broken_schemas(found: list[Path]) -> dict[Path | None, FileTests]:
    """Each broken lead schema the files read, reported alone with the files it blocks."""
    broken: dict[Path | None, FileTests] = {}
    for schema in dict.fromkeys(find_lead_schema(p) for p in found):
        if schema is None:
            continue
        try:
            load_lead_schema(schema, display_name(schema))
        except AuthoringError as exc:
            readers = tuple(display_name(p) for p in found if find_lead_schema(p) == schema)
            issues = tuple(exc.issues)
            broken[schema] = FileTests(display_name(schema), exc.source or "", issues, (), readers)
    return broken


def _maybe_buyer(path: Path) -> bool:
    try:
        doc = load_yaml(path)
    except AuthoringError:
        return True  # compiling it reports the problem
    kinds = ("buyer",)
    return kind_of(doc.data, kinds) is not None or guess_kind(doc, kinds) is not None


# -- output --------------------------------------------------------------------------------------


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def format_case(case: CaseResult) -> str:
    """``PASS name (file:line)``, or ``FAIL …`` followed by each problem, indented."""
    head = f"{'PASS' if case.passed else 'FAIL'} {case.name} ({case.where})"
    return "\n".join([head, *(_indent(f"{p.code} {p.message}", "    ") for p in case.problems)])


def format_report(report: TestReport) -> str:
    """Every file's compile errors and every case's result, then ``N passed, M failed``."""
    blocks: list[str] = []
    for f in report.files:
        if not f.compiled:
            blocks += [i.render(f.source) for i in f.issues if i.severity == "error"]
        if f.blocked:
            count = len(f.blocked)
            which = (
                f"the {count} buyer files that read it were"
                if count > 1
                else ("the buyer file that reads it was")
            )
            blocks.append(f"fix {f.file} first: {which} not run ({', '.join(f.blocked[:5])})")
        blocks += [format_case(c) for c in f.cases]
    line = f"{report.passed} passed, {report.failed} failed"
    broken = report.broken_files
    if broken:
        line += f"; {broken} file{'s' if broken != 1 else ''} could not be compiled"
    return "\n".join([*blocks, line])

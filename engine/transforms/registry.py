"""The transform registry (an explicit dict) and the compiler of one ``transform:`` step."""

from __future__ import annotations

import re
from string import Formatter
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from engine.dsl.suggest import hint_for
from engine.plan import Transform
from engine.transforms import dates, formats, reduce, states, text, values
from engine.transforms.base import ArgError, TransformDef

if TYPE_CHECKING:
    from engine.compiler.context import CompileContext, Path

__all__ = ["PING_SAFE", "TRANSFORMS", "TransformDef", "compile_step", "describe"]

#: Every transform by name, in the order the reference lists them.
TRANSFORMS: dict[str, TransformDef] = {
    "upper": text.UPPER,
    "lower": text.LOWER,
    "title": text.TITLE,
    "trim": text.TRIM,
    "digits": text.DIGITS,
    "replace": text.REPLACE,
    "substring": text.SUBSTRING,
    "split": text.SPLIT,
    "before": text.BEFORE,
    "after": text.AFTER,
    "translate": values.TRANSLATE,
    "state_name": states.STATE_NAME,
    "state_code": states.STATE_CODE,
    "phone": formats.PHONE,
    "date": dates.DATE,
    "datetime": dates.DATETIME,
    "since": dates.SINCE,
    "within": dates.WITHIN,
    "currency": formats.CURRENCY,
    "number": formats.NUMBER,
    "boolean": formats.BOOLEAN,
    "hash": values.HASH,
    "age": values.AGE,
    "birth_year": reduce.BIRTH_YEAR,
    "age_band": reduce.AGE_BAND,
    "zip3": reduce.ZIP3,
    "email_domain": reduce.EMAIL_DOMAIN,
    "area_code": reduce.AREA_CODE,
    "range": values.RANGE,
}


#: The transforms whose result a ping may send although they read personal data.
PING_SAFE: tuple[str, ...] = tuple(name for name, d in TRANSFORMS.items() if d.ping_safe)


def describe(definition: TransformDef, args: BaseModel | None) -> str:
    """The plain-English summary with its ``{arg}`` placeholders filled from ``args``."""
    if args is None:
        return definition.summary
    names = {f for _, f, _, _ in Formatter().parse(definition.summary) if f}
    return definition.summary.format(**{n: getattr(args, n) for n in names})


def compile_step(
    step: str | dict[str, Any], at: Path, ctx: CompileContext
) -> tuple[Transform, str] | None:
    """Compile one step (``upper``, ``{phone: dashes}``, ``{replace: {find: '-'}}``).

    Returns the run-time callable and its plain-English description, or None after reporting
    LP301 (unknown name) or LP302/LP305 (arguments) at the step's position ``at``.
    """
    if isinstance(step, str):
        name, raw, given, name_at = step, None, False, at
    elif isinstance(step, dict) and len(step) == 1:
        name, raw = next(iter(step.items()))
        given, name_at = raw is not None, (*at, name)
    else:
        ctx.error(
            "LP302",
            "each step names one transform, like 'upper' or 'phone: dashes'",
            at,
            hint="put each transform on its own '- ' line",
        )
        return None
    definition = TRANSFORMS.get(name)
    if definition is None:
        ctx.error(
            "LP301",
            f"unknown transform '{name}'",
            name_at,
            hint=hint_for(name, TRANSFORMS) or "the transforms are: " + ", ".join(TRANSFORMS),
            key=isinstance(step, dict),
        )
        return None
    args_at = (*at, name)
    if definition.args is None:
        if given:
            ctx.error("LP302", f"{name} takes no settings", args_at, hint=f"write it as '- {name}'")
            return None
        args: BaseModel | None = None
    else:
        args = _validate_args(definition, raw, args_at, ctx)
        if args is None:
            return None
    try:
        run = definition.build(args)
    except ArgError as problem:
        where = (*args_at, problem.arg) if problem.arg and isinstance(raw, dict) else args_at
        ctx.error(problem.code, f"{name}: {problem.message}", where, hint=problem.hint)
        return None
    return run, describe(definition, args)


def _validate_args(
    definition: TransformDef, raw: Any, at: Path, ctx: CompileContext
) -> BaseModel | None:
    assert definition.args is not None
    if raw is None:
        data: Any = {}
    elif definition.shorthand is not None and not isinstance(raw, dict | list):
        data = {definition.shorthand: raw}
    else:
        data = raw
    try:
        return definition.args.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            arg, message, hint = _explain(definition, err, raw)
            where = (*at, arg) if arg is not None and isinstance(raw, dict) else at
            unknown = err["type"] == "extra_forbidden"
            ctx.error("LP302", f"{definition.name}: {message}", where, hint=hint, key=unknown)
            if err["type"] == "missing":
                break  # one "needs" message is enough
        return None


def _settings(definition: TransformDef) -> list[str]:
    assert definition.args is not None
    return [f.alias or n for n, f in definition.args.model_fields.items()]


def _usage(definition: TransformDef) -> str:
    return "e.g. " + _yaml_example(definition)


def _yaml_example(definition: TransformDef) -> str:
    arg = definition.example[1]
    if arg is None:
        return f"- {definition.name}"
    if isinstance(arg, dict):
        inner = ", ".join(f"{k}: {_flow(v)}" for k, v in arg.items())
        return f"- {definition.name}: {{{inner}}}"
    return f"- {definition.name}: {_flow(arg)}"


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    text_value = str(value)
    special = (
        not text_value or any(c in text_value for c in ":{}[],#&*!|>'\"%@`") or " " in text_value
    )
    return f"'{text_value}'" if special else text_value


def _explain(definition: TransformDef, err: Any, raw: Any) -> tuple[str | None, str, str | None]:
    """(argument, message, hint) for one pydantic error, in our own words."""
    kind: str = err["type"]
    loc = [p for p in err["loc"] if isinstance(p, str)]
    arg = loc[0] if loc else None
    name = definition.name
    settings = _settings(definition)
    context = err.get("ctx") or {}
    if kind == "missing":
        return None, f"'{arg}' is required", _usage(definition)
    if kind == "extra_forbidden":
        close = hint_for(str(arg), settings)
        return arg, f"unknown setting '{arg}'", close or f"{name} takes: {', '.join(settings)}"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
        return None, "its settings must be written as 'name: value' pairs", _usage(definition)
    if kind == "value_error":
        return (
            (arg if arg in settings else None),
            str(context.get("error", "invalid settings")),
            None,
        )
    what = f"'{arg}'" if arg else "the setting"
    if kind == "literal_error":
        expected = str(context.get("expected", ""))
        close = hint_for(str(err.get("input")), re.findall(r"'([^']*)'", expected))
        return arg, f"{what} must be {expected or 'one of the listed choices'}", close
    if kind.startswith("int") or kind.startswith("float"):
        return arg, f"{what} must be a whole number, like 3", None
    if kind.startswith("decimal") or kind == "finite_number":
        return arg, f"{what} must be a number, like 18 or 99.5", None
    if kind.startswith("bool"):
        return arg, f"{what} must be true or false", None
    if kind.startswith("string_too_short"):
        return arg, f"{what} must not be empty", None
    if kind.startswith("string"):
        return arg, f"{what} must be a single piece of text", None
    if kind == "dict_type":
        return arg, f"{what} must be 'value: replacement' pairs", None
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(context.values()), "")
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }
        return arg, f"{what} must be {words[kind]} {bound}", None
    return arg, f"{what} is not valid here", _usage(definition)

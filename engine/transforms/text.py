"""Text transforms: case, trimming, digits, replacing, cutting out parts of a value."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, model_validator

from engine.patterns import UNSUPPORTED_HINT, Pattern, PatternError, compile_pattern
from engine.plan import RenderContext, Transform
from engine.transforms.base import ArgError, Args, Text, TransformDef, as_text

_WORD = re.compile(r"[^\s\-]+")


def _plain(fn: Any) -> Any:
    """A transform without arguments: the builder ignores its (absent) arguments."""

    def build(_: None) -> Transform:
        def run(value: Any, ctx: RenderContext) -> Any:
            return fn(as_text(value))

        return run

    return build


def _capitalized(word: str) -> str:
    """``o'brien`` -> ``O'Brien``: a one-letter prefix before an apostrophe starts a name too."""
    word = word[:1].upper() + word[1:].lower()
    if len(word) > 2 and word[1] in "'\u2019":
        word = word[:2] + word[2].upper() + word[3:]
    return word


def _title(text: str) -> str:
    return _WORD.sub(lambda m: _capitalized(m.group(0)), text)


def _digits(text: str) -> str:
    return "".join(c for c in text if "0" <= c <= "9")


UPPER = TransformDef(
    "upper", None, None, _plain(str.upper), "in capital letters", ("Austin", None, "AUSTIN")
)
LOWER = TransformDef(
    "lower",
    None,
    None,
    _plain(str.lower),
    "in small letters",
    ("John.Smith@Gmail.com", None, "john.smith@gmail.com"),
)
TITLE = TransformDef(
    "title",
    None,
    None,
    _plain(_title),
    "with each word capitalized",
    ("mary-ann o'NEIL", None, "Mary-Ann O'Neil"),
)
TRIM = TransformDef(
    "trim", None, None, _plain(str.strip), "without spaces around it", ("  Austin ", None, "Austin")
)
DIGITS = TransformDef(
    "digits",
    None,
    None,
    _plain(_digits),
    "keeping digits only",
    ("(512) 555-0142", None, "5125550142"),
)


# -- replace -------------------------------------------------------------------------------------


class ReplaceArgs(Args):
    """``find`` (exact text) or ``pattern`` (regular expression), replaced by ``with``."""

    find: Text | None = None
    pattern: Text | None = None
    with_: Text = Field("", alias="with")

    @model_validator(mode="after")
    def _one(self) -> ReplaceArgs:
        if (self.find is None) == (self.pattern is None):
            raise ValueError("replace needs exactly one of 'find' (exact text) or 'pattern'")
        if self.find == "":
            raise ValueError("'find' must not be empty")
        return self

    @property
    def what(self) -> str:
        target = f"'{self.find}'" if self.find is not None else f"text matching {self.pattern}"
        return f"with {target} replaced by '{self.with_}'" if self.with_ else f"without {target}"


def _compiled(pattern: str) -> Pattern:
    """The pattern compiled with RE2 (LP305 when malformed, LP315 when it needs a feature RE2
    lacks)."""
    try:
        return compile_pattern(pattern)
    except PatternError as exc:
        raise ArgError(
            exc.message if exc.unsupported else f"invalid regular expression: {exc.message}",
            arg="pattern",
            code="LP315" if exc.unsupported else "LP305",
            hint=UNSUPPORTED_HINT if exc.unsupported else None,
        ) from None


_GROUP_REF = re.compile(r"\\(?:(\d+)|g<([^>]*)>)|\\$")


def _check_groups(regex: Pattern, repl: str) -> None:
    """Refuse now, not per lead, a replacement naming a group the pattern does not have."""
    for m in _GROUP_REF.finditer(repl):
        number, name = m.group(1), m.group(2)
        if number is None and name is None:
            raise ArgError("the replacement ends with a lone backslash", arg="with")
        ref = number if number is not None else name or ""
        known = int(ref) <= regex.groups if ref.isdigit() else ref in regex.groupindex
        if not known:
            groups = f"{regex.groups} group" + ("" if regex.groups == 1 else "s")
            raise ArgError(
                f"the replacement refers to group {ref}, but the pattern has {groups}",
                arg="with",
                hint="write \\1 for the first group, \\g<name> for a group (?P<name>…)",
            )


def _replace(args: ReplaceArgs) -> Transform:
    repl = args.with_
    if args.find is not None:
        find = args.find

        def run(value: Any, ctx: RenderContext) -> Any:
            return as_text(value).replace(find, repl)

        return run
    regex = _compiled(args.pattern or "")
    _check_groups(regex, repl)

    def run_pattern(value: Any, ctx: RenderContext) -> Any:
        return regex.sub(repl, as_text(value))

    return run_pattern


REPLACE = TransformDef(
    "replace",
    ReplaceArgs,
    None,
    _replace,
    "{what}",
    ("512.555.0142", {"find": ".", "with": "-"}, "512-555-0142"),
)


# -- substring, split, before, after ---------------------------------------------------------------


class SubstringArgs(Args):
    """``length`` characters from ``start`` (1 = the first; -4 = the fourth from the end)."""

    start: int = 1
    length: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _not_zero(self) -> SubstringArgs:
        if self.start == 0:
            raise ValueError("'start' counts from 1 (the first character); -1 is the last one")
        return self

    @property
    def what(self) -> str:
        if self.start < 0 and (self.length is None or self.length >= -self.start):
            return f"the last {-self.start} characters"
        if self.length is None:
            return f"from character {self.start} on"
        return f"{self.length} characters from character {self.start}"


def _substring(args: SubstringArgs) -> Transform:
    start, length = args.start, args.length

    def run(value: Any, ctx: RenderContext) -> Any:
        text = as_text(value)
        begin = start - 1 if start > 0 else max(len(text) + start, 0)
        return text[begin:] if length is None else text[begin : begin + length]

    return run


SUBSTRING = TransformDef(
    "substring",
    SubstringArgs,
    None,
    _substring,
    "{what}",
    ("5125550142", {"start": 1, "length": 3}, "512"),
)


class SplitArgs(Args):
    """Split at ``separator`` (or ``pattern``; spaces when neither) and keep part ``part``."""

    separator: Text | None = None
    pattern: Text | None = None
    part: int

    @model_validator(mode="after")
    def _check(self) -> SplitArgs:
        if self.separator is not None and self.pattern is not None:
            raise ValueError("split takes 'separator' or 'pattern', not both")
        if self.separator == "":
            raise ValueError("'separator' must not be empty")
        if self.part == 0:
            raise ValueError("'part' counts from 1 (the first part); -1 is the last one")
        return self

    @property
    def what(self) -> str:
        which = f"part {self.part}" if self.part > 0 else f"part {-self.part} from the end"
        if self.separator is not None:
            return f"{which} when split at '{self.separator}'"
        if self.pattern is not None:
            return f"{which} when split at text matching {self.pattern}"
        return f"word {self.part}" if self.part > 0 else f"word {-self.part} from the end"


def _split(args: SplitArgs) -> Transform:
    index = args.part - 1 if args.part > 0 else args.part
    sep = args.separator
    regex = _compiled(args.pattern) if args.pattern is not None else None

    def run(value: Any, ctx: RenderContext) -> Any:
        text = as_text(value)
        parts = regex.split(text) if regex is not None else text.split(sep)
        try:
            part = parts[index]
        except IndexError:
            return ""
        return part if isinstance(part, str) else ""

    return run


SPLIT = TransformDef(
    "split", SplitArgs, None, _split, "{what}", ("John Smith", {"part": -1}, "Smith")
)


class AroundArgs(Args):
    """The text to look for (a space unless given)."""

    text: Text = Field(" ", min_length=1)


def _before(args: AroundArgs) -> Transform:
    sep = args.text

    def run(value: Any, ctx: RenderContext) -> Any:
        return as_text(value).partition(sep)[0]

    return run


def _after(args: AroundArgs) -> Transform:
    sep = args.text

    def run(value: Any, ctx: RenderContext) -> Any:
        _, found, tail = as_text(value).partition(sep)
        return tail if found else ""

    return run


BEFORE = TransformDef(
    "before",
    AroundArgs,
    "text",
    _before,
    "the text before the first '{text}'",
    ("john.smith@gmail.com", "@", "john.smith"),
)
AFTER = TransformDef(
    "after",
    AroundArgs,
    "text",
    _after,
    "the text after the first '{text}'",
    ("john.smith@gmail.com", "@", "gmail.com"),
)

#: This family's transforms, in the order the reference lists them.
TEXT = (UPPER, LOWER, TITLE, TRIM, DIGITS, REPLACE, SUBSTRING, SPLIT, BEFORE, AFTER)

"""Compile a campaign file into a CampaignPlan: buyers resolved by id, order fixed, checks built."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from engine.campaigns import checks as c
from engine.campaigns.buyers import BuyerResolver, find_buyers_dir
from engine.campaigns.models import BuyerEntry, BuyerRef, CampaignSpec, ValidationSpec
from engine.campaigns.plan import CampaignBuyer, CampaignPlan, CheckPlan
from engine.compiler.context import CompileContext
from engine.compiler.context import Path as YamlPath
from engine.compiler.settings import money
from engine.compiler.validity import require_valid
from engine.dsl.issues import validate
from engine.dsl.loader import Document, load_yaml
from engine.errors import AuthoringError, Issue
from engine.files import MAX_SUPPRESSION_BYTES, read_limited
from engine.lead import LeadSchema
from engine.loading import display_name, schema_for
from engine.positions import Span


def check_campaign(
    path: str | Path, *, buyers_dir: str | Path | None = None
) -> tuple[CampaignPlan | None, list[Issue], str]:
    """Load and compile one campaign file: the plan (None on errors), every issue, its text.

    Buyers are looked up in ``buyers_dir``, by default the nearest ``buyers`` folder beside the
    campaign's folder or above it (``integrations/buyers`` for ``integrations/campaigns/x.yaml``).
    """
    p = Path(path)
    try:
        doc = load_yaml(p, display_name(p))
    except AuthoringError as exc:
        return None, exc.issues, exc.source or ""
    plan, issues = compile_campaign(doc, p, buyers_dir=buyers_dir)
    return plan, issues, doc.source.text


def load_campaign(path: str | Path, *, buyers_dir: str | Path | None = None) -> CampaignPlan:
    """The compiled plan of one campaign file; raises AuthoringError listing every problem."""
    plan, issues, text = check_campaign(path, buyers_dir=buyers_dir)
    if plan is None:
        raise AuthoringError(issues, text)
    return plan


def compile_campaign(
    doc: Document, path: str | Path, *, buyers_dir: str | Path | None = None
) -> tuple[CampaignPlan | None, list[Issue]]:
    """Validate and compile a loaded campaign file (found at ``path``) into its plan."""
    spec, issues = validate(CampaignSpec, doc)
    if spec is None:
        return None, issues
    here = Path(path)
    folder = Path(buyers_dir) if buyers_dir is not None else find_buyers_dir(here)
    ctx = CompileContext(doc.source, _schema(here), issues, base_dir=str(here.resolve().parent))
    plan = _compile(spec, doc, ctx, BuyerResolver(folder, ctx))
    own = doc.source.file
    ctx.issues.sort(key=lambda i: _order(i, own))
    return (None if ctx.failed else plan), ctx.issues


def _schema(path: Path) -> LeadSchema | None:
    """The lead schema beside the campaign (for ``require_valid``); None when there is none
    or it has errors (the buyer files that use it report those)."""
    try:
        return schema_for(path)
    except AuthoringError:
        return None


def _order(issue: Issue, own: str) -> tuple[bool, str, int, int]:
    span = issue.span or Span(own, 0, 0)
    return span.file != own, span.file, span.line, span.col


def _compile(
    spec: CampaignSpec, doc: Document, ctx: CompileContext, buyers: BuyerResolver
) -> CampaignPlan | None:
    ping = ctx.duration(spec.ping_deadline, ("ping_deadline",), 0.1)
    total = ctx.duration(spec.total_deadline, ("total_deadline",), 2.0)
    for value, key in ((ping, "ping_deadline"), (total, "total_deadline")):
        if value <= 0:
            ctx.error("LP204", f"{key} must be longer than zero", (key,), hint="e.g. 100ms or 2s")
    if spec.mode == "auction" and 0 < total <= ping:
        ctx.error(
            "LP312",
            f"the ping deadline ({spec.ping_deadline}) must be shorter than the total deadline "
            f"({spec.total_deadline}): the post must fit after the pings",
            ("ping_deadline",),
        )
    if spec.mode != "auction" and spec.floor is not None:
        ctx.warn(
            "LP312",
            "floor only applies to auctions: this campaign does not take bids",
            ("floor",),
            hint="remove it, or set mode: auction",
        )
    wide = tuple(p.strip() for p in spec.require_valid or ())
    require_valid(wide, ("require_valid",), ctx, "the campaign")  # reports a wrong field once
    main = _buyers(spec.buyers, "buyers", ctx, buyers, set(), wide)
    taken = {b.buyer for b, _ in main}
    fallback = _buyers(spec.fallback, "fallback", ctx, buyers, taken, wide)
    if spec.mode == "auction":
        for b, at in main:
            if not b.integration.is_ping_post:
                ctx.error(
                    "LP312",
                    f"buyer '{b.buyer}' has no ping stage, so it cannot bid in an auction",
                    at,
                    hint="move it under fallback: (it then gets the leads nobody bid on), "
                    "or add a ping stage to its file",
                )
    ordered = main if spec.mode == "auction" else _ordered(main, spec.order, ctx)
    plan = CampaignPlan(
        campaign=spec.campaign,
        name=spec.name,
        file=doc.source.file,
        mode=spec.mode,
        buyers=tuple(b for b, _ in ordered),
        ping_deadline=ping,
        total_deadline=total,
        floor=money(ctx, spec.floor, ("floor",)),
        max_post_attempts=spec.max_post_attempts,
        fallback=tuple(b for b, _ in _ordered(fallback, spec.order, ctx)),
        checks=_checks(spec.validation, ctx, buyers),
        when_overloaded=spec.when_overloaded,
    )
    return None if ctx.failed else plan


def _buyers(
    entries: Sequence[BuyerEntry],
    key: str,
    ctx: CompileContext,
    resolver: BuyerResolver,
    taken: set[str],
    wide: tuple[str, ...] = (),
) -> list[tuple[CampaignBuyer, YamlPath]]:
    """Resolve each entry of a buyer list: (buyer, where its id is written), in file order;
    ``wide`` is the campaign's own ``require_valid``, added to each buyer's."""
    out: list[tuple[CampaignBuyer, YamlPath]] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        ref = entry if isinstance(entry, BuyerRef) else BuyerRef(buyer=entry)
        at: YamlPath = (key, i, "buyer") if isinstance(entry, BuyerRef) else (key, i)
        if ref.buyer in seen or ref.buyer in taken:
            where = "under buyers" if ref.buyer in taken else f"twice under {key}"
            ctx.error(
                "LP312",
                f"buyer '{ref.buyer}' is listed {where}: a lead must not be offered to a buyer "
                "twice",
                at,
                hint="keep one entry",
            )
            continue
        seen.add(ref.buyer)
        plan = resolver.get(ref.buyer, at)
        price = money(ctx, ref.price, (key, i, "price")) if ref.price is not None else None
        if plan is None:
            continue
        priority = ref.priority if ref.priority is not None else i + 1
        chosen = price if price is not None else plan.price
        own = [p.strip() for p in ref.require_valid or ()]
        require_valid(own, (key, i, "require_valid"), ctx, "the campaign")  # reports problems
        paths = tuple(dict.fromkeys([*wide, *own]))
        quiet = CompileContext(ctx.source, ctx.lead_schema)  # problems were reported above
        requirement = require_valid(paths, (), quiet, "the campaign")
        out.append((CampaignBuyer(plan, priority, chosen, paths, requirement), at))
    return out


def _ordered(
    buyers: list[tuple[CampaignBuyer, YamlPath]], order: str, ctx: CompileContext
) -> list[tuple[CampaignBuyer, YamlPath]]:
    """Waterfall order: by priority (1 first), or by price (highest first, then priority)."""
    if order != "price":
        return sorted(buyers, key=lambda item: item[0].priority)
    for b, at in buyers:
        if b.price is None:
            ctx.error(
                "LP312",
                f"order: price needs a price for every buyer, and '{b.buyer}' has none",
                at,
                hint=f'give it one here ({{buyer: {b.buyer}, price: "20.00"}}) or in its file',
            )
    zero = Decimal(0)
    by_price = sorted(buyers, key=lambda item: item[0].priority)
    return sorted(by_price, key=lambda item: item[0].price or zero, reverse=True)


def _checks(
    spec: ValidationSpec | None, ctx: CompileContext, resolver: BuyerResolver
) -> tuple[CheckPlan, ...]:
    """The pre-sale checks switched on, in running order: built-in, suppression, services."""
    if spec is None:
        return ()
    out: list[CheckPlan] = []
    for name, check in c.CHECKS.items():
        level = getattr(spec, name)
        if level != "off":
            out.append(CheckPlan(name, level, check))
    suppression = spec.suppression
    if suppression is not None and suppression.level != "off":
        level = suppression.level
        if suppression.file is not None:
            listed = _suppression(suppression.file, ctx)
            if listed is not None:
                out.append(CheckPlan("suppression", level, c.suppression_check(listed)))
        if suppression.store:
            out.append(CheckPlan("suppression:store", level, None, in_store=True))
    for i, service in enumerate(spec.services):
        plan = resolver.get(service.integration, ("validation", "services", i, "integration"))
        if plan is not None and service.level != "off":
            name = f"service:{service.integration}"
            out.append(CheckPlan(name, service.level, None, service=plan))
    return tuple(out)


def _suppression(file: str, ctx: CompileContext) -> c.SuppressionList | None:
    """Read the suppression file (relative to the campaign file); LP313 when it is missing."""
    at: YamlPath = ("validation", "suppression", "file")
    path = Path(ctx.base_dir) / file
    try:
        text = read_limited(path, MAX_SUPPRESSION_BYTES).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why = (
            "it is not UTF-8 text"
            if isinstance(exc, UnicodeDecodeError)
            else "not found"
            if isinstance(exc, FileNotFoundError)
            else exc.strerror or "it cannot be opened"
        )
        ctx.error(
            "LP313",
            f"suppression file '{file}' cannot be read: {why} (looked in {ctx.base_dir})",
            at,
            hint="write the path relative to this campaign file, e.g. ../suppression.txt",
        )
        return None
    name = display_name(path)
    listed, bad = c.parse_suppression(name, text)
    ctx.issues.extend(_bad_lines(bad, name))
    return listed


def _bad_lines(bad: Iterable[c.BadLine], name: str) -> list[Issue]:
    return [
        Issue(
            "LP204",
            f"this line is neither a phone number nor an email address: '{b.text[:40]}'",
            Span(name, b.line, 1),
            hint="write one 10-digit phone number or one email address per line; # starts a note",
            severity="warning",
        )
        for b in bad
    ]

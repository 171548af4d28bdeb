"""Plain-English changes of a campaign file: buyers in and out, order, deadlines, floor, checks."""

from __future__ import annotations

from dataclasses import dataclass

from engine.campaigns.models import BuyerRef, CampaignSpec
from engine.campaigns.plan import CampaignBuyer, CampaignPlan
from engine.diff.changes import Change, Collector
from engine.diff.wording import arrow, duration, shown
from engine.dsl.loader import SourceMap

SETTINGS, BUYERS, CHECKS = "settings", "buyers", "checks"


@dataclass(frozen=True, slots=True)
class CampaignVersion:
    """One side of a campaign file: its validated model, compiled plan and source positions."""

    spec: CampaignSpec
    plan: CampaignPlan
    source: SourceMap


def campaign_changes(base: CampaignVersion, head: CampaignVersion) -> list[Change]:
    """Every behavioural (and documentation) change from ``base`` to ``head``, in area order."""
    out = Collector(head.source)
    a, b = base.spec, head.spec
    if a.campaign != b.campaign:
        out.add(SETTINGS, f"campaign id {arrow(a.campaign, b.campaign)}", ("campaign",))
    if a.name != b.name:
        out.add(SETTINGS, f"name {arrow(a.name, b.name)}", ("name",), behavioural=False)
    if " ".join((a.description or "").split()) != " ".join((b.description or "").split()):
        out.add(SETTINGS, "description changed", ("description",), behavioural=False)
    if a.mode != b.mode:
        out.add(SETTINGS, f"mode {arrow(a.mode, b.mode)}", ("mode",))
    if a.order != b.order and b.mode == "waterfall":
        out.add(SETTINGS, f"waterfall order by {arrow(a.order, b.order)}", ("order",))
    pa, pb = base.plan, head.plan
    for key, label in (("ping_deadline", "ping deadline"), ("total_deadline", "total deadline")):
        old, new = getattr(pa, key), getattr(pb, key)
        if old != new:
            out.add(SETTINGS, f"{label} {duration(old)} → {duration(new)}", (key,))
    if pa.floor != pb.floor:
        was = "no floor" if pa.floor is None else shown(pa.floor)
        now = "no floor" if pb.floor is None else shown(pb.floor)
        out.add(SETTINGS, f"floor {was} → {now}", ("floor",))
    if pa.max_post_attempts != pb.max_post_attempts:
        what = arrow(pa.max_post_attempts, pb.max_post_attempts)
        out.add(SETTINGS, f"post attempts per lead {what}", ("max_post_attempts",))
    if pa.when_overloaded != pb.when_overloaded:
        words = {"refuse": "refused (503)", "queue": "queued for a waterfall"}
        what = arrow(words[pa.when_overloaded], words[pb.when_overloaded])
        out.add(SETTINGS, f"leads under overload are {what}", ("when_overloaded",))
    _buyers("buyers", "the campaign", pa.buyers, pb.buyers, b, out)
    _buyers("fallback", "the fallback", pa.fallback, pb.fallback, b, out)
    _checks(base, head, out)
    return out.changes


def _index(spec: CampaignSpec, key: str, buyer: str) -> tuple[str | int, ...]:
    for i, entry in enumerate(getattr(spec, key)):
        ref = entry if isinstance(entry, BuyerRef) else BuyerRef(buyer=entry)
        if ref.buyer == buyer:
            return (key, i)
    return (key,)


def _buyers(
    key: str,
    where: str,
    old: tuple[CampaignBuyer, ...],
    new: tuple[CampaignBuyer, ...],
    spec: CampaignSpec,
    out: Collector,
) -> None:
    before = {b.buyer: b for b in old}
    after = {b.buyer: b for b in new}
    for b in new:
        at = _index(spec, key, b.buyer)
        was = before.get(b.buyer)
        if was is None:
            price = f", price {shown(b.price)}" if b.price is not None else ""
            out.add(BUYERS, f"buyer {b.buyer} added to {where} (priority {b.priority}{price})", at)
            continue
        if was.priority != b.priority:
            out.add(BUYERS, f"buyer {b.buyer} priority {arrow(was.priority, b.priority)}", at)
        if was.price != b.price:
            out.add(BUYERS, f"buyer {b.buyer} price {arrow(was.price, b.price)}", at)
        if was.require_valid != b.require_valid:
            before_valid = ", ".join(was.require_valid) or "nothing"
            now_valid = ", ".join(b.require_valid) or "nothing"
            what = arrow(before_valid, now_valid)
            out.add(BUYERS, f"buyer {b.buyer} must get valid {what}", at)
    for b in old:
        if b.buyer not in after:
            out.add(BUYERS, f"buyer {b.buyer} removed from {where}", (key,))
    kept_old = [b.buyer for b in old if b.buyer in after]
    kept_new = [b.buyer for b in new if b.buyer in before]
    if kept_old != kept_new:
        out.add(BUYERS, f"{key} now offered in the order {', '.join(kept_new)}", (key,))


def _checks(base: CampaignVersion, head: CampaignVersion, out: Collector) -> None:
    before = {c.name: c.level for c in base.plan.checks}
    after = {c.name: c.level for c in head.plan.checks}
    for name, level in after.items():
        at = _check_path(name)
        if name not in before:
            out.add(CHECKS, f"{name} check added ({level})", at)
        elif before[name] != level:
            out.add(CHECKS, f"{name} check {arrow(before[name], level)}", at)
    for name, level in before.items():
        if name not in after:
            out.add(CHECKS, f"{name} check removed (was {level})", ("validation",))
    a, b = base.spec.validation, head.spec.validation
    old_file = a.suppression.file if a is not None and a.suppression is not None else None
    new_file = b.suppression.file if b is not None and b.suppression is not None else None
    if old_file != new_file and old_file is not None and new_file is not None:
        what = arrow(old_file, new_file)
        out.add(CHECKS, f"suppression file {what}", ("validation", "suppression", "file"))


def _check_path(name: str) -> tuple[str, ...]:
    if name.startswith("suppression"):
        return ("validation", "suppression")
    if name.startswith("service:"):
        return ("validation", "services")
    return ("validation", name)

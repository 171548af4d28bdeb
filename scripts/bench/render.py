"""Benchmark: rendering the 35-field reference integration vs hand-written Python.

Compiles integrations/buyers/harbor-mutual.yaml once (and JSON, XML and form variants of the same
fields), renders the sample leads many times, and compares against hand-written functions that
produce the same bytes (asserted). Prints time per lead and the ratio. Target: within 1.2x.

Run by hand:  .venv/bin/python scripts/bench/render.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.compiler.integration import compile_document  # noqa: E402
from engine.dsl.loader import Document, load_yaml  # noqa: E402
from engine.lead import validate_lead  # noqa: E402
from engine.lead.schema import load_lead_schema  # noqa: E402
from engine.plan import IntegrationPlan, RenderContext  # noqa: E402

CHICAGO = ZoneInfo("America/Chicago")
OWNER = {"own": "Y", "rent": "N"}
PROPERTY = {"single_family": "SFR", "condo": "CONDO", "townhouse": "TOWNHOME"}
CREDIT = {"excellent": "A", "good": "B", "fair": "C", "poor": "D"}


# ------------------------------------------------------------------------------------------------
# The hand-written baseline: what a developer would write for Harbor Mutual's spec.
# ------------------------------------------------------------------------------------------------


def _within(number: int, low: int, high: int) -> int:
    """The buyer's range check (Harbor's spec: ages 18-120, model years 1900-2100, ...)."""
    if not low <= number <= high:
        raise ValueError(f"{number} is outside {low}-{high}")
    return number


def harbor_fields(lead: dict[str, Any]) -> list[tuple[str, Any]]:
    person, attrs, consent = lead["lead"], lead.get("attributes", {}), lead["consent"]
    address = person["address"]
    stamp = datetime.fromisoformat(lead["timestamp"].replace("Z", "+00:00"))
    dob = date.fromisoformat(person["dob"])
    age = stamp.year - dob.year - ((stamp.month, stamp.day) < (dob.month, dob.day))
    digits = person["phone"]
    value = attrs.get("home_value")
    credit = attrs.get("credit_tier")
    if value is not None and value >= 500000 and credit == "excellent":
        tier = "platinum"
    elif value is not None and value >= 250000:
        tier = "gold"
    else:
        tier = "standard"
    premium = attrs.get("current_premium")
    out: list[tuple[str, Any]] = [
        ("source.publisher", lead["source_id"]),
        ("source.vendor", "leadpost"),
        ("source.submitted_at", stamp.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M:%S")),
        ("source.landing_page", attrs.get("landing_page")),
        ("contact.first_name", person["first_name"].strip().title()[:30].rstrip()),
        ("contact.last_name", person["last_name"].strip().title()[:30].rstrip()),
        ("contact.full_name", f"{person['first_name']} {person['last_name']}"[:60].rstrip()),
        ("contact.email", person["email"]),
        (
            "contact.email_sha256",
            hashlib.sha256(person["email"].strip().lower().encode()).hexdigest(),
        ),
        ("contact.phone", f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"),
        ("contact.birth_date", dob.strftime("%m/%d/%Y")),
        ("contact.age", _within(age, 18, 120)),
        ("address.street", address["street"][:40].rstrip()),
        ("address.city", address["city"].title()[:40].rstrip()),
        ("address.state", address["state"]),
        ("address.zip", address["zip"][:5]),
        ("property.owner", OWNER[attrs["homeowner"]]),
        ("property.type", PROPERTY.get(attrs["property_type"], "OTHER")),
        ("property.value", _within(int(value), 0, 100_000_000)),
        ("property.value_display", f"${value:,.0f}"),
        ("property.year_built", _within(int(attrs["year_built"]), 1700, 2100)),
        ("property.years_at_address", _within(int(attrs.get("years_at_address", 0)), 0, 150)),
        ("insurance.coverage", attrs["coverage_type"].upper()),
        ("insurance.currently_insured", bool(attrs.get("currently_insured", False))),
        ("insurance.carrier", (attrs.get("current_carrier") or "None")[:50].rstrip()),
        ("insurance.monthly_premium", float(f"{premium:.2f}")),
        ("insurance.credit", CREDIT[credit]),
        ("insurance.tier", tier),
        ("vehicle.year", _within(int(attrs["vehicle_year"]), 1900, 2100)),
        ("vehicle.make", attrs["vehicle_make"].upper()),
        ("vehicle.model", attrs["vehicle_model"]),
        ("consent.trustedform_url", consent["trustedform_url"]),
        ("consent.jornaya_leadid", consent["jornaya_leadid"]),
        ("consent.tcpa", "Y" if consent["tcpa_consent"] else "N"),
        ("consent.consented_at", consent["consent_timestamp"]),
    ]
    return out


def hand_json(lead: dict[str, Any]) -> bytes:
    doc: dict[str, Any] = {}
    for path, value in harbor_fields(lead):
        group, name = path.split(".")
        doc.setdefault(group, {})[name] = value
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return escape(str(value), {'"': "&quot;", "'": "&apos;"})


def hand_xml(lead: dict[str, Any]) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?><HarborLead>']
    current = None
    for path, value in harbor_fields(lead):
        group, name = path.split(".")
        if group != current:
            if current is not None:
                parts.append(f"</{current}>")
            parts.append(f"<{group}>")
            current = group
        parts.append(f"<{name}>{_text(value)}</{name}>")
    parts.append(f"</{current}></HarborLead>")
    return "".join(parts).encode()


def hand_form(lead: dict[str, Any]) -> bytes:
    pairs = []
    for path, value in harbor_fields(lead):
        text = "true" if value is True else "false" if value is False else str(value)
        pairs.append(f"{path.replace('.', '_')}={quote_plus(text)}")
    return "&".join(pairs).encode()


# ------------------------------------------------------------------------------------------------
# The compiled integration, in three formats
# ------------------------------------------------------------------------------------------------


def variant(doc: Document, fmt: str) -> Document:
    data = copy.deepcopy(doc.data)
    post = data["stages"]["post"]
    if fmt == "xml":
        post["format"] = "xml"
        post["xml"] = {"root": "HarborLead"}
    elif fmt == "form":
        post["format"] = "form"
        post["fields"] = {k.replace(".", "_"): v for k, v in post["fields"].items()}
    data["tests"] = []
    return Document(data, doc.source)


def compiled(fmt: str) -> IntegrationPlan:
    schema = load_lead_schema(ROOT / "integrations" / "lead-schema.yaml")
    doc = load_yaml(ROOT / "integrations" / "buyers" / "harbor-mutual.yaml")
    plan, issues = compile_document(variant(doc, fmt), schema, base_dir=str(ROOT))
    if plan is None:
        raise SystemExit("\n".join(i.render() for i in issues))
    return plan


def engine_renderer(plan: IntegrationPlan) -> Callable[[RenderContext], bytes]:
    request = plan.stages["post"].request
    values = request.render or (lambda ctx: [f.compute(ctx) for f in request.fields])
    encode = request.encoder.encode

    def render(ctx: RenderContext) -> bytes:
        return encode(values(ctx))

    return render


def paired(
    engine: Callable[[], object], hand: Callable[[], object], seconds: float
) -> tuple[float, float]:
    """CPU seconds per call of each, best of interleaved rounds.

    Rounds alternate engine and hand so drift in machine load hits both alike, and CPU time
    (not wall time) is measured so time spent descheduled by other processes does not count.
    """
    best = {"engine": float("inf"), "hand": float("inf")}
    rounds = 20
    for _ in range(rounds):
        for name, fn in (("engine", engine), ("hand", hand)):
            n, start = 0, time.process_time()
            deadline = start + seconds / (2 * rounds)
            while True:
                for _ in range(100):
                    fn()
                n += 100
                now = time.process_time()
                if now >= deadline:
                    break
            best[name] = min(best[name], (now - start) / n)
    return best["engine"], best["hand"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    schema = load_lead_schema(ROOT / "integrations" / "lead-schema.yaml")
    raw = json.loads((ROOT / "integrations" / "leads" / "sample.json").read_text("utf-8"))
    lead = validate_lead(schema, raw)
    now = datetime.fromisoformat(lead["timestamp"].replace("Z", "+00:00"))
    ctx = RenderContext(lead=lead, now=now)
    print(f"{'format':<6} {'engine µs':>10} {'hand µs':>9} {'ratio':>7}")
    worst = 0.0
    for fmt, hand in (("json", hand_json), ("xml", hand_xml), ("form", hand_form)):
        render = engine_renderer(compiled(fmt))
        ours, theirs = render(ctx), hand(lead)
        if ours != theirs:
            print(f"{fmt}: bytes differ\n engine: {ours!r}\n hand:   {theirs!r}")
            return 1
        t_engine, t_hand = paired(lambda r=render: r(ctx), lambda h=hand: h(lead), args.seconds)
        ratio = t_engine / t_hand
        worst = max(worst, ratio)
        print(f"{fmt:<6} {t_engine * 1e6:>10.1f} {t_hand * 1e6:>9.1f} {ratio:>6.2f}x")
    print(f"worst ratio {worst:.2f}x (target ≤ 1.2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

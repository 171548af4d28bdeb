"""Benchmark: rendering list fields (the roadway-auto post and ping) vs hand-written Python.

Compiles integrations/buyers/roadway-auto.yaml once, renders integrations/leads/
sample-auto-drivers.json many times (the post: 3 kept drivers with their incidents and 2
vehicles; the ping: six aggregates over the same items), and compares against hand-written
functions that produce the same bytes (asserted). Prints time per lead and the ratio.

Run by hand:  .venv/bin/python scripts/bench/lists.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.lead import validate_lead  # noqa: E402
from engine.lead.schema import load_lead_schema  # noqa: E402
from engine.loading import load_integration  # noqa: E402
from engine.plan import RenderContext  # noqa: E402


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _within_5y(day: str, ref: date) -> bool:
    d = date.fromisoformat(day)
    try:
        start = ref.replace(year=ref.year - 5)
    except ValueError:  # February 29
        start = ref.replace(year=ref.year - 5, day=28)
    return start <= d <= ref


def _age(born: str, today: date) -> int:
    b = date.fromisoformat(born)
    return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


def hand_post(lead: dict[str, Any], prior: dict[str, Any], today: date) -> bytes:
    person = lead["lead"]
    drivers = []
    for d in [d for d in person["drivers"] if d.get("relationship") != "other"][:4]:
        incidents = d.get("incidents") or []
        out: dict[str, Any] = {
            "first_name": d["first_name"],
            "last_name": d["last_name"],
            "birth_date": date.fromisoformat(d["dob"]).strftime("%m/%d/%Y"),
            "relationship": d.get("relationship") or "self",
            "accidents_5y": sum(
                1 for i in incidents if i["kind"] == "accident" and _within_5y(i["date"], today)
            ),
        }
        items = []
        for i in incidents:
            item: dict[str, Any] = {"type": i["kind"].upper(), "date": i["date"]}
            if "at_fault" in i:
                item["at_fault"] = i["at_fault"]
            items.append(item)
        if items:
            out["incidents"] = items
        drivers.append(out)
    vehicles = []
    for v in person["vehicles"][:6]:
        car: dict[str, Any] = {"year": v["year"], "make": v["make"], "model": v["model"]}
        if "vin" in v:
            car["vin"] = v["vin"]
        if "ownership" in v:
            car["leased"] = v["ownership"] == "leased"
        vehicles.append(car)
    doc = {
        "ping_id": str(prior["ping_id"]),
        "first_name": person["first_name"][:50],
        "last_name": person["last_name"][:50],
        "phone": person["phone"],
        "state": person["address"]["state"],
        "zip": person["address"]["zip"],
        "drivers": drivers,
        "vehicles": vehicles,
    }
    return _dumps(doc)


def hand_ping(lead: dict[str, Any], today: date) -> bytes:
    person = lead["lead"]
    kept = [d for d in person["drivers"] if d.get("relationship") != "other"][:4]
    vehicles = person["vehicles"][:6]
    accidents = [
        d
        for d in kept
        if any(
            i["kind"] == "accident" and _within_5y(i["date"], today)
            for i in d.get("incidents") or []
        )
    ]
    doc = {
        "state": person["address"]["state"],
        "zip": person["address"]["zip"],
        "drivers": len(kept),
        "youngest_driver_age": min(_age(d["dob"], today) for d in kept),
        "drivers_with_accidents_5y": len(accidents),
        "vehicles": len(vehicles),
        "newest_vehicle_year": max(v["year"] for v in vehicles),
        "any_leased": any(v.get("ownership") == "leased" for v in vehicles),
    }
    return _dumps(doc)


def per_call(fn: Callable[[], bytes], seconds: float) -> float:
    """Microseconds per call, best of three timed runs of about ``seconds / 3`` each."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.1:
        fn()
        n += 1
    batch = max(n, 1)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        rounds = 0
        while time.perf_counter() - start < seconds / 3:
            for _ in range(batch):
                fn()
            rounds += batch
        best = min(best, (time.perf_counter() - start) / rounds)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    schema = load_lead_schema(ROOT / "integrations" / "lead-schema.yaml")
    plan = load_integration(ROOT / "integrations" / "buyers" / "roadway-auto.yaml", schema)
    raw = json.loads((ROOT / "integrations" / "leads" / "sample-auto-drivers.json").read_text())
    lead = validate_lead(schema, raw)
    now = datetime.fromisoformat(lead["timestamp"].replace("Z", "+00:00"))
    prior = {"ping_id": "ROAD-7f3a9c"}
    post, ping = plan.stages["post"].request, plan.stages["ping"].request
    assert post.render is not None and ping.render is not None

    def engine_post() -> bytes:
        ctx = RenderContext(lead, now, {"ping": prior})
        return post.encoder.encode(post.render(ctx))  # type: ignore[misc]

    def engine_ping() -> bytes:
        return ping.encoder.encode(ping.render(RenderContext(lead, now)))  # type: ignore[misc]

    today = now.date()
    assert engine_post() == hand_post(lead, prior, today), (
        engine_post(),
        hand_post(lead, prior, today),
    )
    assert engine_ping() == hand_ping(lead, today), (engine_ping(), hand_ping(lead, today))
    print("stage  engine µs   hand µs   ratio")
    for name, mine, theirs in (
        ("post", engine_post, lambda: hand_post(lead, prior, today)),
        ("ping", engine_ping, lambda: hand_ping(lead, today)),
    ):
        a, b = per_call(mine, args.seconds), per_call(theirs, args.seconds)
        print(f"{name:5} {a:10.1f} {b:9.1f} {a / b:6.2f}x")


if __name__ == "__main__":
    main()

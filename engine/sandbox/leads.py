"""Seeded sample leads for the demo: varied states, names and values; a few fail the checks."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

#: State -> (city, ZIP, area code): real places, so every generated phone number is a valid one.
PLACES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "TX": (("Austin", "78701", "512"), ("Houston", "77002", "713"), ("Dallas", "75201", "214")),
    "CA": (("Los Angeles", "90027", "213"), ("San Diego", "92101", "619")),
    "FL": (("Miami Beach", "33139", "305"), ("Orlando", "32801", "407")),
    "AZ": (("Phoenix", "85004", "602"), ("Tucson", "85701", "520")),
    "NY": (("Queens", "11105", "718"), ("Buffalo", "14202", "716")),
    "IL": (("Chicago", "60601", "312"),),
    "GA": (("Atlanta", "30303", "404"),),
    "NC": (("Charlotte", "28202", "704"),),
    "OH": (("Columbus", "43215", "614"),),
    "WA": (("Seattle", "98101", "206"),),
}
FIRST = (
    *("John", "Mary-Kate", "José", "Siobhán", "Wei", "Aisha", "Dmitri", "Chloé", "Luis", "Zoë"),
    *("Grace", "Omar", "Hana", "Patrick", "Nguyen", "Emily", "Björn", "Priya", "Sam", "Ana"),
)
LAST = (
    *("Smith", "D'Angelo", "Ñúñez", "O'Brien", "Chen", "Okafor", "Ivanov", "Dubois", "García"),
    *("Müller", "Johnson", "Haddad", "Tanaka", "Walsh", "Tran", "Brown", "Larsen", "Patel"),
)
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "proton.me")
CARRIERS = ("State Farm", "Allstate", "GEICO", "Progressive", "Citizens Property Insurance")
STREETS = ("Main St", "Oak Ave", "Ocean Dr", "Sunset Blvd", "Ditmars Blvd", "Elm St", "Lake Rd")


def _email(rng: random.Random, first: str, last: str) -> str:
    ascii_name = "".join(
        c for c in f"{first}.{last}".lower() if (c.isascii() and c.isalnum()) or c == "."
    )
    return f"{ascii_name or 'lead'}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"


def make_lead(rng: random.Random, at: datetime, number: int) -> dict[str, Any]:
    """One raw lead (as a web form would send it) submitted at ``at``."""
    state = rng.choice(tuple(PLACES))
    city, zip_code, area = rng.choice(PLACES[state])
    first, last = rng.choice(FIRST), rng.choice(LAST)
    owner = rng.random() < 0.65
    coverage = rng.choice(
        ("auto", "home", "bundle", "condo", "renters") if owner else ("auto", "renters")
    )
    insured = rng.random() < 0.7
    attributes: dict[str, Any] = {
        "credit_tier": rng.choice(("excellent", "good", "good", "fair", "poor")),
        "homeowner": "own" if owner else "rent",
        "coverage_type": coverage,
        "currently_insured": insured,
        "years_at_address": rng.randint(0, 25),
        "marital_status": rng.choice(("single", "married", "divorced", "widowed")),
    }
    if owner:
        attributes["home_value"] = rng.randrange(90_000, 1_200_000, 5_000)
        attributes["property_type"] = rng.choice(("single_family", "condo", "townhouse"))
        attributes["year_built"] = rng.randint(1950, 2022)
    if coverage in ("auto", "bundle"):
        attributes["vehicle_year"] = rng.randint(2005, 2024)
        attributes["vehicle_make"] = rng.choice(("Toyota", "Honda", "Ford", "Tesla", "Subaru"))
        attributes["vehicle_model"] = rng.choice(("Camry", "CR-V", "F-150", "Model 3", "Outback"))
    if insured:
        attributes["current_carrier"] = rng.choice(CARRIERS)
        attributes["current_premium"] = round(rng.uniform(60, 400), 2)
    consent_at = at - timedelta(seconds=rng.randint(2, 90))
    lead = {
        "source_id": f"pub-{rng.choice((1042, 2210, 3307, 4471))}-demo",
        "timestamp": at.isoformat(),
        "lead": {
            "first_name": first,
            "last_name": last,
            "email": _email(rng, first, last),
            "phone": f"({area}) 555-01{rng.randint(0, 99):02d}",
            "dob": f"{rng.randint(1950, 2003)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "address": {
                "street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                "city": city,
                "state": state,
                "zip": zip_code,
            },
        },
        "attributes": attributes,
        "consent": {
            "trustedform_url": "https://cert.trustedform.com/" + f"{rng.getrandbits(160):040x}",
            "tcpa_consent": True,
            "consent_timestamp": consent_at.isoformat(),
        },
    }
    _spoil(rng, lead, number)
    return lead


def _spoil(rng: random.Random, lead: dict[str, Any], number: int) -> None:
    """Make about one lead in twenty fail a pre-sale check, as real traffic does."""
    if number % 20 != 7:
        return
    trouble = rng.choice(("disposable", "no_consent", "suppressed"))
    if trouble == "disposable":
        lead["lead"]["email"] = f"quote{number}@mailinator.com"
    elif trouble == "no_consent":
        lead["consent"]["tcpa_consent"] = False
    else:
        lead["lead"]["phone"] = "(512) 555-0100"  # on integrations/suppression.txt


def make_leads(count: int, seed: int, now: datetime) -> list[dict[str, Any]]:
    """``count`` raw leads, the same ones for the same seed (timestamps just before ``now``)."""
    rng = random.Random(seed)
    return [make_lead(rng, now - timedelta(seconds=count - i), i) for i in range(count)]

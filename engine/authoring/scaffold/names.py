"""Which lead field a spec property means, by its name, its parents' names and its description.

Names are cut into lower-case words (``TCPA_Consent__c`` -> tcpa, consent; ``DateOfBirth`` ->
date, dob), spelling variants folded (fname -> first, zip5 -> zip, veh -> vehicle), and
compared with a few word sets per lead field. A set scores by the share of the property's words
(its own and its parent's) it explains, so ``Consent.Timestamp`` is the consent time, not the
lead's. Lead fields not listed here match on their own dotted names. Hand-written on purpose:
no library knows that lead buyers say ``src`` for the publisher or ``zip5`` for a ZIP code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher

_WORD = re.compile(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+")
_NOISE = frozenset({"c", "of", "the", "a", "an", "is", "in", "to", "x"})
_FOLD = {
    "fname": ("first",), "firstname": ("first",), "given": ("first",), "forename": ("first",),
    "lname": ("last",), "lastname": ("last",), "surname": ("last",),
    "zip5": ("zip",), "zipcode": ("zip",), "postcode": ("zip",), "postal": ("zip",),
    "dob": ("dob",), "birth": ("dob",), "birthdate": ("dob",), "birthday": ("dob",),
    "tel": ("phone",), "telephone": ("phone",), "mobile": ("phone",), "cell": ("phone",),
    "phonenumber": ("phone",), "mail": ("email",), "emailaddress": ("email",),
    "addr": ("address",), "address1": ("street",), "line1": ("street",), "street1": ("street",),
    "veh": ("vehicle",), "auto": ("vehicle",), "car": ("vehicle",),
    "trustedform": ("trusted", "form"), "leadid": ("leadid",), "jornaya": ("jornaya",),
    "homeowner": ("home", "owner"), "own": ("owner",), "ownership": ("owner",),
    "src": ("source",), "pub": ("publisher",), "sub": ("source",), "cert": ("certificate",),
    "consented": ("consent",), "opt": ("consent",), "tcpa": ("tcpa",),
    "yr": ("year",), "insurer": ("carrier",), "company": ("company",),
}  # fmt: skip

#: Extra word sets per lead field (each line: the ways buyers name it).
ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("source", "source id", "source code", "publisher", "publisher id", "vendor id",
                  "affiliate id", "sub id", "publisher sub id"),
    "timestamp": ("timestamp", "submitted at", "submitted", "created at", "submission date",
                  "lead date", "date submitted"),
    "lead.first_name": ("first", "first name"),
    "lead.last_name": ("last", "last name"),
    "lead.email": ("email",),
    "lead.phone": ("phone", "primary phone", "home phone", "day phone"),
    "lead.dob": ("dob", "date dob", "age"),
    "lead.address.street": ("street", "address", "street address", "address street"),
    "lead.address.city": ("city", "town"),
    "lead.address.state": ("state", "state code", "province"),
    "lead.address.zip": ("zip", "zip code", "postal code"),
    "attributes.credit_tier": ("credit", "credit rating", "credit tier", "credit score"),
    "attributes.homeowner": ("home owner", "owner", "owns home", "residence owner"),
    "attributes.home_value": ("home value", "property value", "house value"),
    "attributes.property_type": ("property type", "property", "home type", "dwelling"),
    "attributes.year_built": ("year built", "built"),
    "attributes.years_at_address": ("years at address", "years at residence", "residence years"),
    "attributes.coverage_type": ("coverage", "coverage type", "insurance type"),
    "attributes.currently_insured": ("insured", "currently insured", "has insurance"),
    "attributes.current_carrier": ("carrier", "current carrier", "insurance company"),
    "attributes.current_premium": ("premium", "current premium", "monthly premium"),
    "attributes.vehicle_year": ("vehicle year", "year vehicle", "model year"),
    "attributes.vehicle_make": ("vehicle make", "make"),
    "attributes.vehicle_model": ("vehicle model", "model"),
    "attributes.marital_status": ("marital status", "marital", "married"),
    "attributes.landing_page": ("landing page", "page url", "landing url", "source url"),
    "consent.trustedform_url": ("trusted form", "trusted form url", "trusted form certificate",
                                "certificate", "consent certificate", "certificate url"),
    "consent.jornaya_leadid": ("jornaya", "leadid", "jornaya leadid", "universal leadid"),
    "consent.tcpa_consent": ("tcpa", "tcpa consent", "consent", "opt in", "consent given"),
    "consent.consent_timestamp": ("consent timestamp", "consent date", "consent time",
                                  "tcpa timestamp", "consent at", "consent date time"),
}  # fmt: skip


#: Words naming things a lead does not hold (the consumer's device, the web session): a name
#: with one of them is not matched by an alias that leaves it out (``ipAddress`` is no street).
_FOREIGN = frozenset(
    {"ip", "agent", "user", "browser", "device", "session", "cookie", "referrer", "referer",
     "utm", "gclid", "os", "platform", "language", "locale"}
)  # fmt: skip


def words(name: str) -> tuple[str, ...]:
    """The folded words of a name: ``TCPA_Consent__c`` -> (tcpa, consent)."""
    out: list[str] = []
    name = re.sub(r"(?i)leadid", "Leadid", name)  # Jornaya's LeadiD, however it is cased
    raws: list[str] = []
    for raw in _WORD.findall(name.replace("@", " ")):
        if raw.isdigit() and raws:  # address_2 is address2 (a second line), zip_5 is zip5
            raws[-1] += raw
        else:
            raws.append(raw)
    for raw in raws:
        word = raw.lower()
        if word in _NOISE:
            continue
        out.extend(_FOLD.get(word, (word,)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A lead field a property's name points at, how sure, and the words that decided it."""

    lead_field: str
    score: float
    """0–1: the share of the property's words the lead field explains."""
    why: str


def _sets(lead_fields: Iterable[str]) -> dict[str, list[frozenset[str]]]:
    found: dict[str, list[frozenset[str]]] = {}
    for path in lead_fields:
        own = [frozenset(words(path.rpartition(".")[2]))]
        own += [frozenset(words(alias)) for alias in ALIASES.get(path, ())]
        found[path] = [s for s in own if s]
    return found


def name_matches(
    path: tuple[str | int, ...],
    lead_fields: Iterable[str],
    descriptions: Mapping[str, str] | None = None,
    description: str = "",
) -> list[NameMatch]:
    """Lead fields the property at ``path`` may mean, best first (ties keep the lead order)."""
    names = [str(p) for p in path if isinstance(p, str)]
    if not names:
        return []
    own = frozenset(words(names[-1]))
    context = own | frozenset(words(names[-2]) if len(names) > 1 else ())
    if not own:
        return []
    joined = "".join(words(names[-1]))
    found: list[NameMatch] = []
    for lead_field, sets in _sets(lead_fields).items():
        best, why = 0.0, ""
        for alias in sets:
            if (own & _FOREIGN) - alias:
                continue
            if alias & own and alias <= context:
                score = len(alias) / len(context)
                if alias == own:
                    score = max(score, 0.75)
                if score > best:
                    best, why = score, "name: " + " ".join(sorted(alias))
            elif len(joined) >= 5 and _digits(joined) == _digits("".join(alias)):
                ratio = SequenceMatcher(None, joined, "".join(sorted(alias))).ratio()
                if ratio >= 0.9 and 0.6 * ratio > best:
                    best, why = 0.6 * ratio, f"name looks like '{' '.join(sorted(alias))}'"
        if best == 0.0 and descriptions and description:
            score = _description_score(description, descriptions.get(lead_field, ""))
            if score >= 0.6:
                best, why = 0.4 * score, "description"
        if best > 0.0:
            found.append(NameMatch(lead_field, round(best, 3), why))
    found.sort(key=lambda m: -m.score)
    return found


def _digits(text: str) -> str:
    """The digits of a name: ``address2`` is not ``address``, however alike they look."""
    return re.sub(r"\D", "", text)


def _description_score(spec_text: str, lead_text: str) -> float:
    """Share of the lead field's description words found in the spec's description."""
    lead_words = set(words(lead_text)) - {"consumer", "s", "when", "the"}
    if len(lead_words) < 2:
        return 0.0
    return len(lead_words & set(words(spec_text))) / len(lead_words)

"""Simulated buyers that speak JSON: Harbor, Salesforce (Summit), Beacon and generic-json."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from engine.sandbox.base import Answer, Buyer, Dialect, Incoming, Route
from engine.sandbox.dice import Roll

#: Keys that make a ping carry personal data (buyers refuse such pings).
PII = ("first_name", "last_name", "email", "phone", "street", "address", "dob")


def _dig(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _missing(data: Mapping[str, Any], required: tuple[str, ...]) -> list[str]:
    return [name for name in required if _dig(data, name) in (None, "")]


def _bearer(call: Incoming) -> str | None:
    auth = call.header("authorization") or ""
    return auth[7:].strip() if auth[:7].lower() == "bearer " else None


def _pii(data: Mapping[str, Any]) -> list[str]:
    return [key for key in PII if key in data]


class Harbor(Dialect):
    """Harbor Mutual: JSON direct post, ``X-Api-Key``, deduplicates by ``Idempotency-Key``."""

    name = "harbor"
    summary = "JSON post to /v2/leads; X-Api-Key header; status accepted/duplicate/rejected"
    secrets: ClassVar[Mapping[str, str]] = {"api_key": "HARBOR_API_KEY"}
    reasons = ("outside service area", "home too old", "credit tier not accepted")
    REQUIRED = ("contact.first_name", "contact.last_name", "contact.phone", "address.zip")

    def routes(self) -> Mapping[str, Route]:
        return {"/v2/leads": Route("post", self.post)}

    def error(self, status: int, message: str) -> Answer:
        return Answer.json({"status": "error", "errors": [{"message": message}]}, status)

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        if call.header("x-api-key") != buyer.secret("api_key"):
            buyer.count("auth_failures")
            return self.error(401, "invalid or missing API key")
        key = call.header("idempotency-key")
        if (earlier := buyer.replay(key)) is not None:
            return earlier
        data = call.json_object()
        if data is None:
            buyer.count("bad_requests")
            return self.error(400, "the request body must be a JSON object")
        if missing := _missing(data, self.REQUIRED):
            buyer.count("bad_requests")
            errors = [{"message": f"{name} is required"} for name in missing]
            return Answer.json({"status": "error", "errors": errors}, 422)
        verdict = buyer.verdict(roll.verdict)
        lead_id = f"HM-{roll.serial}"
        answer: dict[str, Any] = {"status": verdict, "lead_id": lead_id}
        if verdict == "accepted":
            answer["redirect_url"] = f"https://harbormutual.example/thanks/{roll.serial}"
        elif verdict == "rejected":
            answer = {"status": "rejected", "errors": [{"message": roll.reason}]}
        return buyer.keep(key, Answer.json(answer))


class Salesforce(Dialect):
    """Summit's Salesforce org: OAuth client credentials, sobjects JSON, Salesforce errors."""

    name = "salesforce"
    summary = (
        "OAuth token at /services/oauth2/token; Lead JSON to /services/data/v60.0/sobjects/Lead"
    )
    secrets: ClassVar[Mapping[str, str]] = {
        "client_id": "SUMMIT_CLIENT_ID",
        "client_secret": "SUMMIT_CLIENT_SECRET",
    }
    reasons = ("State is not served by Summit", "Home value is below the minimum")
    FIELDS = frozenset(
        {
            *("FirstName", "LastName", "Email", "Phone", "MobilePhone", "Company", "Title"),
            *("Street", "City", "State", "PostalCode", "Country", "LeadSource", "Description"),
            *("Status", "Industry", "Rating", "Website"),
        }
    )
    EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    def routes(self) -> Mapping[str, Route]:
        return {
            "/services/oauth2/token": Route("token", self.token),
            "/services/data/v60.0/sobjects/Lead": Route("post", self.post),
        }

    def error(self, status: int, message: str) -> Answer:
        code = {401: "INVALID_SESSION_ID", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
        return self._errors(status, message, code.get(status, "SERVER_UNAVAILABLE"))

    @staticmethod
    def _errors(status: int, message: str, code: str, fields: list[str] | None = None) -> Answer:
        return Answer.json(
            [{"message": message, "errorCode": code, "fields": fields or []}], status
        )

    def token(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        form = call.form() or {}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = call.header("authorization") or ""
        if basic[:6].lower() == "basic ":
            try:
                pair = base64.b64decode(basic[6:], validate=True).decode()
            except ValueError:
                pair = ""
            client_id, _, secret = pair.partition(":")
        if form.get("grant_type") != "client_credentials":
            buyer.count("bad_requests")
            failure = {
                "error": "unsupported_grant_type",
                "error_description": "grant type not supported",
            }
            return Answer.json(failure, 400)
        if client_id != buyer.secret("client_id") or secret != buyer.secret("client_secret"):
            buyer.count("auth_failures")
            failure = {"error": "invalid_client", "error_description": "invalid client credentials"}
            return Answer.json(failure, 400)
        token = f"00D5e0000SANDBOX!{roll.token}{roll.serial}"
        buyer.issue_token(token)
        return Answer.json(
            {
                "access_token": token,
                "instance_url": call.base_url,
                "id": f"https://login.salesforce.com/id/00D5e0000SANDBOX/005{roll.serial}",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
                "scope": form.get("scope", "api"),
                "expires_in": int(buyer.sim.token_ttl),
            }
        )

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        if not buyer.token_valid(_bearer(call)):
            buyer.count("auth_failures")
            return self.error(401, "Session expired or invalid")
        data = call.json_object()
        if data is None:
            buyer.count("bad_requests")
            return self._errors(400, "The request body is not a JSON object", "JSON_PARSER_ERROR")
        unknown = [k for k in data if k not in self.FIELDS and not k.endswith("__c")]
        if unknown:
            buyer.count("bad_requests")
            text = f"No such column '{unknown[0]}' on sobject of type Lead"
            return self._errors(400, text, "INVALID_FIELD")
        if missing := _missing(data, ("LastName", "Company")):
            buyer.count("bad_requests")
            text = f"Required fields are missing: [{', '.join(missing)}]"
            return self._errors(400, text, "REQUIRED_FIELD_MISSING", missing)
        email = data.get("Email")
        if email is not None and not self.EMAIL.match(str(email)):
            buyer.count("rejected")
            text = f"Email: invalid email address: {email}"
            return self._errors(400, text, "INVALID_EMAIL_ADDRESS", ["Email"])
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            return Answer.json(
                {"id": f"00Q5e0000{roll.serial:06d}IAA", "success": True, "errors": []}, 201
            )
        if verdict == "duplicate":
            return self._errors(400, "Use one of these records?", "DUPLICATES_DETECTED")
        return self._errors(400, roll.reason, "FIELD_CUSTOM_VALIDATION_EXCEPTION")


class Beacon(Dialect):
    """Beacon: JSON ping/post with a bearer token; numeric ping ids sent back as text."""

    name = "beacon"
    summary = "JSON ping to /api/ping (bid, numeric ping_id) and post to /api/post; bearer token"
    secrets: ClassVar[Mapping[str, str]] = {"token": "BEACON_TOKEN"}
    reasons = ("lead does not match the filters", "bid window closed")

    def routes(self) -> Mapping[str, Route]:
        return {"/api/ping": Route("ping", self.ping), "/api/post": Route("post", self.post)}

    def error(self, status: int, message: str) -> Answer:
        return Answer.json({"status": "error", "message": message}, status)

    def _refuse(self, buyer: Buyer, call: Incoming) -> Answer | None:
        if _bearer(call) != buyer.secret("token"):
            buyer.count("auth_failures")
            return self.error(401, "invalid bearer token")
        return None

    def ping(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        if (refused := self._refuse(buyer, call)) is not None:
            return refused
        data = call.json_object()
        problem = "the request body must be a JSON object" if data is None else ""
        if data is not None and (missing := _missing(data, ("state", "zip5"))):
            problem = f"missing {', '.join(missing)}"
        if data is not None and (personal := _pii(data)):
            problem = f"a ping must not carry personal data ({', '.join(personal)})"
        if problem:
            buyer.count("bad_requests")
            return self.error(400, problem)
        if not roll.bids:
            buyer.count("no_bids")
            return Answer.json({"status": "no_bid"})
        buyer.issue_ping(str(roll.serial), roll.price)
        return Answer.json({"status": "bid", "bid": str(roll.price), "ping_id": roll.serial})

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        if (refused := self._refuse(buyer, call)) is not None:
            return refused
        data = call.json_object()
        if data is None or not isinstance(data.get("ping_id"), str):
            buyer.count("bad_requests")
            return self.error(400, "the post must be a JSON object with the ping_id as text")
        price = buyer.take_ping(data["ping_id"])
        if price is None:
            return Answer.json({"result": "rejected", "message": "unknown or expired ping_id"})
        if missing := _missing(data, ("first_name", "last_name", "phone")):
            buyer.count("bad_requests")
            return Answer.json({"result": "rejected", "message": f"missing {', '.join(missing)}"})
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            return Answer.json(
                {"result": "sold", "lead_id": f"BCN-{roll.serial}", "price": float(price)}
            )
        if verdict == "duplicate":
            return Answer.json({"result": "duplicate", "message": "lead already sold to Beacon"})
        return Answer.json({"result": "rejected", "message": roll.reason})


class GenericJson(Dialect):
    """The generic ping/post buyer: see the module docs of engine.sandbox for its format."""

    name = "generic-json"
    summary = "JSON ping to /ping and post to /post; X-Api-Key header; status/reason answers"
    secrets: ClassVar[Mapping[str, str]] = {"api_key": ""}
    reasons = ("no capacity right now", "lead does not match the filters", "price too low")

    def default_secrets(self, buyer_id: str) -> dict[str, str]:
        return {"api_key": re.sub(r"\W", "_", buyer_id.upper()) + "_KEY"}

    def routes(self) -> Mapping[str, Route]:
        return {"/ping": Route("ping", self.ping), "/post": Route("post", self.post)}

    def error(self, status: int, message: str) -> Answer:
        return Answer.json({"status": "error", "reason": message}, status)

    def _read(self, buyer: Buyer, call: Incoming) -> dict[str, Any] | Answer:
        if call.header("x-api-key") != buyer.secret("api_key"):
            buyer.count("auth_failures")
            return self.error(401, "invalid or missing API key")
        data = call.json_object()
        if data is None:
            buyer.count("bad_requests")
            return self.error(400, "the request body must be a JSON object")
        return data

    def ping(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        data = self._read(buyer, call)
        if isinstance(data, Answer):
            return data
        problem = ""
        if missing := _missing(data, ("state", "zip")):
            problem = f"missing {', '.join(missing)}"
        elif personal := _pii(data):
            problem = f"a ping must not carry personal data ({', '.join(personal)})"
        if problem:
            buyer.count("bad_requests")
            return self.error(400, problem)
        if not roll.bids:
            buyer.count("no_bids")
            return Answer.json({"status": "no_bid", "reason": f"no demand in {data['state']}"})
        prefix = buyer.sim.id.split("-", 1)[0].upper()
        ping_id = f"{prefix}-{roll.token[:10]}"
        buyer.issue_ping(ping_id, roll.price)
        ttl = int(buyer.sim.ping_ttl)
        return Answer.json(
            {"status": "bid", "bid": str(roll.price), "ping_id": ping_id, "expires_in": ttl}
        )

    def post(self, buyer: Buyer, call: Incoming, roll: Roll) -> Answer:
        data = self._read(buyer, call)
        if isinstance(data, Answer):
            return data
        ping_id = data.get("ping_id")
        price: Decimal | None = buyer.take_ping(ping_id) if isinstance(ping_id, str) else None
        if price is None:
            return Answer.json({"status": "rejected", "reason": "unknown or expired ping_id"})
        if missing := _missing(data, ("first_name", "last_name", "phone")):
            buyer.count("bad_requests")
            return Answer.json({"status": "rejected", "reason": f"missing {', '.join(missing)}"})
        verdict = buyer.verdict(roll.verdict)
        if verdict == "accepted":
            prefix = buyer.sim.id.split("-", 1)[0].upper()
            lead_id = f"{prefix}-{roll.serial}"
            return Answer.json({"status": "accepted", "lead_id": lead_id, "price": str(price)})
        if verdict == "duplicate":
            return Answer.json({"status": "duplicate", "reason": "lead already bought"})
        return Answer.json({"status": "rejected", "reason": roll.reason})

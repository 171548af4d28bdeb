"""Response rules decide what a buyer's answer means; extracts read values from it."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from engine.compiler.context import CompileContext
from engine.compiler.response import NO_RULE, compile_response
from engine.dsl.loader import load_yaml_text
from engine.dsl.models import ResponseSpec
from engine.plan import Interpretation, ResponsePlan
from engine.positions import Span

JSON = {"content-type": "application/json"}


def plan_for(text: str) -> ResponsePlan:
    """Compile the ``response:`` section written in ``text`` (which must be valid)."""
    doc = load_yaml_text(textwrap.dedent(text), "buyer.yaml")
    ctx = CompileContext(doc.source)
    plan = compile_response(ResponseSpec.model_validate(doc.data["response"]), ("response",), ctx)
    assert plan is not None, [i.render() for i in ctx.issues]
    return plan


def read(
    plan: ResponsePlan, body: str | bytes, status: int = 200, **headers: str
) -> Interpretation:
    raw = body.encode() if isinstance(body, str) else body
    return plan.interpret(status, {k.replace("_", "-"): v for k, v in headers.items()}, raw)


JSON_BUYER = plan_for(
    """
    response:
      rules:
        - if: "status == 'accepted'"
          outcome: accepted
        - if: "status == 'duplicate'"
          outcome: duplicate
        - if: "status == 'rejected'"
          outcome: rejected
        - status: 409
          outcome: duplicate
          reason: already sold to us
      extract:
        buyer_lead_id: lead_id
        price: price
        reason: "errors[].message"
        ping_id: ping_id
    """
)


def test_json_accepted_with_values() -> None:
    """An accepted JSON answer gives its id, a Decimal price and keeps a numeric id a number."""
    r = read(JSON_BUYER, '{"status": "accepted", "lead_id": "A-1", "price": 12.5, "ping_id": 77}')
    assert r.decision == "accepted"
    assert r.values == {"buyer_lead_id": "A-1", "price": Decimal("12.5"), "ping_id": 77}
    assert r.price == Decimal("12.5")
    assert r.reason is None


def test_rule_span_points_at_the_deciding_rule() -> None:
    """Interpretation.rule is where the deciding rule is written (the second rule, line 6)."""
    r = read(JSON_BUYER, '{"status": "duplicate"}')
    assert r.decision == "duplicate"
    assert r.rule == Span("buyer.yaml", 6, 7)


def test_200_with_rejection_body_is_rejected_with_every_reason() -> None:
    """A 200 whose body says rejected is a rejection; several reasons are joined with '; '."""
    body = '{"status": "rejected", "errors": [{"message": "bad zip"}, {"message": "renter"}]}'
    r = read(JSON_BUYER, body)
    assert (r.decision, r.reason) == ("rejected", "bad zip; renter")
    assert r.values["reason"] == "bad zip; renter"


@pytest.mark.parametrize("status", [400, 404, 422, 500, 503])
def test_error_status_is_never_success_by_default(status: int) -> None:
    """A 4xx/5xx saying "accepted" is not a sale: no rule applies, the runtime classifies it."""
    r = read(JSON_BUYER, '{"status": "accepted", "lead_id": "A-1"}', status=status)
    assert r.decision is None
    assert r.values == {"buyer_lead_id": "A-1"}


def test_explicit_status_rule_decides_a_4xx_with_its_reason() -> None:
    """A rule naming status 409 decides that response, with its own reason."""
    r = read(JSON_BUYER, '{"errors": [{"message": "dup"}]}', status=409)
    assert (r.decision, r.reason, r.values["reason"]) == (
        "duplicate",
        "already sold to us",
        r.reason,
    )


def test_2xx_matching_no_rule_is_an_error() -> None:
    """A 2xx no rule explains is an error (bad response), whatever else it says."""
    r = read(JSON_BUYER, '{"status": "maybe"}')
    assert (r.decision, r.reason) == ("error", NO_RULE)
    assert r.rule == Span("buyer.yaml", 3, 3)  # no `otherwise:` written: the response section


def test_no_rule_error_keeps_the_buyers_reason() -> None:
    """The extracted reason is kept after the no-rule message."""
    r = read(JSON_BUYER, '{"status": "maybe", "errors": [{"message": "try later"}]}')
    assert r.reason == f"{NO_RULE}: try later"


def test_otherwise_sets_the_outcome_of_unmatched_2xx() -> None:
    """``otherwise: rejected`` turns an unmatched 2xx into a rejection with the buyer's reason."""
    plan = plan_for(
        """
        response:
          rules:
            - if: ok
              outcome: accepted
          otherwise: rejected
          extract: {reason: message}
        """
    )
    assert read(plan, '{"ok": false, "message": "no"}').decision == "rejected"
    assert read(plan, '{"ok": false, "message": "no"}').reason == "no"
    assert read(plan, '{"ok": false}').reason == NO_RULE
    assert read(plan, '{"ok": true}').decision == "accepted"


def test_unparseable_json_on_2xx_is_an_error_with_the_start_of_the_body() -> None:
    """JSON that is not JSON: decision error, reason shows the first 80 characters."""
    r = read(JSON_BUYER, "<html>" + "x" * 200)
    assert r.decision == "error"
    assert r.reason == "expected JSON but got: <html>" + "x" * 74 + "…"
    assert r.values == {}


def test_unparseable_body_on_error_status_is_left_to_the_runtime() -> None:
    """A 502 HTML page under body json: no decision and no reason from the rules."""
    r = read(JSON_BUYER, "<html>Bad gateway</html>", status=502)
    assert (r.decision, r.values, r.reason) == (None, {}, None)


def test_empty_body_on_2xx() -> None:
    """An empty 200 is an error saying the body was empty."""
    assert read(JSON_BUYER, "").reason == "expected JSON but got an empty body"


def test_json_served_as_text_html_is_read_as_json() -> None:
    """The Content-Type is ignored: body json reads JSON labelled text/html."""
    r = read(JSON_BUYER, '{"status": "accepted"}', content_type="text/html; charset=utf-8")
    assert r.decision == "accepted"


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ('"12.50"', Decimal("12.50")),
        ('"$1,250.00"', Decimal("1250.00")),
        ("0", Decimal("0")),
        ('"0.00"', Decimal("0.00")),
        ("35", Decimal("35")),
    ],
    ids=["text", "dollars-and-commas", "zero-number", "zero-text", "integer"],
)
def test_prices_as_numbers_or_strings(price: str, expected: Decimal) -> None:
    """Prices become Decimal whether sent as numbers or text; zero stays zero."""
    r = read(JSON_BUYER, f'{{"status": "accepted", "price": {price}}}')
    assert r.values["price"] == expected
    assert isinstance(r.values["price"], Decimal)


def test_unreadable_price_is_left_out_with_a_note() -> None:
    """A price that is not a number is not kept; the reason says why."""
    r = read(JSON_BUYER, '{"status": "accepted", "price": "call us"}')
    assert r.decision == "accepted"
    assert "price" not in r.values
    assert r.reason == "the price 'call us' is not a number"


def test_failing_condition_at_run_time_is_an_error_not_an_exception() -> None:
    """A JMESPath type error while checking a rule becomes an error decision."""
    plan = plan_for(
        """
        response:
          rules:
            - {if: "length(count) > `1`", outcome: accepted}
        """
    )
    r = read(plan, '{"count": 5}')
    assert r.decision == "error"
    assert r.reason is not None and r.reason.startswith("rule 1 could not be checked: ")
    assert read(plan, '{"count": 5}', status=500).decision is None


@pytest.mark.parametrize(
    ("body", "decision"),
    [
        ('{"success": true}', "accepted"),
        ('{"success": "true"}', "accepted"),
        ('{"success": 1}', "accepted"),
        ('{"success": false}', "error"),
        ('{"success": "false"}', "error"),
        ('{"success": "FALSE"}', "error"),
        ('{"success": 0}', "error"),
        ('{"success": "0"}', "error"),
        ('{"success": ""}', "error"),
        ('{"success": []}', "error"),
        ('{"success": null}', "error"),
        ("{}", "error"),
    ],
)
def test_if_truthiness(body: str, decision: str) -> None:
    """`if` holds unless null, false, 0, empty, or the text "false"/"0"."""
    plan = plan_for("response:\n  rules:\n    - {if: success, outcome: accepted}\n")
    assert read(plan, body).decision == decision


TEXT_BUYER = plan_for(
    r"""
    response:
      body: text
      rules:
        - match: '^OK\|(?P<buyer_lead_id>\d+)'
          outcome: accepted
        - match: '^ERROR\|.*duplicate'
          outcome: duplicate
        - match: '^ERROR\|'
          outcome: rejected
      extract:
        reason: '^ERROR\|(?P<value>.*)$'
        code: 'code=(\w+)'
    """
)


def test_text_buyer_ok_with_named_capture() -> None:
    """`OK|123` is accepted; the named group becomes the buyer_lead_id (text)."""
    r = read(TEXT_BUYER, "OK|123")
    assert (r.decision, r.values) == ("accepted", {"buyer_lead_id": "123"})


@pytest.mark.parametrize(
    ("body", "decision", "reason"),
    [
        ("ERROR|Vehicle too old", "rejected", "Vehicle too old"),
        ("ERROR|duplicate within 30 days", "duplicate", "duplicate within 30 days"),
        ("NOT OK|123", "error", NO_RULE),
    ],
)
def test_text_buyer_errors(body: str, decision: str, reason: str) -> None:
    """`ERROR|reason` is a rejection with that reason; an unknown answer is an error."""
    r = read(TEXT_BUYER, body)
    assert (r.decision, r.reason) == (decision, reason)


def test_regex_extract_uses_group_one_without_value_group() -> None:
    """A regex without a `value` group gives its first group."""
    assert read(TEXT_BUYER, "ERROR|x code=R17").values["code"] == "R17"


def test_text_charset_from_content_type() -> None:
    """Text is decoded with the Content-Type charset (here Latin-1)."""
    r = read(
        TEXT_BUYER, "ERROR|Müller".encode("latin-1"), content_type="text/plain; charset=ISO-8859-1"
    )
    assert r.reason == "Müller"


def test_text_with_bad_bytes_is_decoded_with_replacement() -> None:
    """Undecodable bytes never fail the read."""
    assert read(TEXT_BUYER, b"ERROR|\xff\xfe").reason == "\ufffd\ufffd"


XML_BUYER = plan_for(
    """
    response:
      body: xml
      rules:
        - if: "Response.Status == 'Accepted'"
          outcome: accepted
        - if: "Response.Status == 'Rejected'"
          outcome: rejected
      extract:
        buyer_lead_id: Response.LeadId
        price: Response.Price
        reason: Response.Errors.Error
    """
)


def test_xml_buyer_accepted_with_attribute_price() -> None:
    """XML values are read with JMESPath; an element with attributes gives its text."""
    body = (
        '<?xml version="1.0"?><Response><Status>Accepted</Status><LeadId>K-1</LeadId>'
        '<Price currency="USD">$27.50</Price></Response>'
    )
    r = read(XML_BUYER, body)
    assert (r.decision, r.values) == (
        "accepted",
        {"buyer_lead_id": "K-1", "price": Decimal("27.50")},
    )


def test_xml_repeated_elements_are_joined_reasons() -> None:
    """Two <Error> elements become one reason joined with '; '."""
    body = (
        "<Response><Status>Rejected</Status>"
        "<Errors><Error>Renter</Error><Error>Bad ZIP</Error></Errors></Response>"
    )
    assert read(XML_BUYER, body).reason == "Renter; Bad ZIP"


def test_xml_mislabelled_as_text_html() -> None:
    """XML sent as text/html with a leading newline is still read as XML."""
    body = "\n<?xml version='1.0'?>\n<Response><Status>Accepted</Status></Response>"
    assert read(XML_BUYER, body, content_type="text/html").decision == "accepted"


BROKEN_XML = "<Response><Status>Accepted</Status><LeadId>K-9</LeadId></Response"


def test_malformed_xml_strict_is_a_bad_response() -> None:
    """Without lenient_xml, malformed XML on a 2xx is an error naming the problem."""
    r = read(XML_BUYER, BROKEN_XML)
    assert r.decision == "error"
    assert r.reason is not None
    assert r.reason.startswith(f"expected XML but got: {BROKEN_XML} (malformed XML: ")


def test_malformed_xml_lenient_is_recovered() -> None:
    """With lenient_xml: true the same body is read."""
    plan = plan_for(
        """
        response:
          body: xml
          lenient_xml: true
          rules: [{if: "Response.Status == 'Accepted'", outcome: accepted}]
          extract: {buyer_lead_id: Response.LeadId}
        """
    )
    r = read(plan, BROKEN_XML)
    assert (r.decision, r.values) == ("accepted", {"buyer_lead_id": "K-9"})


def test_soap_fault_on_500_with_status_rule() -> None:
    """Namespace prefixes are dropped; a status-500 rule reads a SOAP fault."""
    plan = plan_for(
        """
        response:
          body: xml
          rules:
            - {status: 500, if: Envelope.Body.Fault, outcome: rejected}
          extract: {reason: Envelope.Body.Fault.faultstring}
        """
    )
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>Token expired</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    )
    r = read(plan, body, status=500)
    assert (r.decision, r.reason) == ("rejected", "Token expired")


HTML_BUYER = plan_for(
    """
    response:
      body: html
      rules:
        - {select: div.result.success, outcome: accepted}
        - {select: div.result, contains: duplicate, outcome: duplicate}
        - {select: div.result, outcome: rejected}
      extract:
        buyer_lead_id: span.lead-id
        redirect_url: a.next @href
        reason: div.result p
    """
)


def test_html_buyer_success_page() -> None:
    """CSS selectors decide and extract text; `selector @attr` reads an attribute."""
    body = (
        '<html><body><div class="result success">Thanks! Lead <span class="lead-id"> BW-1 '
        '</span><a class="next" href="https://b.example/t/1">go</a></div></body></html>'
    )
    r = read(HTML_BUYER, body)
    assert (r.decision, r.values) == (
        "accepted",
        {"buyer_lead_id": "BW-1", "redirect_url": "https://b.example/t/1"},
    )


def test_html_buyer_rejection_with_several_messages() -> None:
    """Every matching element's text is one reason, joined with '; '."""
    body = '<div class="result error"><p>ZIP not\n served</p><p>Renter</p></div>'
    r = read(HTML_BUYER, body)
    assert (r.decision, r.reason) == ("rejected", "ZIP not served; Renter")


def test_html_all_conditions_must_hold() -> None:
    """A rule decides only when select AND contains hold."""
    assert read(HTML_BUYER, '<div class="result">duplicate lead</div>').decision == "duplicate"


def test_contains_and_catch_all() -> None:
    """`contains` is a plain, case-sensitive substring; a last rule without conditions catches
    every other 2xx."""
    plan = plan_for(
        """
        response:
          body: text
          rules:
            - {contains: "Lead Accepted", outcome: accepted}
            - {outcome: rejected}
        """
    )
    assert read(plan, "<b>Lead Accepted</b>").decision == "accepted"
    assert read(plan, "lead accepted").decision == "rejected"
    assert read(plan, "lead accepted", status=400).decision is None


def test_status_lists_and_classes() -> None:
    """`status` takes a code, a class or a list of them."""
    plan = plan_for(
        """
        response:
          body: text
          rules:
            - {status: [200, 201], contains: ok, outcome: accepted}
            - {status: 4XX, outcome: rejected}
            - {status: "503", outcome: error}
        """
    )
    assert [read(plan, "ok", status=s).decision for s in (200, 201, 202, 418, 503, 500)] == [
        "accepted",
        "accepted",
        "error",
        "rejected",
        "error",
        None,
    ]


def test_extract_on_error_status_when_body_parses() -> None:
    """Values are extracted from a 4xx too, for the runtime's logs."""
    r = read(JSON_BUYER, '{"errors": [{"message": "zip is invalid"}]}', status=422)
    assert (r.decision, r.reason, r.values) == (
        None,
        "zip is invalid",
        {"reason": "zip is invalid"},
    )

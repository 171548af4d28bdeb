"""Properties of the spec validators: any body gives violations, never an exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.contract.model import BuyerSpec, Violation
from engine.contract.paths import PayloadShape, present_paths
from engine.contract.spec import read_spec
from engine.dsl import models as m
from tests.contract_kit import FIXTURES

SPECS: dict[str, tuple[BuyerSpec, PayloadShape]] = {}


def _spec(name: str) -> tuple[BuyerSpec, PayloadShape]:
    if not SPECS:
        kinds = {
            "json": (m.ContractSpec(json_schema="acme.schema.json"), PayloadShape("json")),
            "openapi": (
                m.ContractSpec(openapi="summit.openapi.json", operation="createLead"),
                PayloadShape("json"),
            ),
            "form": (
                m.ContractSpec(openapi="summit.openapi.json", operation="createLeadForm"),
                PayloadShape("form"),
            ),
            "soap": (
                m.ContractSpec(xsd="lighthouse.xsd"),
                PayloadShape("xml", "PostLead", soap=True),
            ),
        }
        for kind, (ref, shape) in kinds.items():
            SPECS[kind] = (read_spec(ref, FIXTURES, shape), shape)
    return SPECS[name]


#: Bytes, and text shaped like each format (so the parsers get past the first character).
BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda v: repr(v).replace("'", '"').replace("None", "null").encode()),
    st.text(max_size=80).map(
        lambda t: (
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            f'<PostLead xmlns="http://lighthousedirect.com/">{t}</PostLead></soap:Body>'
            "</soap:Envelope>"
        ).encode("utf-8", "surrogatepass")
    ),
)


@given(kind=st.sampled_from(["json", "openapi", "form", "soap"]), body=BODIES)
def test_validate_never_raises(kind: str, body: bytes) -> None:
    """Any body gives a list of violations (a parse violation for unreadable ones)."""
    spec, shape = _spec(kind)
    found = spec.validate(body)
    assert isinstance(found, list) and all(isinstance(v, Violation) for v in found)
    assert present_paths(shape, body) is None or isinstance(present_paths(shape, body), frozenset)

"""SOAP stages: recognise the envelope, and check that a WS-Security login has one to go in."""

from __future__ import annotations

from typing import Final

from engine.compiler.context import CompileContext
from engine.compiler.encoders.xmlnames import codec_for
from engine.dsl import models as m
from engine.plan import SoapEnvelope

#: The envelope namespaces of SOAP 1.1 and SOAP 1.2.
SOAP_NAMESPACES: Final = frozenset(
    {"http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope"}
)


def soap_envelope(stage: m.StageSpec) -> SoapEnvelope | None:
    """The stage's SOAP envelope: an XML body whose root is ``Envelope`` in a SOAP namespace."""
    xml = stage.xml
    if stage.format != "xml" or xml is None or stage.wrap_in_form is not None:
        return None
    prefix, _, local = xml.root.strip().rpartition(":")
    namespace = xml.namespaces.get(prefix) if prefix else xml.default_namespace
    codec = codec_for(xml.encoding)
    if local != "Envelope" or namespace not in SOAP_NAMESPACES or codec is None:
        return None
    return SoapEnvelope(xml.root.strip(), prefix, namespace, codec)


def check_wsse(spec: m.IntegrationSpec, ctx: CompileContext) -> None:
    """LP361: a WS-Security login goes in a SOAP header, so every stage must be SOAP."""
    if not isinstance(spec.auth, m.WsseSpec):
        return
    for name in ("ping", "post"):
        stage = getattr(spec.stages, name)
        if stage is not None and soap_envelope(stage) is None:
            ctx.error(
                "LP361",
                f"auth type wsse_username_token puts the login in the SOAP header, but the "
                f"{name} stage does not send a SOAP envelope",
                ("auth", "type"),
                hint=f"give the {name} stage format: xml with xml.root soap:Envelope and "
                "xml.namespaces.soap: http://schemas.xmlsoap.org/soap/envelope/",
            )

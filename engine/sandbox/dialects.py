"""The registry of buyer dialects: one responder per buyer format, looked up by name.

=============  =========================================================================
dialect        speaks like
=============  =========================================================================
harbor         Harbor Mutual: JSON post, ``X-Api-Key``, 200/422 JSON answers
keystone       Keystone: ISO-8859-1 XML post, HTTP Basic, (sometimes sloppy) XML answers
prairie        Prairie: form post, key in the query, ``OK|id`` / ``ERROR|reason`` text
salesforce     Summit: OAuth client credentials, sobjects Lead JSON, 201 / 400 error arrays
beacon         Beacon: JSON ping (numeric ping id) and post, bearer token
lighthouse     Lighthouse: XML ping (auction token), SOAP 1.1 post, ``X-LH-Key``
bluewater      Bluewater: form field holding XML, HTML answer pages
evergreen      Evergreen Life: SOAP 1.1 post behind a WS-Security UsernameToken (digest)
generic-json   any ping/post buyer: JSON ping and post, ``X-Api-Key`` (see engine.sandbox)
=============  =========================================================================
"""

from __future__ import annotations

from types import MappingProxyType

from engine.sandbox.base import Answer, Buyer, Dialect, Incoming, Route
from engine.sandbox.dice import Roll
from engine.sandbox.json_buyers import Beacon, GenericJson, Harbor, Salesforce
from engine.sandbox.markup_buyers import Bluewater, Keystone, Lighthouse, Prairie
from engine.sandbox.soap_buyers import Evergreen

DIALECTS: MappingProxyType[str, Dialect] = MappingProxyType(
    {
        d.name: d
        for d in (
            Harbor(),
            Keystone(),
            Prairie(),
            Salesforce(),
            Beacon(),
            Lighthouse(),
            Bluewater(),
            Evergreen(),
            GenericJson(),
        )
    }
)

__all__ = ["DIALECTS", "Answer", "Buyer", "Dialect", "Incoming", "Roll", "Route"]

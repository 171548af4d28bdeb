"""Does a constant written in a buyer file look like a secret? (for lint rule LP401)

Names alone mislead: a WS-Security header has ``UsernameToken.Username`` (a user name, inside an
element called a token) and ``Password.@Type`` (a public URI saying how the password is sent).
So the rule reads the **leaf** of the output name (``Username``, ``@Type``, without namespace
prefixes) and the **value**:

* a leaf named like a credential (``Password``, ``ApiKey``, ``client_secret``, ``Token``) holds
  a secret, whatever is written, unless the value is public (below);
* any other name holding ``key``, ``token``, ``secret`` or ``password`` somewhere (a parent
  element, a prefix) holds a secret only when the value looks random: long, without spaces,
  mixing letters and digits, with high entropy (``sk_live_4f9a8b…`` does, ``leadpost`` does not);
* a value is public when it is a URI without credentials or a query (the OASIS WS-Security
  ``…#PasswordText`` type, a schema namespace), or one of a few published constants.

An author settles any doubt with ``secret: false`` (or ``true``) in the field.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Final
from urllib.parse import urlsplit

#: Any part of a name that hints at a credential (the old rule: anywhere in the name).
SECRET_WORD: Final = re.compile(r"authorization|key|token|secret|password|passwd", re.IGNORECASE)
#: A leaf name that is a credential itself: the value is a secret whatever it looks like.
_CREDENTIAL_LEAF: Final = re.compile(
    r"(?:password|passwd|passphrase|secret|token|api[-_]?key|access[-_]?key|private[-_]?key"
    r"|secret[-_]?key|authorization|credentials?)$|^(?:key|pin|pwd)$",
    re.IGNORECASE,
)
_URI: Final = re.compile(r"^(?:[a-z][a-z0-9+.-]*://\S+|urn:[a-z0-9][a-z0-9-]{0,31}:\S+)$", re.I)
#: Published constants that appear in credential-looking places but are not secrets.
PUBLIC_CONSTANTS: Final = frozenset(
    {
        # OASIS WS-Security UsernameToken Profile 1.0 / 1.1 and SOAP Message Security 1.0.
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
        "#PasswordText",
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
        "#PasswordDigest",
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
        "#Base64Binary",
        "PasswordText",
        "PasswordDigest",
        "Base64Binary",
        "Bearer",
        "Basic",
    }
)
#: Shortest value that may pass for random, and the least entropy (bits per character).
_RANDOM_LENGTH: Final = 16
_RANDOM_BITS: Final = 3.0


def leaf_name(name: str) -> str:
    """The last part of an output name without namespace prefix, ``@`` or list position:
    ``soap:Header.wsse:Security.wsse:UsernameToken.wsse:Username`` -> ``Username``."""
    leaf = re.sub(r"\[\d*\]$", "", name.strip()).rsplit(".", 1)[-1]
    return leaf.lstrip("@").rsplit(":", 1)[-1]


def is_public(value: str) -> bool:
    """A value anyone may read: a published constant, or a URI without credentials or query."""
    text = value.strip()
    if text in PUBLIC_CONSTANTS:
        return True
    if not _URI.match(text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:  # an unreadable address is no published constant
        return False
    return parts.password is None and parts.username is None and not parts.query


def entropy(text: str) -> float:
    """Shannon entropy of the characters of ``text``, in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(value: str) -> bool:
    """True for text that looks machine-made: long, no spaces, letters and digits, varied."""
    text = value.strip()
    if len(text) < _RANDOM_LENGTH or any(c.isspace() for c in text):
        return False
    has_digit = any(c.isdigit() for c in text)
    has_letter = any(c.isalpha() for c in text)
    return has_digit and has_letter and entropy(text) >= _RANDOM_BITS


def looks_secret(name: str, value: str) -> bool:
    """True when constant ``value`` in the place called ``name`` should come from the
    environment instead (see the module's docstring for the reasoning)."""
    if is_public(value):
        return False
    if _CREDENTIAL_LEAF.search(leaf_name(name)):
        return True
    return SECRET_WORD.search(name) is not None and looks_random(value)

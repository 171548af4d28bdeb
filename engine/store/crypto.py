"""Encryption at rest: lead documents sealed with AES-256-GCM under a named key.

A key is 32 random bytes written as ``lpk1.<id>.<base64>`` (``leadpost keys new`` makes one);
its id is stored beside every sealed record, so a keyring holding the current key and older ones
reads every record while ``leadpost keys rotate`` re-seals the old ones under the current key.
The lead id is bound to each record as associated data: a sealed document copied onto another
lead's row does not open. ``cryptography``'s AESGCM does the work (never hand-written crypto).

Values that must be *found* while sealed (the suppression list's phones and emails) also get a
blind index: HMAC-SHA256 of the value under a key derived from each data key (the standard
library's ``hmac``; no library does less), so a lookup compares digests and the table holds no
value in clear. Rotation recomputes the digest under the new key.

Where keys come from (:func:`keyring_from_env`): ``LEADPOST_KEY`` (one key, or several separated
by commas: the first seals, all open), else ``LEADPOST_KEY_FILE`` (one key a line, the first
seals), else ``<data folder>/key`` when it exists. In production (``LEADPOST_ENV=production``)
no key is an error that says how to make one; elsewhere the caller may make an ephemeral key
(demo, tests), which leaves nothing readable once the process is gone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine.errors import LeadpostError

_PREFIX = "lpk1"
_NONCE = 12


class KeyError_(LeadpostError):
    """A key is missing, malformed, or does not open a record."""


@dataclass(frozen=True, slots=True)
class DataKey:
    """One AES-256 key and its id (the first 8 hex digits of its SHA-256, not secret)."""

    id: str
    secret: bytes

    @classmethod
    def generate(cls) -> DataKey:
        secret = secrets.token_bytes(32)
        return cls(hashlib.sha256(secret).hexdigest()[:8], secret)

    @classmethod
    def parse(cls, text: str) -> DataKey:
        """A key written by :meth:`text`; the error says what is wrong without echoing it."""
        parts = text.strip().split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise KeyError_(
                "a leadpost key looks like lpk1.<id>.<base64>; make one with `leadpost keys new`"
            )
        try:
            secret = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except (binascii.Error, ValueError):
            raise KeyError_(f"key {parts[1]} is not valid base64; make a new one") from None
        if len(secret) != 32 or hashlib.sha256(secret).hexdigest()[:8] != parts[1]:
            raise KeyError_(f"key {parts[1]} is damaged (wrong length or id); make a new one")
        return cls(parts[1], secret)

    def text(self) -> str:
        encoded = base64.urlsafe_b64encode(self.secret).decode().rstrip("=")
        return f"{_PREFIX}.{self.id}.{encoded}"


class Keyring:
    """The sealing key (first) and every key that may still open older records."""

    def __init__(self, keys: Iterable[DataKey], *, ephemeral: bool = False) -> None:
        self.keys = tuple({k.id: k for k in keys}.values())
        if not self.keys:
            raise KeyError_("a keyring needs at least one key")
        self.ephemeral = ephemeral
        """True for a key made for this process only (demo, tests)."""
        self._aead = {k.id: AESGCM(k.secret) for k in self.keys}
        self._index = {
            k.id: hmac.new(k.secret, b"leadpost blind index v1", hashlib.sha256).digest()
            for k in self.keys
        }  # a key of its own for the index: the AES key is used for nothing else

    @property
    def current(self) -> str:
        """The id of the key that seals new records."""
        return self.keys[0].id

    def seal(self, plain: bytes, bound_to: str) -> tuple[str, bytes]:
        """(key id, nonce + ciphertext) of ``plain``, bound to ``bound_to`` (the lead id)."""
        nonce = os.urandom(_NONCE)
        return self.current, nonce + self._aead[self.current].encrypt(
            nonce, plain, bound_to.encode()
        )

    def digest(self, value: str, key_id: str | None = None) -> str:
        """The blind index of ``value`` under ``key_id`` (default: the current key)."""
        key = self._index[key_id or self.current]
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    def digests(self, value: str) -> list[str]:
        """The blind index of ``value`` under every key (the current key's first)."""
        return [self.digest(value, k.id) for k in self.keys]

    def open(self, key_id: str, sealed: bytes, bound_to: str) -> bytes:
        aead = self._aead.get(key_id)
        if aead is None:
            raise KeyError_(
                f"the record was sealed with key {key_id}, which is not configured; add it to"
                " LEADPOST_KEY (after the current key, separated by a comma) or the key file"
            )
        try:
            return aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], bound_to.encode())
        except InvalidTag:
            raise KeyError_(
                f"the record of {bound_to} does not open with key {key_id}: it was altered"
                " or belongs to another lead"
            ) from None


NO_KEY_HELP = (
    "no encryption key is configured, and leadpost does not store leads in clear in"
    " production. Make one with `leadpost keys new > /secure/place/leadpost.key`, then set"
    " LEADPOST_KEY_FILE=/secure/place/leadpost.key (or LEADPOST_KEY to its text)"
)


def keyring_from_env(
    environ: Mapping[str, str], data: Path | None = None, *, allow_ephemeral: bool = False
) -> Keyring:
    """The keyring configured in ``environ`` (see the module docstring). Without one: an
    ephemeral key when ``allow_ephemeral`` and not in production, else :class:`KeyError_`."""
    text = environ.get("LEADPOST_KEY", "").strip()
    lines: list[str] = []
    if text:
        lines = [t for t in text.split(",") if t.strip()]
    elif environ.get("LEADPOST_KEY_FILE"):
        path = Path(environ["LEADPOST_KEY_FILE"])
        if not path.is_file():
            raise KeyError_(f"LEADPOST_KEY_FILE names {path}, which is not a file")
        lines = [t for t in path.read_text().splitlines() if t.strip()]
    elif data is not None and (data / "key").is_file():
        lines = [t for t in (data / "key").read_text().splitlines() if t.strip()]
    if lines:
        return Keyring(DataKey.parse(t) for t in lines)
    if allow_ephemeral and environ.get("LEADPOST_ENV", "").lower() != "production":
        return Keyring([DataKey.generate()], ephemeral=True)
    raise KeyError_(NO_KEY_HELP)

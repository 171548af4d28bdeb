"""``leadpost keys new`` / ``leadpost keys rotate``: the encryption keys of stored leads.

``new`` prints a new AES-256 key (``lpk1.<id>.<base64>``): keep it in a file only its owner can
read and point ``LEADPOST_KEY_FILE`` at it (or put its text in ``LEADPOST_KEY``). To rotate, put
the new key first and the old one after it (one a line in the file, or comma-separated in
``LEADPOST_KEY``) and run ``rotate``: every lead sealed with an older key is re-sealed with the
new one, and stays readable meanwhile. Remove the old key once ``rotate`` says it is done.
"""

from __future__ import annotations

import argparse

from engine.commands.output import EXIT_OK, out
from engine.commands.storage import the_store
from engine.store.crypto import DataKey
from engine.store.upkeep import rotate


def run(args: argparse.Namespace) -> int:
    if args.action == "new":
        out(DataKey.generate().text())
        return EXIT_OK
    store = the_store()
    try:
        count = rotate(store)
        current = store.keyring.current
    finally:
        store.close()
    out(
        f"re-sealed {count} records (lead documents and suppression-list entries) with key"
        f" {current}; every record now uses it"
    )
    return EXIT_OK


def configure(parser: argparse.ArgumentParser) -> None:
    """``keys new | keys rotate``."""
    parser.description = __doc__
    parser.add_argument("action", choices=("new", "rotate"))

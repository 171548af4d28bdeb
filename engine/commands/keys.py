"""``leadpost keys``: the encryption keys of stored leads, and the API keys of lead sources.

``new`` prints a new AES-256 key (``lpk1.<id>.<base64>``): keep it in a file only its owner can
read and point ``LEADPOST_KEY_FILE`` at it (or put its text in ``LEADPOST_KEY``). To rotate, put
the new key first and the old one after it (one a line in the file, or comma-separated in
``LEADPOST_KEY``) and run ``rotate``: every lead sealed with an older key is re-sealed with the
new one, and stays readable meanwhile. Remove the old key once ``rotate`` says it is done.

``add-source NAME --campaign C [--campaign D]`` makes an API key with which the lead source NAME
may post leads to those campaigns (``leadpost serve``); the key is printed once and only its
hash is stored. ``add-operator NAME`` makes an operator's key (pause or resume a buyer, offer a
lead again, on the service; each action audited). ``sources`` lists the holders of live keys;
``revoke-source NAME`` revokes every key of a source or operator.
"""

from __future__ import annotations

import argparse

from engine.commands.output import EXIT_OK, EXIT_PROBLEMS, out
from engine.commands.storage import the_store
from engine.store.crypto import DataKey
from engine.store.sources import add_source, list_sources, revoke_source
from engine.store.upkeep import rotate


def _sources(args: argparse.Namespace) -> int:
    store = the_store()
    try:
        if args.action == "add-source":
            if not args.name or not args.campaign:
                out("name the source and at least one --campaign (or --campaign '*' for all)")
                return EXIT_PROBLEMS
            key = add_source(store, args.name, args.campaign)
            out(key)
            out(
                f"the API key of source {args.name} for {', '.join(sorted(set(args.campaign)))}:"
                " give it to the source now; it is not shown again (only its hash is stored)"
            )
            return EXIT_OK
        if args.action == "add-operator":
            if not args.name:
                out("name the operator")
                return EXIT_PROBLEMS
            key = add_source(store, args.name, ["*"], role="operator")
            out(key)
            out(
                f"the API key of operator {args.name} (pause and resume buyers, redeliver leads"
                " on `leadpost serve`; every action is audited): it is not shown again"
            )
            return EXIT_OK
        if args.action == "revoke-source":
            if not args.name:
                out("name the source whose keys to revoke")
                return EXIT_PROBLEMS
            count = revoke_source(store, args.name)
            out(f"revoked {count} keys of source {args.name}")
            return EXIT_OK if count else EXIT_PROBLEMS
        found = list_sources(store)
        for source, keys in found:
            plural = "s" if keys > 1 else ""
            what = "operator" if source.operator else ", ".join(source.campaigns)
            out(f"{source.name}  {keys} key{plural}  {what}")
        if not found:
            out("no lead sources yet: add one with `leadpost keys add-source NAME --campaign C`")
        return EXIT_OK
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:
    if args.action == "new":
        out(DataKey.generate().text())
        return EXIT_OK
    if args.action in ("add-source", "add-operator", "revoke-source", "sources"):
        return _sources(args)
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
    """``keys new | rotate | add-source NAME --campaign C | add-operator NAME | sources |
    revoke-source NAME``."""
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("action", choices=("new", "rotate", "add-source", "add-operator",
                                           "sources", "revoke-source"))  # fmt: skip
    parser.add_argument("name", nargs="?", default=None, metavar="NAME", help="the lead source")
    parser.add_argument(
        "--campaign", action="append", default=[], metavar="C",
        help="a campaign the source may post to (repeat for several; '*' for every campaign)",
    )  # fmt: skip

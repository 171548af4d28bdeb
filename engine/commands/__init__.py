"""The ``leadpost`` subcommands: one module each, the only code that prints or exits.

Every module here has ``configure(parser)``, which adds its arguments, and ``run(args)``, which
does the work and returns the exit code (:mod:`engine.commands.output`). :data:`COMMANDS` is the
table the command line is built from; a command's module is imported only when it runs, so
``leadpost --help`` and a quick ``leadpost lint`` do not pay for the HTTP runtime.
"""

from __future__ import annotations

#: Subcommand name -> the one line ``leadpost --help`` shows. The module is
#: ``engine.commands.<name>``.
COMMANDS: dict[str, str] = {
    "init": "write a starter project (lead schema, buyer, campaign, sandbox, CI) in a folder",
    "new": "write a new buyer file (drafted from the buyer's spec with --from-spec) or campaign",
    "lint": "check buyer files for mistakes and risky settings",
    "test": "run the test cases written in buyer files",
    "render": "show the exact HTTP request for a lead",
    "explain": "describe a buyer or campaign file in plain English",
    "fmt": "rewrite buyer files in the canonical layout",
    "schema": "JSON Schemas of every kind of file, for editors (--write), and of the reports",
    "diff": "what changed in buyer and campaign files between two versions, in plain English",
    "spec": "compare the buyer's new published spec with the one the buyer file names",
    "post": "send a lead to the buyer for real and show what happened",
    "route": "sell one lead through a campaign for real and show every step",
    "preflight": "run the go-live checklist against the buyer's test environment",
    "suppress": "add a do-not-contact list (phones, emails) to the store's suppression list",
    "sandbox": "serve simulated buyers on 127.0.0.1 to try integrations without a real buyer",
    "demo": "run the whole pipeline on simulated buyers",
    "serve": "take leads over HTTP from sources and sell them; metrics, dashboard, alerts",
    "worker": "run due retries and recover leads left behind by stopped processes",
    "history": "a lead's whole delivery trail, or a buyer's attempts over a time",
    "redeliver": "offer a parked or failed lead again (never a sold one)",
    "stats": "per buyer: posts, outcomes, latency, revenue and returns",
    "return": "record that a buyer returned a lead for credit",
    "returns": "import a buyer's returns from a CSV file",
    "purge": "delete lead documents past retention, keeping counters and masked audit rows",
    "keys": "encryption keys (new, rotate) and lead sources' API keys (add-source, ...)",
    "db": "the store's schema: upgrade, status, archive old attempts",
}


def module_name(command: str) -> str:
    """The module implementing ``command``."""
    return f"engine.commands.{command}"

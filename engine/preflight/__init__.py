"""``leadpost preflight``: the go-live checklist run against a buyer's test environment.

:mod:`~engine.preflight.checks` holds the items that need no network,
:mod:`~engine.preflight.sending` those that send through the runtime,
:mod:`~engine.preflight.run` runs them all, :mod:`~engine.preflight.report` renders the report
and :mod:`~engine.commands.preflight` is the command line.
"""

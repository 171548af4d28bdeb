"""The service (``leadpost serve``): HTTP intake of leads, metrics, dashboard, alerts.

One process holds one long-lived runtime (OAuth tokens, breakers, limiters and warm connections
shared by every lead), one router and one worker on the durable store. :mod:`.app` builds the
Starlette application; :mod:`.intake` checks a request, :mod:`.auth` its source's key,
:mod:`.admission` whether the process can take another auction in time, :mod:`.metrics` counts
for Prometheus, :mod:`.dashboard` serves the operator's page and :mod:`.alerts` the guide's
alert rules. :mod:`.catalog` is what the service sells: campaigns and their lead schemas.
"""

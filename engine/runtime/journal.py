"""The journal seam: what the runtime tells the store around every post it sends.

:class:`AttemptJournal` is implemented by :class:`engine.store.journal.DurableStore`. The
runtime awaits :meth:`~AttemptJournal.sending` right before a post's request leaves — the intent
is committed first, so a process that dies while the post is on the wire leaves a ``sending``
row that recovery turns into ``unknown`` — and hands every post's outcome to
:meth:`~AttemptJournal.answered`, which queues it without waiting. Pings never wait on a disk.
"""

from __future__ import annotations

from typing import Protocol

from engine.runtime.outcome import Outcome


class AttemptJournal(Protocol):
    async def sending(
        self, lead_id: str, buyer: str, stage: str, attempt: int, key: str | None
    ) -> None:
        """Commit the intent of attempt ``attempt`` of ``stage`` (not a ping) to ``buyer``."""
        ...

    def answered(self, lead_id: str, outcome: Outcome) -> None:
        """Queue the outcome of an attempt whose intent was (or may have been) written."""
        ...

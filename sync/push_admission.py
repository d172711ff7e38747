"""The parent's admission of pushes: how many children may stream their backlogs in at once.

Why this exists: when every county of a province reconnects at once (after a network cut, a
restart of the hub, 3·15 morning), each one opens a ``PushEvents`` stream with a backlog. Each
stream costs the parent signature checks on its blocking pool and transactions on its one log
writer; fifty at once would queue behind each other, starve the intake calls that share that
writer and pool, and end in wait-limit expiries for everyone. So the parent takes a bounded
number of pushes at a time (the node's ``max_pushes`` setting) and refuses one more as
``sync.errors.Busy``: RESOURCE_EXHAUSTED with the ``grpc-retry-pushback-ms`` trailer
(``node.edge.errors``) saying when to come back. The child (``sync.client.ParentLink``) waits
that long, with jitter, and tries again; nothing was taken from the refused push, so a retry
starts from the parent's heads as if the first attempt had never been made.

The hint grows with the refusals not yet worked off, so that a crowd spreads itself over time
rather than coming back as one crowd: ``base_hint_ms`` for every ``max_pushes`` refusals
outstanding (this one included), capped at ``max_hint_ms``; each push that finishes works off
``max_pushes`` of them (the slot it frees is soon taken by one of the refused, who come back in
waves of about that size).

Counted on the event loop's thread (where the servicer runs): no lock is needed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sync.errors import Busy

BASE_HINT_MS = 250
"""The retry hint for one refused push when the parent is merely full."""

MAX_HINT_MS = 5_000
"""The longest a refused child is told to wait, however long the queue of refusals."""


def default_max_pushes(cpus: int | None = None) -> int:
    """Pushes at once sized for the machine: one per core, at least two.

    A push is bound by signature checks (one core each at most) and by the one log writer, so
    more pushes than cores only lengthen every push and the intake calls beside them.
    """
    return max(2, cpus if cpus is not None else (os.cpu_count() or 2))


@dataclass
class AdmissionCounts:
    """What the admission did since start (for the storm's report and ``node.metrics``)."""

    admitted: int = 0
    refused: int = 0
    finished: int = 0
    peak: int = 0
    """The most pushes served at once."""


class PushAdmission:
    """Admits at most ``max_pushes`` pushes at once; one more raises ``Busy`` with a hint."""

    def __init__(
        self,
        max_pushes: int = 0,
        *,
        base_hint_ms: int = BASE_HINT_MS,
        max_hint_ms: int = MAX_HINT_MS,
    ) -> None:
        if max_pushes < 0:
            raise ValueError(
                f"max_pushes must be 0 (sized for the machine) or more, not {max_pushes}"
            )
        self.max_pushes = max_pushes or default_max_pushes()
        self._base_hint_ms = base_hint_ms
        self._max_hint_ms = max_hint_ms
        self.in_flight = 0
        """Pushes being served now."""
        self._refused_since_release = 0
        self.counts = AdmissionCounts()

    def retry_hint_ms(self) -> int:
        """How long a child refused now should wait: longer as refusals pile up."""
        waiting = self._refused_since_release + 1
        rounds = -(-waiting // self.max_pushes)  # pushes to finish before this one's turn
        return min(self._max_hint_ms, self._base_hint_ms * rounds)

    def _refuse(self, child: str) -> Busy:
        hint = self.retry_hint_ms()
        self._refused_since_release += 1
        self.counts.refused += 1
        return Busy(
            f"the parent takes {self.max_pushes} pushes at once and is taking as many; "
            f"{child} is to push again later",
            retry_after_ms=hint,
        )

    @asynccontextmanager
    async def admitted(self, child: str) -> AsyncIterator[None]:
        """The block of one push, holding a slot; ``Busy`` at once when none is free.

        The slot is given back however the push ends: finished, failed or cancelled (a child
        that hung up mid-stream).
        """
        if self.in_flight >= self.max_pushes:
            raise self._refuse(child)
        self.in_flight += 1
        self.counts.admitted += 1
        self.counts.peak = max(self.counts.peak, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1
            self.counts.finished += 1
            self._refused_since_release = max(0, self._refused_since_release - self.max_pushes)

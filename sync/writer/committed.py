"""``CommittedStates``: ticket states the writer folded and committed, kept for its next folds.

Why: a ticket the writer changed is usually changed again soon (the deadline sweep's reminders,
then its escalation; an officer's next step), and reading its committed events back and
folding them again is most of what such a job costs (docs/benchmarks.md, "the deadline sweep").
The writer keeps, for the tickets its last transactions folded, the state and the exact set of
counted event ids it was folded from.

A kept state is never trusted: a transaction uses one only after reading, in its own
transaction, the ids of the ticket's counted events and finding exactly that set
(``sync.writer.events.EventBuffer.prefetch``). Another process of the same hub
(docs/scaling.md) may have appended to the ticket, or a revocation may have stopped counting
one of its events; either changes the set, and the ticket is folded afresh. The fold depends
on nothing but the set of events (``core.ticket.fold.fold``: any order, duplicates once), so
an equal set means an equal state.

Only committed states go in: the writer puts them after its transaction committed, and drops
everything when a transaction fails (``sync.writer.transaction.commit_group``), so what it
keeps in memory is all or nothing as what it wrote is. Used on the writer thread only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from core.ticket.state import TicketState

CAPACITY = 10_000
"""Tickets kept at most, the least recently used going first: as many as one sweep finds due
(``node.jobs.deadlines``), at some 3-4 KB each (a registered ticket's state, measured with
``tracemalloc``, and its event ids), so some 40 MB at most."""


@dataclass(frozen=True, slots=True)
class CommittedState:
    """A ticket's state as committed, with the ids of the counted events it folds."""

    events: frozenset[str]
    state: TicketState


class CommittedStates:
    """A bounded map of ticket id to ``CommittedState``, least recently used out first."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a cache of committed states holds at least one ticket")
        self._capacity = capacity
        self._kept: OrderedDict[str, CommittedState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def __contains__(self, ticket_id: object) -> bool:
        return ticket_id in self._kept

    def held(self, ticket_ids: Iterable[str]) -> dict[str, CommittedState]:
        """The kept states of those of ``ticket_ids`` it holds (still to be checked)."""
        found: dict[str, CommittedState] = {}
        for ticket_id in ticket_ids:
            kept = self._kept.get(ticket_id)
            if kept is not None:
                self._kept.move_to_end(ticket_id)
                found[ticket_id] = kept
        return found

    def keep(self, ticket_id: str, events: frozenset[str], state: TicketState) -> None:
        """Keep ``state``, the fold of exactly the counted events ``events``, as committed."""
        self._kept[ticket_id] = CommittedState(events, state)
        self._kept.move_to_end(ticket_id)
        while len(self._kept) > self._capacity:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (a transaction failed: what it folded may not be committed)."""
        self._kept.clear()

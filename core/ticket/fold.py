"""Folding a ticket's events into its state, the same on every node.

Events reach a node in any order (a county offline for a week, a batch replayed). The fold
therefore never depends on arrival: it sorts the events by hybrid logical clock, then origin
node, then that node's sequence (a total order every node computes alike), drops exact
duplicates, and applies them one by one. An event that does not fit the state at its place is a
signed fact all the same: it is recorded as a conflict on the ticket, visible to supervisors,
and the rest of the fold goes on (DESIGN.md rule 2). Fitting means both that the state allows
it (``lifecycle.why_not``) and that the recording unit had the authority for it at that point
(``authority.why_unit_may_not``): an acceptance by a county the ticket was re-routed away from
while it was offline does not count.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.ticket.authority import why_unit_may_not
from core.ticket.events import RecordedEvent
from core.ticket.lifecycle import apply, copy_with, event_name, why_not
from core.ticket.state import Conflict, TicketState


def evolve(state: TicketState, recorded: RecordedEvent) -> TicketState:
    """The state after one more event in fold order; a misfit becomes a conflict."""
    officer, event = recorded.meta.officer, recorded.event
    reason = why_not(state, officer, event) or why_unit_may_not(state, officer, event)
    if reason is None:
        return apply(state, recorded.meta, recorded.event)
    conflict = Conflict(
        event_id=recorded.meta.event_id,
        event_type=event_name(recorded.event),
        origin_node=recorded.meta.origin_node,
        reason=reason,
    )
    return copy_with(
        state,
        {
            "conflicts": (*state.conflicts, conflict),
            "last_hlc": max(state.last_hlc, recorded.meta.hlc),
            "version": state.version + 1,
        },
    )


def fold(ticket_id: str, events: Iterable[RecordedEvent]) -> TicketState:
    """The state of ``ticket_id`` given all its events held here, in whatever order."""
    unique = {e.meta.event_id: e for e in events}
    state = TicketState(ticket_id=ticket_id)
    for recorded in sorted(unique.values(), key=lambda e: e.order_key):
        state = evolve(state, recorded)
    return state
